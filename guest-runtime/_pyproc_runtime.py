"""pyproc's dispatch loop inside the guest: it waits at the door for commands, calls the
script's `PyProcessor`, and answers. The frame layouts are in guest-runtime/README.md; the
numbers (opcodes, callback codes, packed formats) come from `_pyproc_wire`, which the host
generates from its own table (host/src/wire/layout.rs).

The loop runs inside one long `turn`, so nothing here is compiled per block."""

import errno
import importlib
import importlib.util
import inspect
import itertools
import linecache
import os
import random
import struct
import sys
import traceback
import types

import _host
import numpy as np

import _pyproc_door
import _pyproc_imports
import _pyproc_matplotlib
import _pyproc_timers
import _pyproc_viewer
import oe_pyprocessor
from _pyproc_installed import STDLIB_ZIP
from _pyproc_timers import CLOCK
from _pyproc_wire import *  # noqa: F403 - opcodes, CB_* callback codes, formats

OPTIONAL = {
    CB_HANDLE_TTL_EVENT: "handle_ttl_event", CB_HANDLE_SPIKE: "handle_spike",
    CB_START_ACQUISITION: "start_acquisition", CB_STOP_ACQUISITION: "stop_acquisition",
    CB_START_RECORDING: "start_recording", CB_STOP_RECORDING: "stop_recording",
}
# The arguments pyproc passes to each callback, for the signature check at load.
ARGUMENTS = {
    "process": ("data",),
    "start_acquisition": (), "stop_acquisition": (),
    "start_recording": ("recording_dir",), "stop_recording": (),
    "handle_ttl_event": ("source_node", "channel", "sample_number", "line", "state"),
    "handle_spike": ("source_node", "electrode_name", "num_channels", "num_samples",
                     "sample_number", "sorted_id", "spike_data"),
}
PATH_SCRATCH_BYTES = 2 * 4096   # two paths of up to PATH_MAX, rewritten by the host
RUNTIME_PREFIX = "<pyproc>"
DONE_NOTHING = bytes([DONE, 0, 0, 0, 0, 0, 0, 0, 0])  # no events, no spikes
_event = struct.Struct(EVENT_FORMAT)
_done_events = {}  # n -> the Struct of DONE, n, n events, 0 spikes: one pack per answer
DONE_EVENTS_CACHED = 256
_spike = struct.Struct(SPIKE_HEADER_FORMAT)
_ttl_record = struct.Struct(TTL_RECORD_FORMAT)
_spike_record = struct.Struct(SPIKE_RECORD_FORMAT)
RECORDS_AT = struct.calcsize(PROCESS_FORMAT)  # queued records follow a PROCESS or EVENTS header
_events_header = struct.Struct("<5q")  # the header's words after op, first sample, samples
STAGE_PROCESS = bytes([STAGE, CB_PROCESS])
NEXT_FRAME = bytes([NEXT])
STAGE_HANDLER = {TTL: bytes([STAGE, CB_HANDLE_TTL_EVENT]), SPIKE: bytes([STAGE, CB_HANDLE_SPIKE])}
FLOAT32 = np.dtype(np.float32)
_call = _host.call


class _DoorWriter:
    """sys.stdout / sys.stderr: text goes to the host's log through the door."""

    def __init__(self, stream):
        self._prefix = bytes([LOG, stream])
        self.encoding = "utf-8"
        self.errors = "replace"

    def write(self, text):
        if text:
            _call(self._prefix + str(text).encode("utf-8", "replace"))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True


class Failure(Exception):
    """A script exception, formatted for the host."""

    def __init__(self, callback, exc, script):
        self.frame = _failed_frame(callback, exc, script)


