# The same per-channel band-pass as per_channel_sosfilt.py with (b, a) coefficients and
# lfilter, the other form lab scripts use.
from scipy import signal


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels
        self.b, self.a = signal.butter(2, [500.0, 2000.0], btype="bandpass", fs=sample_rate)

    def process(self, data):
        for i in range(self.num_channels):
            data[i] = signal.lfilter(self.b, self.a, data[i])
