"""`pyproc compare`'s native side: runs a PyProcessor script in this (unsandboxed) CPython,
called exactly as the original Open Ephys Python Processor plugin calls it, on the blocks,
events and spikes `pyproc compare` sends over stdin; answers over stdout.

The original plugin (open-ephys-plugins/python-processor, Source/PythonProcessor.cpp):
- puts the script's folder on sys.path, imports it, and constructs
  `PyProcessor(processor, num_channels, sample_rate)`, where `processor` is its
  `oe_pyprocessor.PythonProcessor` (pybind11), whose only method is
  `add_python_event(line: int, state: bool)`;
- per block: calls `handle_ttl_event(source_node, channel, sample_number, line, state)` and
  `handle_spike(source_node, electrode_name, num_channels, num_samples, sample_number,
  sorted_id, spike_data)` for the block's events, then `process(data)` on a new float32
  array (channels x samples), then sends every queued event at the block's first sample;
- `add_python_event` queues only while acquisition runs (the play button is on: from
  `start_acquisition` until `stop_acquisition` starts); a line outside 0-255 wraps.

Frames (little-endian). In: one byte of kind, then
  b'S' start_acquisition          b's' stop_acquisition
  b'R' start_recording: u32 length, UTF-8 directory
  b'r' stop_recording             b'Q' quit
  b'B' block: i64 first sample, u32 channels, u32 samples, u32 events, u32 spikes, then
       each event:  i64 source node, i64 sample number, u8 line, u8 state, u32 length, name
       each spike:  i64 source node, i64 sample number, u32 sorted id, u32 channels,
                    u32 samples, u32 length, name, channels x samples f32
       then channels x samples f32 (row by row)
Out, for each frame: u8 0 (fine) or 1 (an exception: u32 length, UTF-8 traceback), and for
a block also channels x samples f32 (as the script left them), u32 n, then n events
(i64 sample number, u8 line, u8 state), u32 m, then m spikes (i64 sample number,
u32 channel, u32 sorted id, u8 1 if a waveform follows: u32 length, that many f32).
"""

import importlib.util
import operator
import os
import struct
import sys
import traceback
import types

import numpy as np

_in = sys.stdin.buffer
_out = sys.stdout.buffer
# The script's own prints must not mix with the answers: they go to stderr.
sys.stdout = sys.stderr


def _read(n):
    data = _in.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _unpack(fmt):
    return struct.unpack(fmt, _read(struct.calcsize(fmt)))


def _string():
    (n,) = _unpack("<I")
    return _read(n).decode("utf-8")


class PythonProcessor:
    """The original's `oe_pyprocessor.PythonProcessor`, as the script sees it, with pyproc's
    additions (`first_sample_number`, `sample_number=`, `add_python_spike`, `publish`) so that scripts
    using them can be compared too; the original plugin has none of them."""

    def __init__(self):
        self.acquiring = False
        self.queue = []            # (line, state): sent at the next block's first sample
        self.placed = []           # (sample number, line, state): pyproc's sample_number=
        self.spikes = []           # (sample number, channel, sorted id, waveform or None)
        self.first_sample_number = 0

    def add_python_event(self, line, state, sample_number=None):
        # pybind11 casting to (int, bool): floats refused, ints through __index__.
        if isinstance(line, float) or not isinstance(state, (bool, np.bool_)):
            raise TypeError(f"add_python_event(): incompatible function arguments: {line!r}, {state!r}")
        line = operator.index(line)
        if not -(2**31) <= line < 2**31:
            raise TypeError(f"add_python_event(): incompatible function arguments: {line!r}, {state!r}")
        if sample_number is not None:
            self.placed.append((operator.index(sample_number), line & 0xFF, bool(state)))
        elif self.acquiring:
            self.queue.append((line & 0xFF, bool(state)))

    def add_python_spike(self, channel, sample_number, waveform=None, sorted_id=0):
        if waveform is not None:
            waveform = np.asarray(waveform, np.float32).reshape(-1)
        self.spikes.append((operator.index(sample_number), operator.index(channel), operator.index(sorted_id), waveform))


    def publish(self, name, value):
        # Nothing draws here: the value is copied, as pyproc copies it, and let go.
        np.array(value, copy=True)


