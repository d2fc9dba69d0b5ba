# Written the way scripts for the original Open Ephys Python Processor (Python 3.10,
# pybind11) were: module-level imports, `from scipy import signal`, a bare try/except in
# process, printing from __init__, old-style formatting.
import numpy as np
import oe_pyprocessor
from scipy import signal
from typing import Optional


class PyProcessor:

    def __init__(self, processor, num_channels, sample_rate):
        """ A new processor is initialized whenever the plugin settings are updated """
        print("Num Channels: ", num_channels, " | Sample Rate: ", sample_rate)
        self.processor = processor
        self.b, self.a = signal.butter(4, 300.0 / (sample_rate / 2.0), 'highpass')
        self.zi = None  # type: Optional[np.ndarray]
        self.count = 0

    def process(self, data):
        try:
            if self.zi is None:
                self.zi = np.zeros((data.shape[0], max(len(self.a), len(self.b)) - 1))
            data[:], self.zi = signal.lfilter(self.b, self.a, data, axis=1, zi=self.zi)
            self.count += 1
            if self.count % 2 == 0:
                self.processor.add_python_event(0, True)
            undefined_name  # noqa: F821 - the bare except swallows this, as in many lab scripts
        except:
            pass

    def start_acquisition(self):
        print("start %s" % "acquisition")

    def stop_acquisition(self):
        pass

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        pass

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples, sample_number, sorted_id, spike_data):
        pass

    def start_recording(self, recording_dir):
        pass

    def stop_recording(self):
        pass
