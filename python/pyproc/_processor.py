"""``pyproc.Processor``: one PyProcessor script in its own sandboxed interpreter."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

from . import _native

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class TtlEvent:
    """A TTL event the script emitted with ``add_python_event``."""

    sample_number: int
    line: int
    state: bool


@dataclass(frozen=True)
class Spike:
    """A spike the script emitted with ``add_python_spike``: ``channel`` is the stream's
    channel index; ``waveform`` is the script's own (float32, 40 values) or None when the
    script left the cutting to the caller (``pyproc run`` cuts 8 samples before
    ``sample_number`` and 32 from it on, from the processed data)."""

    sample_number: int
    channel: int
    sorted_id: int
    waveform: Optional[np.ndarray] = field(default=None, compare=False)


@dataclass(frozen=True)
class Emitted:
    """What one ``process`` call returned: the TTL events and spikes the script emitted
    since the previous ``process`` (from any callback), and ``passed_through``: None when
    the script ran, else why the block went through untouched (the interpreter restarting
    after a failure, or switched off)."""

    events: List[TtlEvent]
    spikes: List[Spike]
    passed_through: Optional[str] = None


@dataclass(frozen=True)
class Denials:
    """Accesses the script tried without a grant: how many, and the first few, each a
    ``(callback, what, fix)`` with the flag (keyword) that would allow it."""

    count: int
    first: List[tuple]


def _strings(value: Union[None, str, PathLike, Iterable[PathLike]]) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    return [os.fspath(v) for v in value]


def _ports(value: Union[None, int, Sequence[int]]) -> List[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


class Processor:
    """A ``PyProcessor`` script running in its own WebAssembly sandbox.

    >>> p = pyproc.Processor("filter.py", num_channels=64, sample_rate=30000)
    >>> p.start_acquisition()
    >>> out = p.process(block)           # block: float32 (64, samples), changed in place
    >>> out.events, out.spikes

    Grants, as the CLI's flags: ``allow_read`` / ``allow_write`` (paths, or
    ``"HOST::GUEST"``), ``allow_net`` (``"host:port"``), ``allow_listen`` (ports),
    ``script_folder`` (False hides the script's own folder). ``recording_root``: the folder
    under which ``start_recording`` folders lie (default: a temporary folder removed with
    the processor). ``seed``: the script's random state. ``deadline_ms``: how long a
    callback may run (default 1000). What the script prints goes to ``sys.stdout`` /
    ``sys.stderr`` after each call.

    The GIL is released while the script runs: processors on several threads run at once.
    Errors: :class:`pyproc.ScriptError` when the script raises, :class:`pyproc.PyprocError`
    for everything else, ``TypeError`` / ``ValueError`` for a block of the wrong kind.
    """

    def __init__(
        self,
        script: PathLike,
        num_channels: int = 1,
        sample_rate: float = 30000.0,
        *,
        allow_read=None,
        allow_write=None,
        allow_net=None,
        allow_listen=None,
        script_folder: bool = True,
        recording_root: Optional[PathLike] = None,
        seed: int = 0,
        deadline_ms: Optional[int] = None,
        label: Optional[str] = None,
        _source: Optional[str] = None,
    ) -> None:
        self._native = _native.Processor(
            os.fspath(script),
            _source,
            int(num_channels),
            float(sample_rate),
            _strings(allow_read),
            _strings(allow_write),
            _strings(allow_net),
            _ports(allow_listen),
            bool(script_folder),
            None if recording_root is None else os.fspath(recording_root),
            int(seed),
            deadline_ms,
            label,
        )
        self.num_channels = int(num_channels)
        self.sample_rate = float(sample_rate)

    @classmethod
    def from_source(cls, source: str, num_channels: int = 1, sample_rate: float = 30000.0, *, name: str = "script.py", **options) -> "Processor":
        """A processor for Python text that need not be in any file; ``name`` is the file
        name Python shows for it (``__file__``, tracebacks). A script given as text sees no
        folder of its own in the sandbox (grant one with ``allow_read``)."""
        return cls(name, num_channels, sample_rate, _source=source, **options)

    def process(self, block: np.ndarray, first_sample: int = 0) -> Emitted:
        """Runs the script's ``process`` on ``block`` (C-contiguous float32, shape
        ``(num_channels, samples)``, µV) in place; ``first_sample`` is the sample number of
        ``block[:, 0]``. Returns :class:`Emitted`. If the script raises, the block is left as
        it came in and :class:`ScriptError` is raised; the next block runs normally."""
        passed, events, spikes = self._native.process(block, int(first_sample))
        return Emitted(
            events=[TtlEvent(n, line, state) for n, line, state in events],
            spikes=[Spike(n, c, sid, w) for n, c, sid, w in spikes],
            passed_through=passed,
        )

    def handle_ttl_event(self, sample_number: int, line: int, state: bool, *, channel: str = "TTL", source_node: int = 0) -> None:
        """Queues a TTL event for the script's ``handle_ttl_event``; it runs at the start of
        the next ``process`` (or before any other callback)."""
        self._native.handle_ttl_event(int(sample_number), int(line), bool(state), channel, int(source_node))

    def handle_spike(self, sample_number: int, waveform: np.ndarray, *, electrode_name: str = "Electrode 1", sorted_id: int = 0, source_node: int = 0) -> None:
        """Queues a spike (``waveform``: float32 ``(channels, samples)``) for the script's
        ``handle_spike``, delivered as :meth:`handle_ttl_event` delivers events."""
        self._native.handle_spike(int(sample_number), waveform, electrode_name, int(sorted_id), int(source_node))

    def start_acquisition(self) -> None:
        self._native.start_acquisition()

    def stop_acquisition(self) -> None:
        self._native.stop_acquisition()

    def start_recording(self, dir: Optional[PathLike] = None) -> None:
        """Calls ``start_recording`` with ``dir`` (inside ``recording_root``; default: the
        root itself). The script sees it as ``/recordings/0/...``."""
        self._native.start_recording(None if dir is None else os.fspath(dir))

    def stop_recording(self) -> None:
        self._native.stop_recording()

    def reload(self, source: Optional[str] = None) -> None:
        """Reads the script again (or imports ``source`` instead) and constructs a new
        ``PyProcessor``; if that fails, the old one keeps running and the error is raised."""
        self._native.reload(source)

    @property
    def stats(self) -> dict:
        """Restarts and what the output caps dropped: ``restarts``, ``events_dropped``,
        ``spikes_dropped``, ``output_bytes_dropped``, ``frames_refused``,
        ``events_outside_acquisition``."""
        return self._native.stats

    @property
    def status(self) -> str:
        """``Running``, ``Restarting {...}`` or ``Disabled {...}``."""
        return self._native.status

    @property
    def denials(self) -> Denials:
        count, first = self._native.denials
        return Denials(count, list(first))

    @property
    def channel_independent(self) -> bool:
        """Whether the script's class declares ``channel_independent = True``."""
        return self._native.channel_independent

    @property
    def recording_root(self) -> str:
        return os.fspath(self._native.recording_root)

    @property
    def script(self) -> str:
        return os.fspath(self._native.script)

    def __repr__(self) -> str:
        return f"pyproc.Processor({self.script!r}, num_channels={self.num_channels}, sample_rate={self.sample_rate}, status={self.status})"
