# Keeps the peak of each spike it is given, as a sorting step would read the waveform.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.peaks = []

    def process(self, data):
        self.peaks.clear()

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples,
                     sample_number, sorted_id, spike_data):
        self.peaks.append(float(spike_data.max()))
