# For the C++ plots test: the comment names PyVisualizer, but the script defines none, so
# the viewer's interpreter starts and finds no class; processing goes on.
import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        self.processor.publish("first", data[0])
        data *= 2.0
