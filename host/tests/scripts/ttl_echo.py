# Echoes every TTL event it receives, on line + 10, at the event's own sample number.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        pass

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.processor.add_python_event(line + 10, state, sample_number=sample_number)
