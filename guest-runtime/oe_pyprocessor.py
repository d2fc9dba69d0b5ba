"""The module scripts import as `import oe_pyprocessor`, as with the original plugin.

It holds `PythonProcessor`, the type of the `processor` object that `PyProcessor.__init__`
receives. Through it a script sends TTL events back to the host:

    self.processor.add_python_event(line, state)                      # at the block's start
    self.processor.add_python_event(line, state, sample_number=n)     # at sample n
    self.processor.first_sample_number    # sample number of data[:, 0] (pyproc only)
"""

import numbers

import numpy as np

__all__ = ["PythonProcessor"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class PythonProcessor:
    """The host's side of one processor, as seen by the script."""

    __slots__ = ("_events", "_block_start")

    def __init__(self):
        self._events = []          # (sample_number, line, state), sent after each callback
        self._block_start = 0      # first sample of the current (or last) block

    def add_python_event(self, line, state, sample_number=None):
        """Emit a TTL event on `line` (int, 0-255) with `state` (bool, or 0/1).

        `sample_number` (int) places it inside the block; by default it is the first
        sample of the block being processed (outside `process`, of the last block).
        """
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
        elif isinstance(sample_number, (bool, np.bool_)) or not isinstance(sample_number, numbers.Integral):
            raise TypeError(
                f"add_python_event: sample_number must be an int, got {sample_number!r} "
                f"({type(sample_number).__name__})")
        sample_number = int(sample_number)
        if not _INT64_MIN <= sample_number <= _INT64_MAX:
            raise ValueError(f"add_python_event: sample_number {sample_number} does not fit in 64 bits")
        self._events.append((sample_number, line, state))

    @property
    def first_sample_number(self):
        """Sample number of the first sample of the block being processed (pyproc only)."""
        return self._block_start

    def __repr__(self):
        return "<oe_pyprocessor.PythonProcessor>"
