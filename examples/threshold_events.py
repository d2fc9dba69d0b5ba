"""Threshold events: a TTL event at each threshold crossing of one channel, placed at the
exact sample where it happens.

Line 1 goes on (True) when the channel rises above THRESHOLD_UV and off (False) when it
falls back below. Crossings that straddle a block edge are found too: the last sample of
each block is kept for the next.
"""

import numpy as np
import oe_pyprocessor

CHANNEL = 0
THRESHOLD_UV = 100.0
LINE = 1


class PyProcessor:

    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.channel = min(CHANNEL, num_channels - 1)
        self.above = False  # was the last sample seen above threshold?

    def process(self, data):
        above = data[self.channel] > THRESHOLD_UV
        previous = np.concatenate(([self.above], above[:-1]))
        first = self.processor.first_sample_number
        for i in np.flatnonzero(above != previous):
            self.processor.add_python_event(LINE, bool(above[i]), sample_number=first + int(i))
        if above.size:
            self.above = bool(above[-1])

    def start_acquisition(self):
        self.above = False
