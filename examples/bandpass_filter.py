"""Band-pass filter: a 2nd-order Butterworth from 500 to 2000 Hz on every channel.

The filter's state is carried from block to block, so filtering block by block gives the
same result as filtering the whole recording at once (the usual mistake, filtering each
block from a zero state, leaves a transient at every block edge).
"""

import numpy as np
import oe_pyprocessor
from scipy import signal

LOW_HZ = 500.0
HIGH_HZ = 2000.0
ORDER = 2


class PyProcessor:
    # Each channel is filtered on its own (its state is per channel): pyproc may split the
    # channels between several interpreters running in parallel. The original plugin
    # ignores this attribute.
    channel_independent = True

    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        # Second-order sections: numerically safer than (b, a) coefficients.
        self.sos = signal.butter(ORDER, [LOW_HZ, HIGH_HZ], btype="bandpass", fs=sample_rate, output="sos")
        # One filter state per section and channel: (n_sections, num_channels, 2).
        self.state = np.zeros((self.sos.shape[0], num_channels, 2))

    def process(self, data):
        filtered, self.state = signal.sosfilt(self.sos, data, axis=1, zi=self.state)
        data[:] = filtered

    def start_acquisition(self):
        # A new acquisition is a new signal: start from rest.
        self.state[:] = 0.0
