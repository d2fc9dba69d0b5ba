"""``pyproc.run_many``: one script over many recordings, one task per recording, on a
local process pool or a Dask cluster."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ._processor import PathLike
from ._run import Report, prepare, run


@dataclass
class RecordingRun:
    """One recording of :func:`run_many`: where it came from, where its output went, and
    its :class:`Report` — or ``error`` (the message) when the run could not complete."""

    input: str
    output: str
    report: Optional[Report] = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok


def output_names(recordings: Sequence[PathLike]) -> List[str]:
    """The output folder name of each recording: its folder name when those are all
    different, else its path below the recordings' common folder with ``/`` as ``_``."""
    paths = [Path(os.path.abspath(os.fspath(r))) for r in recordings]
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    common = Path(os.path.commonpath([str(p) for p in paths]))
    names = ["_".join(p.relative_to(common).parts) or p.name for p in paths]
    if len(set(names)) != len(names):
        raise ValueError(f"two recordings would write the same output folder: {sorted(paths)}")
    return names


def _run_one(script: str, recording: str, output: str, options: Dict[str, Any]) -> RecordingRun:
    """The task: never raises for a recording's own failure, so the others go on."""
    try:
        report = run(script, recording, output, progress=False, **options)
        return RecordingRun(recording, output, report=report)
    except Exception as error:  # the failure becomes this recording's result
        return RecordingRun(recording, output, error=f"{type(error).__name__}: {error}")


def _bar(total: int, progress: bool):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="recordings", desc="pyproc run_many")


def run_many(
    script: PathLike,
    recordings: Sequence[PathLike],
    output_root: PathLike,
    client=None,
    *,
    max_workers: Optional[int] = None,
    progress: bool = True,
    **options,
) -> List[RecordingRun]:
    """Runs ``script`` over each of ``recordings`` (as :func:`pyproc.run`, with
    ``options`` its keywords: grants, ``block_size``, ``random_seed`` ...), writing each
    output to ``output_root/<name>`` (:func:`output_names`). One task per recording:
    without ``client`` on a local process pool (``max_workers``, default one per core);
    with a ``dask.distributed.Client``, submitted to its cluster (the workers need
    pyproc-oe installed and the paths visible). Returns a :class:`RecordingRun` per
    recording, in the order given; a recording that fails carries its ``error`` and the
    others are unaffected. Each output is staged beside its final folder and renamed into
    place only when complete, so a task that dies leaves no partial output folder.
    """
    script = os.path.abspath(os.fspath(script))
    recordings = [os.path.abspath(os.fspath(r)) for r in recordings]
    root = Path(os.path.abspath(os.fspath(output_root)))
    root.mkdir(parents=True, exist_ok=True)
    outputs = [str(root / name) for name in output_names(recordings)]
    results: List[Optional[RecordingRun]] = [None] * len(recordings)
    bar = _bar(len(recordings), progress)
    try:
        if client is None:
            _run_local(script, recordings, outputs, options, max_workers, results, bar)
        else:
            _run_dask(client, script, recordings, outputs, options, results, bar)
    finally:
        if bar is not None:
            bar.close()
    return [r for r in results if r is not None]


def _done(results, index, result, bar):
    results[index] = result
    if bar is not None:
        bar.update(1)


def _run_local(script, recordings, outputs, options, max_workers, results, bar):
    prepare()  # install once here, not in every worker at the same time
    # spawn, not fork: the parent may hold the engine's threads.
    with ProcessPoolExecutor(max_workers=max_workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_run_one, script, rec, out, options): i for i, (rec, out) in enumerate(zip(recordings, outputs))}
        for future in as_completed(futures):
            i = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the worker process died
                result = RecordingRun(recordings[i], outputs[i], error=f"{type(error).__name__}: {error}")
            _done(results, i, result, bar)


def _run_dask(client, script, recordings, outputs, options, results, bar):
    from distributed import as_completed as dask_completed

    client.submit(prepare, pure=False).result()  # install once, before the tasks
    batch = uuid.uuid4().hex[:8]
    futures = {}
    for i, (rec, out) in enumerate(zip(recordings, outputs)):
        future = client.submit(_run_one, script, rec, out, options, key=f"pyproc-run-{batch}-{i}", pure=False)
        futures[future.key] = (i, future)
    for future in dask_completed([f for _, f in futures.values()]):
        i = futures[future.key][0]
        try:
            result = future.result()
        except Exception as error:  # the worker died (KilledWorker) or the task was lost
            result = RecordingRun(recordings[i], outputs[i], error=f"{type(error).__name__}: {error}")
        _done(results, i, result, bar)
