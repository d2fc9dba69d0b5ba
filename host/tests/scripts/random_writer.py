# Fills the block from every source of randomness a script might use.
import os
import random

import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.rng = np.random.default_rng()  # unseeded: from the OS entropy source

    def process(self, data):
        n = data.shape[1]
        data[0] = np.random.random(n)
        data[1] = [random.random() for _ in range(n)]
        data[2] = np.frombuffer(os.urandom(n), np.uint8)
        data[3] = self.rng.random(n)
