# data[0, 0] selects the case: >= 0 a bad add_python_spike call, -1 the accepted forms.
import numpy as np

BAD = [
    lambda p, first: p.add_python_spike(4, first),                        # no such channel
    lambda p, first: p.add_python_spike(0, first + 99),                   # outside the block
    lambda p, first: p.add_python_spike(0, first, waveform=np.zeros(39)), # wrong length
    lambda p, first: p.add_python_spike(0, first, sorted_id=-1),
    lambda p, first: p.add_python_spike(0.5, first),
    lambda p, first: p.add_python_spike(0, first, waveform="abc"),
]


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        first = self.processor.first_sample_number
        case = int(data[0, 0])
        if case >= 0:
            BAD[case](self.processor, first)
        else:
            self.processor.add_python_spike(1, first + 2)
            self.processor.add_python_spike(3, first - 500, waveform=np.arange(40), sorted_id=9)

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.processor.add_python_spike(0, sample_number)  # not in process: needs a waveform
