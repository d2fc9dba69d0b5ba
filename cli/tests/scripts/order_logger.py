# Prints what arrives, in order, so the test can check that events come before their block.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        print("block", self.processor.first_sample_number, data.shape[1])

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        print("ttl", sample_number)

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples, sample_number, sorted_id, spike_data):
        print("spike", sample_number)
