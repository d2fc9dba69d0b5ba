"""A busy processor for the allocation-counting tests: every block it takes 30 TTL events
and 10 spikes in, emits 30 events and 10 spikes (half with a waveform of its own, half cut
by the host), publishes its first channel and a scalar for plots, and raises in every
100th block. Its PyVisualizer draws the channel on a small figure (only the C++ test with
plots runs it)."""

import numpy as np
import oe_pyprocessor


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.num_channels = num_channels
        self.blocks = 0
        self.seen = 0
        self.first_sample = 0  # the stream starts at sample 0 and has no gaps
        self.waveform = np.linspace(-50, 50, 40).astype(np.float32)

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.seen += 1

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples,
                     sample_number, sorted_id, spike_data):
        self.seen += int(spike_data.shape[1] == num_samples)

    def process(self, data):
        self.blocks += 1
        n = data.shape[1]
        peak = self.first_sample + n // 2
        self.first_sample += n
        if self.blocks % 100 == 0:
            raise ValueError(f"block {self.blocks} is a hundredth block")
        data *= 2.0
        self.processor.publish("first channel", data[0])
        self.processor.publish("blocks", self.blocks)
        for i in range(30):
            self.processor.add_python_event(i % 8, i % 2 == 0)
        for i in range(10):
            if i % 2:
                self.processor.add_python_spike(i % self.num_channels, peak, self.waveform)
            else:
                self.processor.add_python_spike(i % self.num_channels, peak)


class PyVisualizer:
    def __init__(self, num_channels, sample_rate):
        from matplotlib.figure import Figure
        self.figure = Figure(figsize=(2, 1), dpi=40)
        self.axes = self.figure.add_subplot()
        self.line, = self.axes.plot([], [])

    def update(self, published):
        if "first channel" not in published:
            return None
        x = published["first channel"]
        self.line.set_data(np.arange(x.size), x)
        self.axes.set_title(f"block {int(published['blocks'])}")
        return self.figure
