"""The module scripts import as `import oe_pyprocessor`, as with the original plugin.

It holds `PythonProcessor`, the type of the `processor` object that `PyProcessor.__init__`
receives. Through it a script sends TTL events back to the host:

    self.processor.add_python_event(line, state)                      # at the block's start
    self.processor.add_python_event(line, state, sample_number=n)     # at sample n
    self.processor.first_sample_number    # sample number of data[:, 0] (pyproc only)

and, beyond the original plugin, spikes:

    self.processor.add_python_spike(channel, sample_number)             # waveform cut by the host
    self.processor.add_python_spike(channel, sample_number, waveform)   # 40 samples, peak at 8
"""

import numbers

import numpy as np

__all__ = ["PythonProcessor", "SPIKE_PRE_SAMPLES", "SPIKE_POST_SAMPLES"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# A spike waveform: 8 samples before the peak, 32 from it on (as the GUI's spike detector).
SPIKE_PRE_SAMPLES = 8
SPIKE_POST_SAMPLES = 32
_SPIKE_SAMPLES = SPIKE_PRE_SAMPLES + SPIKE_POST_SAMPLES


def _int_arg(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


class PythonProcessor:
    """The host's side of one processor, as seen by the script."""

    __slots__ = ("_events", "_spikes", "_block_start", "_block_len", "_num_channels")

    def __init__(self, num_channels=0):
        self._events = []          # (sample_number, line, state), sent after each callback
        self._spikes = []          # (sample_number, channel, sorted_id, waveform or None)
        self._block_start = 0      # first sample of the current (or last) block
        self._block_len = 0        # samples in the block being processed; 0 outside process
        self._num_channels = num_channels

    def add_python_event(self, line, state, sample_number=None):
        """Emit a TTL event on `line` (int, 0-255) with `state` (bool, or 0/1).

        `sample_number` (int) places it inside the block; by default it is the first
        sample of the block being processed (outside `process`, of the last block).
        """
        # Plain ints and bools, as nearly every script passes: no further checks needed.
        if type(line) is int and 0 <= line <= 255 and type(state) is bool:
            if sample_number is None:
                self._events.append((self._block_start, line, state))
                return
            if type(sample_number) is int and _INT64_MIN <= sample_number <= _INT64_MAX:
                self._events.append((sample_number, line, state))
                return
        if isinstance(line, (bool, np.bool_)) or not isinstance(line, numbers.Integral):
            raise TypeError(
                f"add_python_event: line must be an int from 0 to 255, got {line!r} "
                f"({type(line).__name__})")
        line = int(line)
        if not 0 <= line <= 255:
            raise ValueError(f"add_python_event: line must be from 0 to 255, got {line}")
        if isinstance(state, (bool, np.bool_)):
            state = bool(state)
        elif isinstance(state, numbers.Integral) and int(state) in (0, 1):
            state = bool(int(state))
        else:
            raise TypeError(
                f"add_python_event: state must be a bool (or 0/1), got {state!r} "
                f"({type(state).__name__})")
        if sample_number is None:
            sample_number = self._block_start
        sample_number = _int_arg("add_python_event: sample_number", sample_number)
        if not _INT64_MIN <= sample_number <= _INT64_MAX:
            raise ValueError(f"add_python_event: sample_number {sample_number} does not fit in 64 bits")
        self._events.append((sample_number, line, state))

    def add_python_spike(self, channel, sample_number, waveform=None, sorted_id=0):
        """Emit a spike on `channel` (int, 0 to num_channels - 1) peaking at `sample_number`.

        Without `waveform`, the host cuts it from the processed data (8 samples before the
        peak, 32 from it on, across block edges); the peak must then lie in the block being
        processed. With it, `waveform` is 40 float values, peak at index 8. `sorted_id` is
        the unit (int, 0-65535; 0 = unsorted).
        """
        channel = _int_arg("add_python_spike: channel", channel)
        if not 0 <= channel < self._num_channels:
            raise ValueError(
                f"add_python_spike: channel must be from 0 to {self._num_channels - 1}, got {channel}")
        sample_number = _int_arg("add_python_spike: sample_number", sample_number)
        sorted_id = _int_arg("add_python_spike: sorted_id", sorted_id)
        if not 0 <= sorted_id <= 65535:
            raise ValueError(f"add_python_spike: sorted_id must be from 0 to 65535, got {sorted_id}")
        if waveform is None:
            end = self._block_start + self._block_len
            if not self._block_start <= sample_number < end:
                where = (f"the current block ({self._block_start} to {end - 1})" if self._block_len
                         else "a block, and this is not process()")
                raise ValueError(
                    f"add_python_spike: without a waveform, sample_number must lie in {where}; "
                    f"got {sample_number}. Pass waveform= to place a spike elsewhere")
        else:
            try:
                waveform = np.asarray(waveform, dtype=np.float32).reshape(-1)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"add_python_spike: waveform must be {_SPIKE_SAMPLES} numbers: {exc}") from None
            if waveform.size != _SPIKE_SAMPLES:
                raise ValueError(
                    f"add_python_spike: waveform must have {_SPIKE_SAMPLES} samples "
                    f"({SPIKE_PRE_SAMPLES} before the peak), got {waveform.size}")
            waveform = waveform.tobytes()
        if not _INT64_MIN <= sample_number <= _INT64_MAX:
            raise ValueError(f"add_python_spike: sample_number {sample_number} does not fit in 64 bits")
        self._spikes.append((sample_number, channel, sorted_id, waveform))

    @property
    def first_sample_number(self):
        """Sample number of the first sample of the block being processed (pyproc only)."""
        return self._block_start

    def __repr__(self):
        return "<oe_pyprocessor.PythonProcessor>"
