# Tries to widen its grants, and prints one JSON line per attempt: {"attempt", "ok",
# "detail"}; `ok` true means it got through. The test grants /g/r (read), /g/w (write)
# and the single file /g/f/cfg.py (read), not its folder; see sandbox.rs. Like escape.py it
# imports nothing of its own: it must run with its folder hidden.
import json
import os


def attempt(name, action):
    try:
        detail = action()
        print(json.dumps({"attempt": name, "ok": True, "detail": repr(detail)[:200]}))
    except BaseException as exc:  # noqa: B902 - every failure counts as blocked
        print(json.dumps({"attempt": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"[:200]}))


def read(path):
    with open(path, "rb") as f:
        return f.read(64)


def write(path):
    with open(path, "w") as f:
        f.write("escaped")
    return path


def listed(folder, name):
    names = os.listdir(folder)
    return names if name in names else (_ for _ in ()).throw(OSError(f"{name} not listed: {names}"))


def hidden_descriptors():
    """The grants' own descriptors, by number: the file grant's folder holds other.txt."""
    got = []
    for fd in range(9, 32):
        for name in ("other.txt", "a.txt"):
            try:
                got.append((fd, name, os.read(os.open(name, os.O_RDONLY, dir_fd=fd), 16)))
            except OSError:
                pass
        try:
            got.append((fd, os.fstat(fd).st_mode))
        except OSError:
            pass
    return got or (_ for _ in ()).throw(OSError("none reachable"))


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        pass

    def stop_acquisition(self):
        # Controls: what the grants do allow.
        attempt("read in the read grant", lambda: read("/g/r/a.txt"))
        attempt("write in the write grant", lambda: write("/g/w/ok.txt"))
        attempt("read the granted file", lambda: read("/g/f/cfg.py"))
        # Ways to widen them.
        attempt("read beside the read grant via ..", lambda: read("/g/r/../secret/s.txt"))
        attempt("read the host folder beside the grant", lambda: read("/g/r/" + "../" * 12 + "etc/passwd"))
        attempt("read through a symlink out of the grant", lambda: read("/g/r/out/passwd"))
        attempt("read through a symlink to a sibling", lambda: read("/g/r/up/s.txt"))
        attempt("write in the read grant", lambda: write("/g/r/new.txt"))
        attempt("append in the read grant", lambda: open("/g/r/a.txt", "a").write("x"))
        attempt("delete in the read grant", lambda: os.remove("/g/r/a.txt"))
        attempt("mkdir in the read grant", lambda: os.mkdir("/g/r/sub"))
        attempt("rename out of the read grant", lambda: os.rename("/g/r/a.txt", "/g/w/moved.txt"))
        attempt("hard link from the read grant", lambda: os.link("/g/r/a.txt", "/g/w/linked.txt"))
        attempt("file grant used as a folder", lambda: read("/g/f/cfg.py/x"))
        attempt("the granted file's sibling", lambda: read("/g/f/other.txt"))
        attempt("list the granted file's sibling", lambda: listed("/g/f", "other.txt"))
        attempt("write the granted (read) file", lambda: write("/g/f/cfg.py"))
        attempt("grant descriptors by number", hidden_descriptors)
        attempt("close a grant descriptor", lambda: [os.close(fd) for fd in range(9, 16)])
        attempt("symlink out of the write grant with ..", lambda: os.symlink("../r", "/g/w/to_r"))
        attempt("symlink to an absolute path", lambda: os.symlink("/etc", "/g/w/etc"))
        attempt("write above the grants", lambda: write("/g/x.txt"))
        attempt("create a folder above the grants", lambda: os.mkdir("/g/new"))
        attempt("write via /tmp/..", lambda: write("/tmp/../g/x.txt"))
        attempt("read in the read grant after the attempts", lambda: read("/g/r/a.txt"))