def _load(path, num_channels, sample_rate):
    module = types.ModuleType("oe_pyprocessor")
    module.PythonProcessor = PythonProcessor
    sys.modules["oe_pyprocessor"] = module
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    script = importlib.util.module_from_spec(spec)
    sys.modules[name] = script
    spec.loader.exec_module(script)
    processor = PythonProcessor()
    return processor, script.PyProcessor(processor, num_channels, sample_rate)


def _call(instance, name, *args):
    method = getattr(instance, name, None)
    if method is not None:
        method(*args)


def _answer(error, tail=b""):
    if error is None:
        _out.write(b"\x00" + tail)
    else:
        text = error.encode("utf-8", "replace")
        _out.write(b"\x01" + struct.pack("<I", len(text)) + text + tail)
    _out.flush()


def _block(processor, instance):
    first, channels, samples, n_events, n_spikes = _unpack("<qIIII")
    events = []
    for _ in range(n_events):
        source, sample, line, state = _unpack("<qqBB")
        events.append((source, _string(), sample, line, bool(state)))
    spikes = []
    for _ in range(n_spikes):
        source, sample, sorted_id, nch, ns = _unpack("<qqIII")
        name = _string()
        waveform = np.frombuffer(_read(nch * ns * 4), "<f4").reshape(nch, ns).copy()
        spikes.append((source, name, nch, ns, sample, sorted_id, waveform))
    data = np.frombuffer(_read(channels * samples * 4), "<f4").reshape(channels, samples).copy()
    processor.first_sample_number = first
    error = None
    try:
        for source, name, sample, line, state in events:
            _call(instance, "handle_ttl_event", source, name, sample, line, state)
        for spike in spikes:
            _call(instance, "handle_spike", *spike)
        instance.process(data)
    except BaseException:
        error = traceback.format_exc()
    if not (isinstance(data, np.ndarray) and data.dtype == np.float32 and data.shape == (channels, samples)):
        data = np.zeros((channels, samples), np.float32)
    events = processor.placed + [(first, line, state) for line, state in processor.queue]
    spikes = processor.spikes
    processor.placed, processor.queue, processor.spikes = [], [], []
    tail = np.ascontiguousarray(data, "<f4").tobytes() + struct.pack("<I", len(events))
    tail += b"".join(struct.pack("<qBB", sample, line, state) for sample, line, state in events)
    tail += struct.pack("<I", len(spikes))
    for sample, channel, sorted_id, waveform in spikes:
        tail += struct.pack("<qIIB", sample, channel, sorted_id, waveform is not None)
        if waveform is not None:
            tail += struct.pack("<I", waveform.size) + waveform.astype("<f4").tobytes()
    _answer(error, tail)


def main():
    path, num_channels, sample_rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    try:
        processor, instance = _load(path, num_channels, sample_rate)
    except BaseException:
        _answer(traceback.format_exc())
        return
    _answer(None)
    while True:
        try:
            (kind,) = _read(1)
        except EOFError:
            return
        kind = chr(kind)
        if kind == "B":
            _block(processor, instance)
            continue
        if kind == "Q":
            return
        error = None
        try:
            if kind == "S":
                processor.acquiring = True
                _call(instance, "start_acquisition")
            elif kind == "s":
                processor.acquiring = False
                _call(instance, "stop_acquisition")
            elif kind == "R":
                _call(instance, "start_recording", _string())
            elif kind == "r":
                _call(instance, "stop_recording")
            else:
                raise RuntimeError(f"pyproc compare: unknown frame {kind!r}")
        except BaseException:
            error = traceback.format_exc()
        _answer(error)


if __name__ == "__main__":
    main()
