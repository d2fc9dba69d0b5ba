"""Busy for 100 ms in process and in stop_recording: which deadline applies to each."""

import time


def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        busy(0.1)

    def stop_recording(self):
        busy(0.1)
