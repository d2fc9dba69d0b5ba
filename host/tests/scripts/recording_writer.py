# Writes a file into the recording directory it is given.
import os


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.blocks = 0

    def process(self, data):
        self.blocks += 1

    def start_recording(self, recording_dir):
        self.dir = recording_dir
        with open(os.path.join(recording_dir, "from_script.txt"), "w") as f:
            f.write("recorded by the script\n")

    def stop_recording(self):
        with open(os.path.join(self.dir, "from_script.txt"), "a") as f:
            f.write(f"blocks seen: {self.blocks}\n")