def _failed_frame(callback, exc, script):
    tb = exc.__traceback__
    # The dispatcher's own frames are ours, not the scientist's: leave them out.
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(RUNTIME_PREFIX):
        tb = tb.tb_next
    # So are the last ones when the runtime raised on the script's behalf (the audit hook
    # refusing a path): the traceback ends where the script's call did.
    last, at = None, tb
    while at is not None:
        if not at.tb_frame.f_code.co_filename.startswith(RUNTIME_PREFIX):
            last = at
        at = at.tb_next
    if last is not None:
        last.tb_next = None
    text = _traceback_text(exc, tb)
    frames = traceback.extract_tb(tb)
    line = 0
    if isinstance(exc, SyntaxError) and exc.filename == script and exc.lineno:
        line = exc.lineno
    else:
        for frame in frames:
            if frame.filename == script:
                line = frame.lineno or 0
    message = str(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        # CPython's own hint (site-packages, virtual environments) does not apply in the
        # sandbox: say where pyproc looked.
        said = _pyproc_imports.not_found(exc.name, script or "")
        if said is not None:
            message = said
            last = text.rstrip("\n").rsplit("\n", 1)[-1]
            text = text.rstrip("\n").removesuffix(last) + f"ModuleNotFoundError: {message}\n"
    parts = [struct.pack("<BBI", FAILED, callback, line), _str(type(exc).__name__), _str(message),
             struct.pack("<I", len(frames))]
    for frame in frames:
        parts += [_str(frame.filename), struct.pack("<I", frame.lineno or 0), _str(frame.name)]
    parts.append(_str(text))
    return b"".join(parts)


def _traceback_text(exc, tb):
    """The traceback as Python prints it, without the carets under each line (`~~~^^^`),
    as the original plugin's Python 3.10 printed it. Working the carets out parses the
    line, and a line that does not parse alone makes CPython look for a source file named
    `<unknown>`: a round trip through the sandbox's file system in every failed block."""
    shown = traceback.TracebackException(type(exc), exc, tb)
    todo, seen = [shown], set()
    while todo:
        each = todo.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        for frame in each.stack:
            frame.colno = frame.end_colno = None
        todo.extend(chained for chained in (each.__cause__, each.__context__) if chained is not None)
        todo.extend(each.exceptions or ())
    return "".join(shown.format())


def _str(text):
    """A `str` field: u32 byte length, then UTF-8."""
    data = text.encode("utf-8", "replace")
    return struct.pack("<I", len(data)) + data


def _unpack_str(buf, at):
    (n,) = struct.unpack_from("<I", buf, at)
    return bytes(buf[at + 4:at + 4 + n]).decode("utf-8"), at + 4 + n


class Dispatcher:
    def __init__(self):
        self.area = _pyproc_door.Area(COMMAND_AREA_BYTES)
        self.path_scratch = np.zeros(PATH_SCRATCH_BYTES, np.uint8)
        self.processor = oe_pyprocessor.PythonProcessor()
        self.events = self.processor._events
        self.spikes = self.processor._spikes
        self.script = None          # path of the loaded script
        self.module = None
        self.instance = None
        self.process = None
        self.optional = {}
        self.num_channels = 0
        self.buffer = None          # flat float32, C order
        self.views = {}             # num_samples -> ((num_channels, num_samples) view of buffer, its shape)
        self.viewer = False         # runs the script's PyVisualizer, not its PyProcessor

    def answer(self, callback):
        """DONE with the events and spikes emitted since the last answer. What `add_python_event`
        and `add_python_spike` did not put there (a script writing into the processor's
        private lists) fails `callback` with an exception that says so, and is dropped."""
        events, spikes = self.events, self.spikes
        try:
            if not spikes:
                if not events:
                    return DONE_NOTHING
                n = len(events)
                packer = _done_events.get(n)
                if packer is None:
                    packer = struct.Struct("<BI" + EVENT_FORMAT[1:] * n + "I")
                    if n <= DONE_EVENTS_CACHED:
                        _done_events[n] = packer
                answer = packer.pack(DONE, n, *itertools.chain.from_iterable(events), 0)
                events.clear()
                return answer
            parts = [struct.pack("<BI", DONE, len(events))]
            parts.extend(_event.pack(*e) for e in events)
            parts.append(struct.pack("<I", len(spikes)))
            for sample_number, channel, sorted_id, waveform in spikes:
                if not 0 <= sorted_id <= 65535:
                    raise ValueError(f"sorted_id {sorted_id!r} is not from 0 to 65535")
                if waveform is None:
                    parts.append(_spike.pack(sample_number, channel, sorted_id, 0))
                elif type(waveform) is bytes and len(waveform) == 4 * SPIKE_SAMPLES:
                    parts.append(_spike.pack(sample_number, channel, sorted_id, SPIKE_SAMPLES))
                    parts.append(waveform)
                else:
                    raise ValueError(f"a waveform of {type(waveform).__name__} is not {SPIKE_SAMPLES} float32 values as bytes")
        except Exception as exc:
            self.discard_emitted()
            name = {CB_PROCESS: "process", CB_INIT: "__init__"}.get(callback) or OPTIONAL[callback]
            raise Failure(callback, TypeError(
                f"pyproc cannot send what {name} emitted ({type(exc).__name__}: {exc}): the processor's "
                f"_events and _spikes lists hold what add_python_event and add_python_spike put there; "
                f"emit through those methods instead of changing the lists"), self.script)
        events.clear()
        spikes.clear()
        return b"".join(parts)

    def discard_emitted(self):
        """A failed block's events and spikes go with it."""
        self.events.clear()
        self.spikes.clear()

    def serve(self):
        replies = _pyproc_door.replies
        scratch = self.path_scratch.__array_interface__["data"][0]
        request = struct.pack("<BIIIIII", HELLO, self.area.addr, self.area.size, replies.addr, replies.size,
                              scratch, PATH_SCRATCH_BYTES)
        # The block path runs every few milliseconds: locals, not attributes, where they
        # seldom change (`views` is cleared in place, never replaced; the area only grows).
        views, clock = self.views, CLOCK
        area_view = self.area.view
        words = area_view.cast("q")  # PROCESS's words (PROCESS_FORMAT)
        while True:
            # Every command arrives in the command area; the call itself answers b''.
            _call(request)
            try:
                # A block: its first word is PROCESS alone.
                if words[0] == PROCESS:
                    n = words[2]
                    failed = None
                    # From here until the timers after `process` have run, the script is in
                    # this block: the events it emits go at the block's first sample, after
                    # those emitted between blocks (as the original plugin's queue has them).
                    processor = self.processor
                    processor._block_start = start = words[1]
                    processor._in_block = processor._acquiring = True
                    if processor._next_block:
                        self.events.extend([(start, line, state) for line, state in processor._next_block])
                        processor._next_block.clear()
                    # The events and spikes queued since the last command reach their
                    # handlers first, in the order they arrived, as separate calls did.
                    records = words[3]
                    if records:
                        try:
                            self.deliver(area_view, records, words[4], words[5], words[6], words[7])
                        except Failure as failure:
                            failed = failure
                        else:
                            _call(STAGE_PROCESS)  # a hang from here on is process's
                    processor._block_len = n  # a spike without a waveform: only from process
                    view = views.get(n)
                    if view is None:
                        view = self.view(n)
                    data, shape = view
                    delivered = clock.delivered + n  # the block has arrived: the stream's clock moves on
                    clock.delivered = delivered
                    if failed is None:
                        try:
                            self.process(data)
                        except BaseException as exc:
                            failed = Failure(CB_PROCESS, exc, self.script)
                        finally:
                            processor._block_len = 0
                    else:
                        processor._block_len = 0
                    if failed is None and (data.dtype is not FLOAT32 or data.shape != shape):
                        # The host copies raw float32 bytes back: a reinterpreted view would
                        # silently corrupt the block. Refuse it, and forget the view.
                        views.pop(n, None)
                        failed = Failure(CB_PROCESS, TypeError(
                            f"process changed data in place to dtype {data.dtype} and shape {data.shape}; "
                            f"it must stay float32 ({self.num_channels}, {n}): edit the values instead, "
                            f"e.g. data[:] = new_values"), self.script)
                    if failed is not None:
                        self.discard_emitted()
                    # Timers run between callbacks: after process, whatever it did. What they
                    # emit goes out with this block (after a failed one, with the next answer).
                    if clock.next_due <= delivered:
                        clock.run_due()
                    processor._in_block = False
                    if failed is not None:
                        raise failed
                    # Most blocks emit nothing: answer without a call.
                    request = self.answer(CB_PROCESS) if self.events or self.spikes else DONE_NOTHING
                    continue
                op = area_view[0]
                if op == WAIT:
                    # The host yields to its caller here; the next command is there when
                    # the guest runs again.
                    request = NEXT_FRAME
                    continue
                while op == GROW:  # a command larger than the area (never a block's)
                    self.area = self.area.grown(_pyproc_door.AREA_COMMAND)
                    area_view = self.area.view
                    words = area_view.cast("q")
                    op = area_view[0]
                cmd = area_view
                self.processor._in_block = False  # in case a block ended by an exception
                if op == EVENTS:
                    self.deliver(cmd, *_events_header.unpack_from(cmd, 24))
                    request = self.answer(cmd[RECORDS_AT] == SPIKE and CB_HANDLE_SPIKE or CB_HANDLE_TTL_EVENT)
                elif op == CALL:
                    request = self.call(cmd[1])
                elif op == START_RECORDING:
                    directory, _ = _unpack_str(cmd, 1)
                    request = self.call(CB_START_RECORDING, directory)
                elif op == RESERVE:
                    (floats,) = struct.unpack_from("<I", cmd, 1)
                    request = self.reserve(floats)
                elif op == LOAD:
                    request = self.load(cmd)
                elif op == SET_STREAM:
                    num_channels, rate = struct.unpack_from("<Id", cmd, 1)
                    request = _replacing_timers(rate, lambda: self.construct(self.module, num_channels, rate))
                elif op == VIEW:
                    request = self.update(cmd)
                elif op == QUIT:
                    return
                else:
                    raise RuntimeError(f"pyproc runtime: unknown command {op}")
            except Failure as failure:
                request = failure.frame
            dropped = self.processor._dropped_outside
            if dropped:
                self.processor._dropped_outside = 0
                _call(struct.pack("<BI", DROPPED, dropped))

    def view(self, n):
        if len(self.views) > 16:
            self.views.clear()
        shape = (self.num_channels, n)
        view = (self.buffer[: self.num_channels * n].reshape(shape), shape)
        self.views[n] = view
        return view

    def reserve(self, floats):
        try:
            buffer = np.zeros(floats, np.float32)
        except MemoryError as exc:
            raise Failure(CB_PROCESS, exc, self.script)
        self.buffer = buffer
        self.views.clear()
        addr = self.buffer.__array_interface__["data"][0]
        return struct.pack("<BII", BUFFER, addr, floats)

    def call(self, callback, *args):
        processor = self.processor
        if callback == CB_START_ACQUISITION:
            processor._acquiring = True
        elif callback == CB_STOP_ACQUISITION:
            # Acquisition is over as the callback starts (the GUI's play button is off):
            # what was left for a next block, and what it emits, is dropped.
            processor._acquiring = False
            processor._dropped_outside += len(processor._next_block)
            processor._next_block.clear()
        method = self.optional.get(callback)
        if method is not None:
            try:
                method(*args)
            except BaseException as exc:
                raise Failure(callback, exc, self.script)
        return self.answer(callback)

    def deliver(self, cmd, count, record_bytes, floats, channels, samples):
        """Calls the script's handlers for the `count` queued records that follow the
        command's header, in order; the spikes' waveforms (`floats` values) follow the
        records, all of shape (`channels`, `samples`) unless those are 0. A handler that
        raises ends the delivery (the records after it are not delivered) with that
        handler's Failure. The host has started the command on the first record's handler;
        each change of handler is announced, so a deadline is blamed on the right one."""
        on_ttl = self.optional.get(CB_HANDLE_TTL_EVENT)
        on_spike = self.optional.get(CB_HANDLE_SPIKE)
        unpack_ttl = _ttl_record.unpack_from
        ttl_bytes, spike_bytes = _ttl_record.size, _spike_record.size
        at = RECORDS_AT
        waveforms = None
        if floats:
            # One read-only copy of every waveform; each spike_data is a view of it.
            waveforms = np.frombuffer(cmd, FLOAT32, floats, at + record_bytes).copy()
            waveforms.flags.writeable = False
            if channels:
                waveforms = waveforms.reshape(-1, channels, samples)
        w = 0  # the next waveform: its index, or (shapes differ) its first value
        running = cmd[at]
        channel = electrode = None
        for _ in range(count):
            # Every record is at least a TTL record long: read one, then see what it is.
            kind, line, state, n, source_node, sample_number = unpack_ttl(cmd, at)
            if kind != running:
                running = kind
                _call(STAGE_HANDLER[kind])
            if kind == TTL:
                at += ttl_bytes
                if n != SAME_NAME:
                    channel = str(cmd[at:at + n], "utf-8")
                    at += n
                if on_ttl is not None:
                    try:
                        on_ttl(source_node, channel, sample_number, line, state == 1)
                    except BaseException as exc:
                        raise Failure(CB_HANDLE_TTL_EVENT, exc, self.script)
            elif kind == SPIKE:
                _, n, nch, ns, source_node, sample_number, sorted_id = _spike_record.unpack_from(cmd, at)
                at += spike_bytes
                if n != SAME_NAME:
                    electrode = str(cmd[at:at + n], "utf-8")
                    at += n
                if channels:
                    spike_data = waveforms[w]
                    w += 1
                else:
                    spike_data = waveforms[w:w + nch * ns].reshape(nch, ns)
                    w += nch * ns
                if on_spike is not None:
                    try:
                        on_spike(source_node, electrode, nch, ns, sample_number, sorted_id, spike_data)
                    except BaseException as exc:
                        raise Failure(CB_HANDLE_SPIKE, exc, self.script)
            else:
                raise RuntimeError(f"pyproc runtime: unknown queued record {kind}")

    def update(self, cmd):
        """A viewer's `update(published)`; the figure's pixels go out as `figure`."""
        try:
            _pyproc_viewer.render(self.instance, _pyproc_viewer.decode(cmd), self.processor._published)
        except BaseException as exc:
            raise Failure(CB_UPDATE, exc, self.script)
        return DONE_NOTHING

    def load(self, cmd):
        num_channels, rate, seed, viewer = struct.unpack_from("<IdQB", cmd, 1)
        self.viewer = bool(viewer)
        path, at = _unpack_str(cmd, 22)
        source, _ = _unpack_str(cmd, at)
        name = _module_name(path)
        _put_script_folder_on_path(path)
        # Same seed, same numbers: every load starts the script's random state afresh; a
        # load that fails gives the running processor its own state back.
        saved = random.getstate(), np.random.get_state()
        random.seed(seed)
        np.random.seed([seed & 0xFFFFFFFF, seed >> 32])
        try:
            answer = _replacing_timers(rate, lambda: self.import_and_construct(name, path, source, num_channels, rate))
        except Failure:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            raise
        sys.modules[name] = self.module
        _warn_about_signatures(self.instance, path)
        return answer

    def import_and_construct(self, name, path, source, num_channels, rate):
        module = self.import_script(name, path, source)
        previous = self.script
        self.script = path
        try:
            return self.construct(module, num_channels, rate)
        except Failure:
            self.script = previous
            raise

    def import_script(self, name, path, source):
        module = types.ModuleType(name)
        module.__file__ = path
        # The script's file is not visible in the sandbox; tracebacks read its lines here.
        linecache.cache[path] = (len(source), None, source.splitlines(True), path)
        try:
            exec(compile(source, path, "exec"), module.__dict__)
        except BaseException as exc:
            raise Failure(CB_IMPORT, exc, path)
        if self.viewer:
            try:
                _pyproc_viewer.check_class(module, path)
            except AttributeError as exc:
                raise Failure(CB_IMPORT, exc, path)
        elif not isinstance(getattr(module, "PyProcessor", None), type):
            exc = AttributeError(f"{path} defines no class PyProcessor; a processor script must define one")
            raise Failure(CB_IMPORT, exc, path)
        return module

    def construct(self, module, num_channels, rate):
        """A new PyProcessor; the running one is kept if this one fails."""
        processor = oe_pyprocessor.PythonProcessor(num_channels)
        old = self.processor
        processor._block_start, processor._acquiring = old._block_start, old._acquiring
        processor._next_block, processor._dropped_outside = old._next_block, old._dropped_outside
        processor._published = old._published  # the host keeps the names: so does the cap
        _call(bytes([STAGE, CB_INIT]))  # a hang from here on is __init__'s, not the import's
        try:
            if self.viewer:
                instance = module.PyVisualizer(num_channels, rate)
                process = instance.update
            else:
                instance = module.PyProcessor(processor, num_channels, rate)
                process = instance.process
        except BaseException as exc:
            raise Failure(CB_INIT, exc, self.script)
        # What __init__ emitted goes out with the answer; if it cannot, this one fails too.
        kept = self.events, self.spikes
        self.events, self.spikes = processor._events, processor._spikes
        try:
            answer = self.answer(CB_INIT)
        except Failure:
            self.events, self.spikes = kept
            raise
        self.module, self.instance, self.process = module, instance, process
        self.optional = {cb: getattr(instance, name, None) for cb, name in OPTIONAL.items()}
        # Tell the host which callbacks exist, so it skips the round trip for the others.
        mask = sum(1 << cb for cb, method in self.optional.items() if method is not None)
        # And whether its channels may be split between interpreters (read from the class:
        # it is a declaration about the code, not about one instance's state).
        _call(struct.pack("<BHB", HANDLES, mask, _traits(module.PyProcessor)))
        self.processor = processor
        if num_channels != self.num_channels:
            self.num_channels = num_channels
            self.views.clear()
        return answer


def _traits(cls):
    """The HANDLES frame's trait bits the class declares. Only `channel_independent = True`
    itself counts; a metaclass whose lookup raises declares nothing."""
    try:
        independent = getattr(cls, "channel_independent", False) is True
    except Exception:
        independent = False
    return TRAIT_CHANNEL_INDEPENDENT if independent else 0


def _replacing_timers(rate, make):
    """Runs `make`, which makes a new PyProcessor for a stream of `rate` samples per second.
    The new one cancels the timers started before it; a failed one, those started while it
    was being made (the running processor keeps its own)."""
    before = CLOCK.waiting()
    previous_rate, CLOCK.rate = CLOCK.rate, rate
    try:
        answer = make()
    except Failure:
        CLOCK.rate = previous_rate
        CLOCK.cancel([timer for timer in CLOCK.waiting() if timer not in before])
        raise
    CLOCK.cancel(before)
    return answer


_script_modules = set()


def _module_name(path):
    """The script's module name: its file's stem (as the original plugin imports it),
    unless that would shadow a real module (a script named numpy.py, signal.py or
    random.py); then a private name, so later imports still get the real one."""
    name = path.rsplit("/", 1)[-1].removesuffix(".py") or "script"
    if name not in _script_modules:
        try:
            taken = name in sys.modules or importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            taken = True
        if taken:
            return f"_pyproc_script_{name}"
        _script_modules.add(name)
    return name


def _warn_about_signatures(instance, path):
    """A callback that cannot take what pyproc passes fails on every call: say so now."""
    for name, args in ARGUMENTS.items():
        method = getattr(instance, name, None)
        if method is None:
            continue
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):
            continue
        try:
            signature.bind(*args)
        except TypeError:
            code = getattr(getattr(method, "__func__", method), "__code__", None)
            where = f"{path}:{code.co_firstlineno}" if code and code.co_filename == path else path
            print(f"pyproc: {where}: {name}{signature} cannot take the {len(args)} argument(s) "
                  f"pyproc passes: ({', '.join(args)})", file=sys.stderr)


