# Channel-independent: writes the channel count its __init__ saw into every sample; a
# PyProcessor made for a single channel raises in process instead.
class PyProcessor:
    channel_independent = True

    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels

    def process(self, data):
        if self.num_channels == 1:
            raise ValueError("a group of one channel")
        data[:] = self.num_channels
