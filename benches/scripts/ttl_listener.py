# Keeps the sample number of each TTL event it is given and emits nothing: what remains is
# the cost of handing events over.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.onsets = []

    def process(self, data):
        self.onsets.clear()

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.onsets.append(sample_number)
