# Gain 2 on every block, plus 1000 while recording. start_recording and stop_recording
# each busy-wait 50 ms first (a script opening or closing a large file), and note the call
# in log.txt in the recording folder, so the order of an old and a new interpreter's
# calls can be read back.
import os
import time


def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.recording = None

    def process(self, data):
        data *= 2.0
        if self.recording is not None:
            data += 1000.0

    def start_recording(self, recording_dir):
        busy(0.05)
        self.recording = recording_dir
        with open(os.path.join(recording_dir, "log.txt"), "a") as log:
            log.write("start\n")

    def stop_recording(self):
        busy(0.05)
        with open(os.path.join(self.recording, "log.txt"), "a") as log:
            log.write("stop\n")
        self.recording = None
