"""The module scripts import as `import oe_pyprocessor`, as with the original plugin.

It holds `PythonProcessor`, the type of the `processor` object that `PyProcessor.__init__`
receives. Through it a script sends TTL events back to the host:

    self.processor.add_python_event(line, state)                      # at the block's start (*)
    self.processor.add_python_event(line, state, sample_number=n)     # at sample n (pyproc only)
    self.processor.first_sample_number    # sample number of data[:, 0] (pyproc only)

and, beyond the original plugin, values for plots (`pyproc run --plots DIR` draws them with
the script's `PyVisualizer`; see `PythonProcessor.publish`):

    self.processor.publish("threshold", value)    # latest value per name, copied to the host

and spikes:

    self.processor.add_python_spike(channel, sample_number)             # waveform cut by the host
    self.processor.add_python_spike(channel, sample_number, waveform)   # 40 samples, peak at 8

(*) From `process` and the handlers of the events and spikes that arrive with a block, at
that block's first sample; from any other callback, at the next block's first sample while
acquisition runs, and dropped (counted) outside it — as the original plugin does.

`line` and `state` are converted exactly as the original plugin's pybind11 binding
converts them (see `_c_int`, `_c_bool`); what it refuses raises the same TypeError.
"""

import numbers
import operator

import numpy as np

import _pyproc_publish

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


# add_python_event converts its arguments as the original plugin's binding does: pybind11
# 2.10.4 (`.def("add_python_event", &PythonProcessor::addPythonEvent)` on
# `void addPythonEvent(int line, bool state)`), with implicit conversions on, on a 64-bit
# Linux or macOS CPython. The C++ then hands `line` to TTLEvent::createTTLEvent as a
# uint8, so a line outside 0-255 wraps (256 -> 0, -1 -> 255).
_MISSING = object()
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1      # C int
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1    # C long
_SIGNATURE = ("(self: oe_pyprocessor.PythonProcessor, line: int, state: bool, "
              "sample_number: Optional[int] = None) -> None")


def _c_int(value):
    """pybind11's `type_caster<int>::load(value, convert=True)`: the int, or None if refused."""
    if isinstance(value, float):         # PyFloat_Check: floats and their subclasses (numpy.float64)
        return None
    try:
        number = operator.index(value)  # PyLong_AsLong: an int, or what __index__ gives
    except Exception:
        number = None
    if number is not None and _LONG_MIN <= number <= _LONG_MAX:
        return number if _INT_MIN <= number <= _INT_MAX else None
    # PyLong_AsLong failed: with conversions on, pybind11 tries PyNumber_Long once, for
    # anything PyNumber_Check calls a number (numpy.float32, Decimal, Fraction ...).
    kind = type(value)
    if not (hasattr(kind, "__index__") or hasattr(kind, "__int__") or hasattr(kind, "__float__")
            or isinstance(value, complex)):
        return None
    try:
        number = int(value)
    except Exception:
        return None
    return number if _INT_MIN <= number <= _INT_MAX else None


def _c_bool(value):
    """pybind11's `type_caster<bool>::load(value, convert=True)`: the bool, or None if refused."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    if not hasattr(type(value), "__bool__"):  # no nb_bool: str, list, dict, plain objects
        return None
    try:
        return bool(value)
    except Exception:
        return None


def _sample_number(value):
    """pyproc's own `sample_number`: an int (not a bool) that fits in 64 bits, or None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        return None
    value = int(value)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _incompatible(processor, line, state, sample_number, extra, unknown):
    """pybind11's message for arguments no overload takes, then which of them pyproc refused."""
    given = [v for v in (line, state) if v is not _MISSING]
    given += ([] if sample_number is None else [sample_number]) + list(extra)
    why = []
    if line is _MISSING or state is _MISSING:
        why.append("line and state are both required")
    if line is not _MISSING and _c_int(line) is None:
        why.append(f"line {line!r} ({type(line).__name__}) is not an int that fits a C int"
                   + (": floats are refused, int(x) truncates" if isinstance(line, float) else ""))
    if state is not _MISSING and _c_bool(state) is None:
        why.append(f"state {state!r} ({type(state).__name__}) is not a bool (True or False)")
    if sample_number is not None and _sample_number(sample_number) is None:
        why.append(f"sample_number {sample_number!r} ({type(sample_number).__name__}) is not an int that fits in 64 bits")
    if extra:
        why.append(f"{len(extra)} argument(s) too many")
    if unknown:
        why.append("no keyword argument " + ", ".join(repr(k) for k in unknown))
    text = ("add_python_event(): incompatible function arguments. The following argument types are supported:\n"
            f"    1. {_SIGNATURE}\n\nInvoked with: " + ", ".join(repr(v) for v in [processor] + given))
    if unknown:
        text += "; kwargs: " + ", ".join(f"{k}={v!r}" for k, v in unknown.items())
    return text + "\n(" + "; ".join(why) + ")"


