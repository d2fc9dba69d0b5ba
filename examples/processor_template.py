"""A PyProcessor template: every callback pyproc (and the Open Ephys Python Processor)
calls, with the arguments it receives. Copy it with `pyproc new NAME` or by hand, then
fill in what you need; every method except __init__ and process may be deleted.

Runs as is: it passes the data through unchanged and prints what it is given.
"""

import numpy as np
import oe_pyprocessor  # the host's module; `processor` below is an oe_pyprocessor.PythonProcessor


class PyProcessor:
    # If process() treats each channel on its own (no value of one channel ever depends on
    # another), uncomment this: pyproc then splits the channels into groups and runs each
    # group in its own interpreter, in parallel, where __init__ sees the group's
    # num_channels. The Open Ephys plugin ignores it.
    # channel_independent = True

    def __init__(self, processor, num_channels, sample_rate):
        """Called when the script is loaded and whenever the stream changes.

        processor (oe_pyprocessor.PythonProcessor): sends TTL events back to the host.
        num_channels (int): channels in the stream.
        sample_rate (float): samples per second.
        """
        self.processor = processor
        self.num_channels = num_channels
        self.sample_rate = sample_rate
        print("Num Channels:", num_channels, "| Sample Rate:", sample_rate)

    def process(self, data):
        """Called for every block of continuous data.

        data (numpy.ndarray): float32, shape (num_channels, num_samples), in microvolts.
            Edit it in place (data[:] = ..., data *= ...): rebinding the name does nothing.
        To send a TTL event on line 0 at the block's first sample:
            self.processor.add_python_event(0, True)
        or at a given sample:
            self.processor.add_python_event(0, True, sample_number=n)
        `self.processor.first_sample_number` is the sample number of data[:, 0].
        """
        try:
            pass
        except:  # noqa: E722 - a failing process() must not stop the acquisition
            pass

    def start_acquisition(self):
        """Called when acquisition starts."""
        pass

    def stop_acquisition(self):
        """Called when acquisition stops."""
        pass

    def start_recording(self, recording_dir):
        """Called when recording starts.

        recording_dir (str): the recording's directory; the script may write files there
            until stop_recording (nothing else on disk is visible to it).
        """
        pass

    def stop_recording(self):
        """Called when recording stops."""
        pass

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        """Called for each TTL event, before the block it belongs to is processed.

        source_node (int): id of the processor that generated the event.
        channel (str): name of the event channel.
        sample_number (int): sample number of the event.
        line (int): TTL line, 0-255.
        state (bool): True (on) or False (off).
        """
        pass

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples,
                     sample_number, sorted_id, spike_data):
        """Called for each spike, before the block it belongs to is processed.

        source_node (int): id of the processor that detected the spike.
        electrode_name (str): name of the electrode.
        num_channels (int), num_samples (int): shape of the waveform.
        sample_number (int): sample number of the spike's peak.
        sorted_id (int): sorted unit id (0 if unsorted).
        spike_data (numpy.ndarray): float32, (num_channels, num_samples), read-only.
        """
        pass
