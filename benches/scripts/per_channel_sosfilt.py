# A band-pass written the way many lab scripts are: a 2nd-order Butterworth, 500-2000 Hz,
# applied channel by channel in a Python loop, each block filtered from rest (no state
# carried between blocks).
from scipy import signal


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels
        self.sos = signal.butter(2, [500.0, 2000.0], btype="bandpass", fs=sample_rate, output="sos")

    def process(self, data):
        for i in range(self.num_channels):
            data[i] = signal.sosfilt(self.sos, data[i])
