# Tries to get out of the sandbox in every way a script might, and prints one JSON line per
# attempt: {"attempt": ..., "ok": bool, "detail": ...}. `ok` true means it got through.
# Host paths to try come from targets.json, which the test writes into the recording folder.
import json
import os
import socket
import subprocess


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


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        pass

    def start_recording(self, recording_dir):
        with open(os.path.join(recording_dir, "targets.json")) as f:
            t = json.load(f)
        attempt("read /etc/passwd", lambda: read("/etc/passwd"))
        attempt("list /", lambda: os.listdir("/"))
        attempt("list /usr/local/lib/..", lambda: os.listdir("/usr/local/lib/.."))
        attempt("read the home folder", lambda: os.listdir(t["home"]))
        attempt("read the script's folder", lambda: os.listdir(t["script_dir"]))
        attempt("read a file beside the recording", lambda: read(t["sibling_file"]))
        attempt("write the private /tmp", lambda: write("/tmp/pyproc-escaped.txt"))
        attempt("write via ..", lambda: write(os.path.join(recording_dir, "..", "..", "escaped.txt")))
        attempt("read through a symlink out", lambda: read(os.path.join(recording_dir, "link_out", "passwd")))
        attempt("write the stdlib", lambda: write("/usr/local/lib/python315.zip"))
        attempt("socket connect", lambda: socket.create_connection(("127.0.0.1", t["port"]), timeout=1))
        attempt("socket bind", lambda: socket.socket().bind(("127.0.0.1", 0)))
        attempt("subprocess", lambda: subprocess.run(["ls", "/"], capture_output=True))
        attempt("os.system", lambda: os.system("ls") == 0 or (_ for _ in ()).throw(OSError("os.system failed")))
        attempt("fork", lambda: os.fork())
        # pyproc sets matplotlib's three variables itself; anything else came from the host.
        own = {"MPLBACKEND", "MPLCONFIGDIR", "MATPLOTLIBRC"}
        attempt("host environment", lambda: {k: v for k, v in os.environ.items() if k not in own} or (_ for _ in ()).throw(LookupError("empty")))
        attempt("symlink out with ..", lambda: os.symlink("../../../../../../etc", os.path.join(recording_dir, "s_up")))
        attempt("symlink to an absolute path", lambda: os.symlink("/etc", os.path.join(recording_dir, "s_abs")))
        attempt("write in the recording folder", lambda: write(os.path.join(recording_dir, "allowed.txt")))
        attempt("symlink inside the recording folder", lambda: os.symlink("allowed.txt", os.path.join(recording_dir, "s_in")))
