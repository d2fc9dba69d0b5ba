"""Writes garbage into the runtime's private objects, one way per case (the block's first
value), then returns from `process`. Case 0 is a normal block: doubled, one TTL event on
line 3."""

import gc
import sys

import numpy as np


def dispatcher():
    """The runtime's dispatch loop object, found as a hostile script would."""
    frame = sys._getframe()
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if type(candidate).__name__ == "Dispatcher":
            return candidate
        frame = frame.f_back
    raise LookupError("no dispatcher on the stack")


def nan_waveform():
    return np.full(40, np.nan, np.float32).tobytes()


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        case = int(data[0, 0])
        p = self.processor
        if case == 0:
            data *= 2
            p.add_python_event(3, True)
        elif case == 1:
            kept, p._events = p._events, (1, 2)     # not a list: add_python_event cannot append
            try:
                p.add_python_event(1, True)
            finally:
                p._events = kept
        elif case == 2:
            p._events.append(("x", 1, True))        # a sample number that is not an int
        elif case == 3:
            p._events.append((0, -1, True))         # a negative line
        elif case == 4:
            p._events.append((2**80, 1, True))      # a sample number past 64 bits
        elif case == 5:
            p._events.append((1, 2))                # wrong arity
        elif case == 6:
            p._spikes.append((p.first_sample_number, 99, 0, None))  # a channel the stream lacks
        elif case == 7:
            p._spikes.append((0, 2**32 - 1, 0, nan_waveform()))
        elif case == 8:
            p._spikes.append((0, 0, 0, b"abc"))     # a waveform of 3 bytes
        elif case == 9:
            p._spikes.append((0, 0, 0, [1.0] * 40))  # a waveform that is not bytes
        elif case == 10:
            p._spikes.append((0, 0, 0, nan_waveform()))  # NaN values: the script's data
        elif case == 11:
            p._spikes.append((10**9, 0, 0, None))   # no waveform, far outside the block
        elif case == 12:
            p._block_start = "later"
            p.add_python_event(1, True)
        elif case == 13:
            p._block_start = 2**90
            p.add_python_event(1, True)
        elif case == 14:
            p._num_channels = 1000
            p.add_python_spike(500, p.first_sample_number, np.zeros(40, np.float32))
        elif case == 15:
            p._block_len = 10**12                   # lets a waveform-less spike lie far ahead
            p.add_python_spike(0, p.first_sample_number + 10**11)
        elif case == 16:
            d = dispatcher()
            d.buffer = np.zeros(1, np.float32)      # a buffer too small for any block
            d.views.clear()
        elif case == 17:
            d = dispatcher()
            d.events.append(object())
        elif case == 18:
            p._spikes.append((0, 0, 70000, None))   # a sorted id past 16 bits
        elif case == 19:
            p._spikes.append((0, 0, 0, b"\0" * 4 * 41))  # 41 samples
        elif case == 20:
            gc.collect()
            p._spikes[:] = [(p.first_sample_number, 0, 0, None)] * 100000   # many spikes, past the cap
