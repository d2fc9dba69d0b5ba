# For the C++ plots test: a PyVisualizer whose update raises; processing goes on.
import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        self.processor.publish("first", data[0])


class PyVisualizer:
    def __init__(self, num_channels, sample_rate):
        pass

    def update(self, published):
        raise ValueError("this viewer breaks on purpose")
