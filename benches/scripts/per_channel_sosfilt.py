# A band-pass written the way many lab scripts are: a 2nd-order Butterworth, 500-2000 Hz,
# applied channel by channel in a Python loop, each block filtered from rest (no state
# carried between blocks). Each channel is filtered on its own, so it says so: pyproc may
# then run it as several interpreters over groups of the channels (native CPython ignores
# the attribute).
from scipy import signal


class PyProcessor:
    channel_independent = True

    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels
        self.sos = signal.butter(2, [500.0, 2000.0], btype="bandpass", fs=sample_rate, output="sos")

    def process(self, data):
        for i in range(self.num_channels):
            data[i] = signal.sosfilt(self.sos, data[i])
