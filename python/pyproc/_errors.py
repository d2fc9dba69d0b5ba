"""The exceptions pyproc raises (the native module creates them)."""

from __future__ import annotations

from typing import List, Optional, Tuple


class PyprocError(Exception):
    """A failure of pyproc itself or of its input: a script that cannot be read, a
    recording that cannot be opened, a grant to a missing folder, a callback stopped at its
    deadline. ``str(error)`` is the message the ``pyproc`` command prints."""


class ScriptError(PyprocError):
    """The script raised a Python exception in one of its callbacks.

    Attributes: ``script`` (its path), ``callback`` (``"process"``, ``"__init__"``,
    ``"import"``, ``"handle_ttl_event"`` ...), ``type_name`` (``"ValueError"``),
    ``message`` (``str()`` of the exception), ``line`` (the script's line, or None),
    ``frames`` (list of ``(file, line, function)``, outermost first, pyproc's own frames
    left out) and ``traceback`` (the whole traceback as Python prints it).
    """

    def __init__(
        self,
        text: str,
        script: str,
        callback: str,
        type_name: str,
        message: str,
        line: Optional[int],
        frames: List[Tuple[str, int, str]],
        traceback: str,
    ) -> None:
        super().__init__(text)
        self.script = script
        self.callback = callback
        self.type_name = type_name
        self.message = message
        self.line = line
        self.frames = [tuple(f) for f in frames]
        self.traceback = traceback

    def __reduce__(self):  # picklable, so it crosses process pools and Dask
        return (
            ScriptError,
            (str(self), self.script, self.callback, self.type_name, self.message, self.line, self.frames, self.traceback),
        )
