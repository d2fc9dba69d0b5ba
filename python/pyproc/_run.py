"""``pyproc.run``: ``pyproc run``'s pipeline from Python, the report as an object."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional

from . import _native
from ._processor import PathLike, _ports, _strings


@dataclass
class Report:
    """The report of one run: the fields of ``pyproc run --json`` (``blocks``, ``samples``,
    ``per_block_latency`` as ``{"p50_us", "p99_us", "max_us"}`` or None, ``events_out``,
    ``errors`` as ``{callback: {"count", "first"}}`` ...), ``exit_status`` (what the
    command would exit with: 0, 2 if a callback failed, 130 if interrupted) and ``text``
    (the report as the command prints it; also ``str(report)``)."""

    input: str
    stream: str
    output: str
    interrupted: bool
    blocks: int
    samples: int
    channels: int
    seconds_of_data: float
    wall_seconds: float
    real_time_factor: float
    shards: int
    per_block_latency: Optional[Dict[str, float]]
    events_in: int
    spikes_in: int
    events_out: int
    spikes_out: int
    clipped_samples: int
    passed_through: Optional[Dict[str, Any]]
    errors: Dict[str, Dict[str, Any]]
    denied: Dict[str, Any]
    status: str
    restarts: int
    events_dropped: int
    events_outside_acquisition: int
    spikes_dropped: int
    output_bytes_dropped: int
    exit_status: int = 0
    text: str = field(default="", repr=False)

    @classmethod
    def _from_native(cls, as_json: str, text: str, exit_status: int) -> "Report":
        values = json.loads(as_json)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known}, exit_status=exit_status, text=text)

    @property
    def ok(self) -> bool:
        """No callback failed and the run was not interrupted."""
        return self.exit_status == 0

    @property
    def error_count(self) -> int:
        return sum(e["count"] for e in self.errors.values())

    def __str__(self) -> str:
        return self.text


def _progress_callback(progress: bool):
    """tqdm's bar (``tqdm.auto``: a widget in a notebook) when installed; else None (the
    CLI's own bar, on a terminal); a silent callback when ``progress`` is False."""
    if not progress:
        return lambda done, total: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    state = {"bar": None}

    def update(done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None:
            if total == 0:
                return
            bar = state["bar"] = tqdm(total=total, unit="samples", unit_scale=True, desc="pyproc run", leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def run(
    script: PathLike,
    input: Optional[PathLike] = None,
    output: Optional[PathLike] = None,
    block_size: int = 1024,
    *,
    stream: Optional[str] = None,
    random_seed: int = 0,
    deadline_ms: int = 1000,
    shards: Optional[int] = None,
    assume_channel_independent: bool = False,
    channels: int = 64,
    sample_rate: float = 30000.0,
    seconds: float = 10.0,
    seed: int = 1,
    save_input: Optional[PathLike] = None,
    progress: bool = True,
    allow_read=None,
    allow_write=None,
    allow_net=None,
    allow_listen=None,
    script_folder: bool = True,
) -> Report:
    """Runs ``script`` over a recording (``input``: an Open Ephys Binary recording folder,
    or a folder above a single one) or, with ``input=None``, over the synthetic stream
    (``channels``, ``sample_rate``, ``seconds``, ``seed``), exactly as ``pyproc run``
    does, and returns its :class:`Report`. ``output``: write the processed recording there
    (a new folder, staged beside it and renamed into place when complete). The keywords
    are the command's flags (``--random-seed`` is ``random_seed``, ``--allow-read`` is
    ``allow_read``, ...). A callback's failure does not raise: it is counted in the report
    (``report.errors``, ``report.exit_status == 2``), as the command counts it. Ctrl-C
    stops after the current block (``report.interrupted``). A recording that cannot be
    read or a script that cannot be loaded raises :class:`PyprocError`.
    """
    json_text, text, status = _native.run(
        os.fspath(script),
        None if input is None else os.fspath(input),
        None if output is None else os.fspath(output),
        stream,
        int(block_size),
        int(random_seed),
        int(deadline_ms),
        None if shards is None else int(shards),
        bool(assume_channel_independent),
        _strings(allow_read),
        _strings(allow_write),
        _strings(allow_net),
        _ports(allow_listen),
        bool(script_folder),
        int(channels),
        float(sample_rate),
        float(seconds),
        int(seed),
        None if save_input is None else os.fspath(save_input),
        _progress_callback(progress),
    )
    return Report._from_native(json_text, text, status)


def prepare() -> str:
    """Fetches, verifies and compiles the interpreter now, printing each step on
    ``sys.stderr`` (the first processor or run does it anyway); returns its folder."""
    return _native.prepare()
