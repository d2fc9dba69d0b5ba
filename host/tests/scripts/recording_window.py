# Probes the recording folder before, during and after a recording; prints one JSON line
# per attempt. The test puts the folder's path in ROOT.
import json
import os

ROOT = "@ROOT@"


def attempt(phase, what, action):
    try:
        action()
        ok, detail = True, ""
    except Exception as e:
        ok, detail = False, f"{type(e).__name__}: {e}"
    print(json.dumps({"phase": phase, "what": what, "ok": ok, "detail": detail}))


def write_new(name):
    with open(os.path.join(ROOT, name), "w") as f:
        f.write("x")


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.phase = "init"
        self.kept_file = None
        self.kept_dir = None
        self.probe()

    def probe(self):
        p = self.phase
        attempt(p, "list", lambda: os.listdir(ROOT))
        attempt(p, "read", lambda: open(os.path.join(ROOT, "existing.txt")).read())
        attempt(p, "stat", lambda: os.stat(os.path.join(ROOT, "existing.txt")))
        attempt(p, "write", lambda: write_new(f"{p}.txt"))
        # In a recording, delete what was just written; outside one, try a file that exists.
        doomed = f"{p}.txt" if p in ("recording", "stop_recording") else "keep.txt"
        attempt(p, "delete", lambda: os.remove(os.path.join(ROOT, doomed)))
        if self.kept_file is not None:
            attempt(p, "file kept open", lambda: (self.kept_file.write("more"), self.kept_file.flush()))
        if self.kept_dir is not None:
            attempt(p, "folder kept open", lambda: os.fstat(self.kept_dir))

    def process(self, data):
        self.probe()

    def start_recording(self, recording_dir):
        self.phase = "recording"
        self.kept_file = open(os.path.join(recording_dir, "kept.txt"), "w")
        self.kept_dir = os.open(recording_dir, os.O_RDONLY)
        self.probe()

    def stop_recording(self):
        self.phase = "stop_recording"
        self.probe()
        self.phase = "after"
