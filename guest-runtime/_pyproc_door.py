"""The guest's end of the door for questions: the host answers `ACCESS` and `NET_*` frames
in the reply area (`REPLY`, a length, the bytes), never with memory of its own, so no call
allocates on either side. An answer larger than the area comes with `GROW` instead: a
larger area is made, announced with `AREA`, and the answer is written there. The dispatch
loop's command area grows the same way (`_pyproc_runtime`)."""

import struct

import _host
import numpy as np

from _pyproc_wire import AREA, AREA_HEADER_FORMAT, GROW, REPLY, REPLY_AREA_BYTES

_call = _host.call
_header = struct.Struct(AREA_HEADER_FORMAT)
AREA_COMMAND, AREA_REPLY = 0, 1


class Area:
    """At least `size` bytes of guest memory the host writes into (whole 8-byte words:
    the dispatch loop reads a block's header as words)."""

    def __init__(self, size):
        size = -(-size // 8) * 8
        self.array = np.zeros(size, np.uint8)
        self.view = memoryview(self.array)
        self.addr = self.array.__array_interface__["data"][0]
        self.size = size

    def header(self):
        """(opcode, length) at the start of the area."""
        return _header.unpack_from(self.view, 0)

    def grown(self, kind):
        """The larger area the host asked for with GROW, announced to it; the host writes
        the answer that did not fit into it before this returns."""
        _, needed = self.header()
        area = Area(needed)
        _call(struct.pack("<BBII", AREA, kind, area.addr, needed))
        return area


replies = Area(REPLY_AREA_BYTES)


def ask(frame):
    """Sends a question; the host's answer, as bytes."""
    global replies
    _call(frame)
    op, n = replies.header()
    while op == GROW:
        replies = replies.grown(AREA_REPLY)
        op, n = replies.header()
    if op != REPLY:
        raise RuntimeError(f"pyproc runtime: the host answered a question with {op}")
    start = _header.size
    return bytes(replies.view[start:start + n])
