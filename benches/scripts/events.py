# Echoes each TTL event it receives on line + 10 and emits one event per block.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        self.processor.add_python_event(1, bool(data[0, 0] > 0))

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.processor.add_python_event(line + 10, state, sample_number=sample_number)
