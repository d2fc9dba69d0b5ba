"""Publishes each block whole (the `publish` row)."""


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        self.processor.publish("block", data)
