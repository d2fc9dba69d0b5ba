"""Spike detector: a spike wherever a channel crosses below a threshold, sent back to
Open Ephys as spikes (pyproc only: the original plugin cannot emit spikes).

Each spike is placed at the first sample below THRESHOLD_UV; the host cuts its waveform
from the data (8 samples before, 32 from it on), across block edges. A channel stays
silent for REFRACTORY_MS after each spike. Crossings that straddle a block edge are found:
the state of each channel is kept from one block to the next.
"""

import numpy as np
import oe_pyprocessor

THRESHOLD_UV = -60.0
REFRACTORY_MS = 1.0


class PyProcessor:

    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.refractory = int(round(REFRACTORY_MS * sample_rate / 1000.0))
        self.was_below = np.zeros(num_channels, dtype=bool)
        self.last_spike = np.full(num_channels, -(10**12), dtype=np.int64)

    def process(self, data):
        first = self.processor.first_sample_number
        below = data < THRESHOLD_UV
        previous = np.concatenate((self.was_below[:, None], below[:, :-1]), axis=1)
        channels, samples = np.nonzero(below & ~previous)  # channel-major order
        for channel, i in zip(channels.tolist(), samples.tolist()):
            sample_number = first + i
            if sample_number - self.last_spike[channel] >= self.refractory:
                self.processor.add_python_spike(channel, sample_number)
                self.last_spike[channel] = sample_number
        if data.shape[1]:
            self.was_below = below[:, -1].copy()

    def start_acquisition(self):
        self.was_below[:] = False
        self.last_spike[:] = -(10**12)
