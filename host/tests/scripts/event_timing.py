"""Emits one TTL event (state True) from every callback, on a line of its own, so a test
can see at which sample number each callback's events land."""

import oe_pyprocessor

LINES = {
    "__init__": 1, "start_acquisition": 2, "start_recording": 3, "handle_ttl_event": 4,
    "handle_spike": 5, "process": 6, "stop_recording": 7, "stop_acquisition": 8,
}
# start_recording also places one exactly, at this sample number, on this line.
EXACT_LINE, EXACT_SAMPLE = 9, 5


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.emit("__init__")

    def emit(self, callback):
        self.processor.add_python_event(LINES[callback], True)

    def process(self, data):
        self.emit("process")

    def start_acquisition(self):
        self.emit("start_acquisition")

    def stop_acquisition(self):
        self.emit("stop_acquisition")

    def start_recording(self, recording_dir):
        self.emit("start_recording")
        self.processor.add_python_event(EXACT_LINE, True, sample_number=EXACT_SAMPLE)

    def stop_recording(self):
        self.emit("stop_recording")

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.emit("handle_ttl_event")

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples,
                     sample_number, sorted_id, spike_data):
        self.emit("handle_spike")