def _put_script_folder_on_path(path):
    """The original plugin imports the script from its folder: sibling modules import.
    The folder is there only when it is granted (readable); then it goes first."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    if folder and folder not in sys.path and os.path.isdir(folder):
        sys.path.insert(0, folder)
        importlib.invalidate_caches()


# WASI's O_RDWR is O_RDONLY | O_WRONLY: test the write bit, not the read-write value.
_OPEN_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Audit events that touch a path: which arguments are paths, what for, and which argument
# is a dir_fd (a path relative to a descriptor is not checked here; the sandbox still is).
_PATH_EVENTS = {
    "os.listdir": ((0,), NEED_READ, None), "os.scandir": ((0,), NEED_READ, None),
    "os.mkdir": ((0,), NEED_MAKE_FOLDER, 2), "os.remove": ((0,), NEED_WRITE, 1),
    "os.rmdir": ((0,), NEED_WRITE, 1), "os.chmod": ((0,), NEED_WRITE, 2),
    "os.utime": ((0,), NEED_WRITE, 3), "os.truncate": ((0,), NEED_WRITE, None),
    "os.rename": ((0, 1), NEED_WRITE, 2), "os.link": ((0, 1), NEED_WRITE, 2),
    "os.symlink": ((1,), NEED_WRITE, 2), "shutil.copyfile": ((1,), NEED_WRITE, None),
}


def _audit(event, args):
    """Asks the host before a file is opened or changed, so that a path the script was not
    granted raises a PermissionError naming the flag that would allow it. The sandbox
    refuses such paths anyway; this only gives the refusal its words."""
    if event == "open":
        path, mode, flags = args
        write = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _OPEN_WRITE_FLAGS != 0)
        _check(path, NEED_WRITE if write else NEED_READ)
        return
    spec = _PATH_EVENTS.get(event)
    if spec is None:
        return
    positions, need, dir_fd = spec
    if dir_fd is not None and len(args) > dir_fd and args[dir_fd] not in (None, -1):
        return  # -1: CPython's way of saying "no dir_fd"
    for i in positions:
        _check(args[i] if len(args) > i else None, need)


def _check(path, need):
    if path is None or isinstance(path, int):
        return
    try:
        path = os.fsdecode(path)
    except TypeError:
        return
    if path.startswith("<") and path.endswith(">"):
        # A name CPython gives code without a file (`<unknown>`, `<string>`), which
        # tracebacks try to read lines from: nothing to say about it, and asking would cost
        # a round trip (and the host an allocation) in every failed block.
        return
    if not path.startswith("/"):
        path = os.path.join(os.getcwd(), path)
    refusal = _ask(path, need, _the_scripts_doing())
    if refusal:
        raise PermissionError(errno.EACCES, refusal, path)


def _is_library(filename):
    return filename.startswith(STDLIB_ZIP) or filename.startswith("<frozen ")


def _the_scripts_doing():
    """Whether the access being checked is the script's: the nearest frame that decides is
    the script's own code (its file, modules beside it, code it exec'd) — yes — or the
    runtime's (looking for the script's folder, reading source lines for a traceback), or a
    library module's top level running as it is imported (matplotlib looking for fonts and
    config files) — no. Library functions the script calls
    (`np.load(path)`) decide nothing: the script's frame above them does."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(RUNTIME_PREFIX):
            if frame.f_code.co_name not in ("_audit", "_check", "_stat"):
                return False
        elif not _is_library(filename):
            return True
        elif frame.f_code.co_name == "<module>":
            return False
        frame = frame.f_back
    return False


_os_stat = os.stat


def _stat(path, *args, **kwargs):
    """`os.stat`, which `os.path.exists`/`isfile`/`isdir` and pathlib use: an ungranted
    path is refused as before, and listed as a look (CPython raises no audit event here)."""
    if not kwargs.get("dir_fd"):
        _check(path, NEED_LOOK)
    return _os_stat(path, *args, **kwargs)


def _ask(path, need, report):
    """The host's refusal of `path` for `need` ('' when allowed); `report`: list it."""
    return _pyproc_door.ask(bytes([ACCESS, need, report]) + path.encode("utf-8", "replace")).decode("utf-8", "replace")


# Set once, in the interpreter the ready snapshot captures.
_pyproc_timers.install()
_pyproc_matplotlib.install()


def serve():
    sys.stdout = _DoorWriter(1)
    sys.stderr = _DoorWriter(2)
    sys.addaudithook(_audit)
    os.stat = _stat
    Dispatcher().serve()
