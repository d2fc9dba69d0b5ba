"""Copies each block into an array of its own (the baseline of the `publish` row)."""

import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.kept = None

    def process(self, data):
        if self.kept is None or self.kept.shape != data.shape:
            self.kept = np.empty_like(data)
        np.copyto(self.kept, data)
