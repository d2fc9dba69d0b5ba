# hang_once.py, with the acquisition and recording in the output: gain 2 while acquiring
# (3 otherwise), plus 1000 while recording, and each recording call noted in log.txt in the
# recording folder. The block starting at sample 768 never ends. Each channel on its own.
import os


class PyProcessor:
    channel_independent = True

    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.acquiring = False
        self.recording = None

    def process(self, data):
        if self.processor.first_sample_number == 768:
            while True:
                pass
        data *= 2.0 if self.acquiring else 3.0
        if self.recording is not None:
            data += 1000.0

    def start_acquisition(self):
        self.acquiring = True

    def stop_acquisition(self):
        self.acquiring = False

    def start_recording(self, recording_dir):
        self.recording = recording_dir
        self.note("start")

    def stop_recording(self):
        self.note("stop")
        self.recording = None

    def note(self, what):
        with open(os.path.join(self.recording, "log.txt"), "a") as log:
            log.write(what + "\n")
