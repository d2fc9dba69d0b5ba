"""A lab-style closed-loop processor: a helper module beside it, a config at an absolute
lab path, a log in /tmp from import on, results written at an absolute path when the
acquisition stops."""
import os

import numpy as np
import oe_pyprocessor
from lab_utils import load_config

GAIN, THRESHOLD = load_config("/mnt/lab/config/settings.py")
LOG = open("/tmp/closed_loop.log", "w")
LOG.write("imported\n")


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.crossings = 0
        self.samples = 0

    def process(self, data):
        data *= GAIN
        below = data[0] < THRESHOLD
        self.crossings += int(np.count_nonzero(below[1:] & ~below[:-1]))
        self.samples += data.shape[1]

    def stop_acquisition(self):
        LOG.close()
        os.makedirs("/mnt/lab/results", exist_ok=True)
        with open("/mnt/lab/results/summary.txt", "w") as out:
            out.write(f"samples={self.samples} crossings={self.crossings} log={open('/tmp/closed_loop.log').read()!r}\n")
