import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        data *= 10.0  # changed in place, then the exception: the host must undo it
        self.processor.add_python_event(2, True)
        if data[0, 0] > 100.0:
            raise ValueError("sample too large")  # line 12
