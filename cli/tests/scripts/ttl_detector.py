"""A lab-style detector driven by TTL input: each rising TTL edge is echoed on line 1 from
handle_ttl_event, and opens a window in which the first block whose mean rectified signal
passes a threshold is marked on line 2 from process. The data leaves re-referenced to the
common average."""

import numpy as np
import oe_pyprocessor


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.armed = False
        self.threshold = 1.0

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        if state:
            self.processor.add_python_event(1, True)
            self.armed = True
        else:
            self.processor.add_python_event(1, False)

    def process(self, data):
        data -= data.mean(axis=0, keepdims=True)
        level = float(np.abs(data).mean())
        if self.armed and level > self.threshold:
            self.processor.add_python_event(2, True)
            self.processor.add_python_event(2, False)
            self.armed = False
