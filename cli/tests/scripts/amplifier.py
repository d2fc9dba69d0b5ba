# Multiplies by 1000: most samples leave the int16 range and must be clipped, not wrapped.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        data *= 1000.0
