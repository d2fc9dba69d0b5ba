"""pyproc: run Open Ephys Python Processor scripts, each in its own WebAssembly sandbox
(CPython 3.15 with numpy and scipy, inside wasmtime), from Python.

- :class:`Processor`: one script, block by block (numpy float32 ``(channels, samples)``
  arrays changed in place); ``Processor.from_source`` for a script given as text.
- :func:`run`: ``pyproc run`` over a recording or the synthetic stream, returning its
  :class:`Report`.
- :func:`run_many`: one script over many recordings, on a process pool or a Dask cluster.
- :mod:`pyproc.testing`: the synthetic stream and a feeding loop, for pytest.
- :class:`ScriptError` (the script raised) and :class:`PyprocError` (everything else).

The interpreter is fetched and compiled on first use (cached in ``PYPROC_CACHE_DIR``, else
``~/.cache/pyproc``), with each step printed on ``sys.stderr``; :func:`prepare` does it now.
"""

from ._errors import PyprocError, ScriptError
from ._many import RecordingRun, run_many
from ._processor import Denials, Emitted, Processor, Spike, TtlEvent
from ._run import Report, prepare, run

__all__ = [
    "Denials",
    "Emitted",
    "Processor",
    "PyprocError",
    "RecordingRun",
    "Report",
    "ScriptError",
    "Spike",
    "TtlEvent",
    "prepare",
    "run",
    "run_many",
]