class PythonProcessor:
    """The host's side of one processor, as seen by the script."""

    __slots__ = ("_events", "_spikes", "_block_start", "_block_len", "_num_channels",
                 "_in_block", "_acquiring", "_next_block", "_dropped_outside", "_published")

    def __init__(self, num_channels=0):
        self._events = []          # (sample_number, line, state), sent after each callback
        self._spikes = []          # (sample_number, channel, sorted_id, waveform or None)
        self._block_start = 0      # first sample of the current (or last) block
        self._block_len = 0        # samples in the block being processed; 0 outside process
        self._num_channels = num_channels
        # A block's handlers, `process` and the timers after it are "in the block": their
        # events go at its first sample. Outside a block, as in the original plugin, an event
        # waits for the next block's first sample while acquisition runs and is dropped
        # (and counted) otherwise.
        self._in_block = False
        self._acquiring = False
        self._next_block = []      # (line, state) emitted between blocks, for the next one
        self._dropped_outside = 0  # events emitted outside acquisition
        self._published = set()    # names published, for the names cap

    def add_python_event(self, line=_MISSING, state=_MISSING, sample_number=None, *extra, **unknown):
        """Emit a TTL event on `line` with `state`, converted as the original plugin converts
        them (pybind11: `line` a C int, sent as `line % 256`; `state` a C++ bool).

        `sample_number` (int, pyproc only) places it inside the block; by default it is the
        first sample of the block being processed (outside `process`, of the last block).
        """
        # Plain ints and bools, as nearly every script passes: no further checks needed.
        if type(line) is int and type(state) is bool and _INT_MIN <= line <= _INT_MAX and not extra and not unknown:
            if sample_number is None:
                if self._in_block:
                    self._events.append((self._block_start, line & 0xFF, state))
                else:
                    self._between_blocks(line & 0xFF, state)
                return
            if type(sample_number) is int and _INT64_MIN <= sample_number <= _INT64_MAX:
                self._events.append((sample_number, line & 0xFF, state))
                return
        converted_line, converted_state = _c_int(line), _c_bool(state)
        at = self._block_start if sample_number is None else _sample_number(sample_number)
        if converted_line is None or converted_state is None or at is None or extra or unknown:
            raise TypeError(_incompatible(self, line, state, sample_number, extra, unknown))
        if sample_number is None and not self._in_block:
            self._between_blocks(converted_line & 0xFF, converted_state)
        else:
            self._events.append((at, converted_line & 0xFF, converted_state))

    def _between_blocks(self, line, state):
        if self._acquiring:
            self._next_block.append((line, state))
        else:
            self._dropped_outside += 1

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

    def publish(self, name, value):
        """Copy `value` (a numpy array, or anything `np.asarray` takes: a number, a list) to
        the host as the latest value under `name`, for plots (pyproc only).

        The host keeps only the latest value per name, with the first sample number of the
        block being processed (outside `process`, of the last block). dtypes: bool, int8-64,
        uint8-64, float32, float64 (Python ints go as int64, floats as float64). Caps: 4 MiB per value, 32 names, 64 bytes of UTF-8 per
        name, 4 dimensions; past one, publish raises ValueError and sends nothing. It costs
        one copy of the value on the host; drawing happens
        elsewhere, never in `process`.
        """
        _pyproc_publish.publish(self._published, self._block_start, name, value)

    @property
    def first_sample_number(self):
        """Sample number of the first sample of the block being processed (pyproc only)."""
        return self._block_start

    def __repr__(self):
        return "<oe_pyprocessor.PythonProcessor>"
