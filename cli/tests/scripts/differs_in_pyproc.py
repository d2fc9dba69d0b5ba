"""Scales the data by 1.5 in pyproc only: a comparison must see it."""

import sys

import oe_pyprocessor


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        if sys.platform == "wasi":
            data *= 1.5
