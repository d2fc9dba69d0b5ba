"""Raises in the third block, but only outside pyproc: a comparison must report it."""

import sys

import oe_pyprocessor


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.blocks = 0

    def process(self, data):
        self.blocks += 1
        if self.blocks == 3 and sys.platform != "wasi":
            raise RuntimeError("only natively")
