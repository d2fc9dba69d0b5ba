# Only the two required methods: every optional callback must be skipped quietly.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels

    def process(self, data):
        data += 1.0
