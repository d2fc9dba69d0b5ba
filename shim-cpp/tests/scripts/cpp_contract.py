# Drives every part of the C++ API test: a gain with an offset per channel, an echo of
# TTL events, a report of spikes as events, a spike out and an exception on request.
import numpy as np

GAIN = 2.0


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        if data[0, 0] == -999.0:
            raise ValueError("asked to fail")
        if data[0, 0] == -555.0:
            self.processor.add_python_spike(0, self.processor.first_sample_number)
            self.processor.add_python_spike(2, self.processor.first_sample_number + 5,
                                            waveform=[float(i) for i in range(40)], sorted_id=3)
        data *= GAIN
        data += np.arange(data.shape[0], dtype=np.float32)[:, None]

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.processor.add_python_event(line + 10, state, sample_number=sample_number)

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples,
                     sample_number, sorted_id, spike_data):
        # Line 200 reports the spike; its state says whether the peak exceeded 50 µV.
        self.processor.add_python_event(200, bool(spike_data.max() > 50.0), sample_number=sample_number)
