"""`process` raises on blocks of -1.0 (and emits one event on the others); every other
callback emits events: each queued TTL event is echoed, and start_acquisition adds one."""


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        if data[0, 0] == -1.0:
            raise RuntimeError("this block fails")
        self.processor.add_python_event(7, True)

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.processor.add_python_event(line, state, sample_number=sample_number)

    def start_acquisition(self):
        # Placed exactly, it goes out with the call's answer (at the block's start, it would
        # wait for a next block inside the guest, and go with that block if it fails).
        self.processor.add_python_event(1, True, sample_number=0)
