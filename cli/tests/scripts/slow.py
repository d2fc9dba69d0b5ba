# About 20 ms per block, so a run lasts long enough to be interrupted.
import time


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        until = time.monotonic() + 0.02
        while time.monotonic() < until:
            pass
