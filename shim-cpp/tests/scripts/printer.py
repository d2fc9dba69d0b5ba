"""Prints from __init__ and from each block (stdout), and once to stderr."""

import sys


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        print("constructed for", num_channels, "channels")
        self.blocks = 0

    def process(self, data):
        self.blocks += 1
        print("block", self.blocks)
        if self.blocks == 2:
            print("a warning", file=sys.stderr)
