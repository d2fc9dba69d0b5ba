"""`select.select` that understands the host's sockets (`_pyproc_socket`).

`install()` replaces `select.select` during the runtime's setup. Lists holding only the
interpreter's own files go to the original; host sockets are asked about in one request,
which waits on the host (never past the callback's deadline). Files listed together with
host sockets are checked without waiting, then the sockets with the timeout."""

import select as _select

import _pyproc_net as _net
from _pyproc_net import FD_BASE
from _pyproc_wire import NET_EXCEPT, NET_READ, NET_WRITE

_native_select = _select.select


def _fd(obj):
    fd = obj if isinstance(obj, int) else obj.fileno()
    if not isinstance(fd, int):
        raise TypeError("fileno() returned a non-integer")
    if fd < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({fd})")
    return fd


def select(rlist, wlist, xlist, timeout=None):
    if timeout is not None:
        timeout = float(timeout)
        if timeout < 0:
            raise ValueError("timeout must be non-negative")
    lists = [list(rlist), list(wlist), list(xlist)]
    bits = (NET_READ, NET_WRITE, NET_EXCEPT)
    waits, files = {}, [[], [], []]
    for i, objects in enumerate(lists):
        for obj in objects:
            fd = _fd(obj)
            if fd >= FD_BASE:
                waits[fd - FD_BASE] = waits.get(fd - FD_BASE, 0) | bits[i]
            else:
                files[i].append(obj)
    if not waits:
        return _native_select(rlist, wlist, xlist, timeout)
    ready_files = [[], [], []]
    if any(files):
        ready_files = list(_native_select(*files, 0))
        if any(ready_files):
            timeout = 0.0
    ready = _net.select(waits, timeout)
    result = []
    for i, objects in enumerate(lists):
        hits = [obj for obj in objects if _fd(obj) >= FD_BASE and ready.get(_fd(obj) - FD_BASE, 0) & bits[i]]
        result.append(hits + list(ready_files[i]))
    return tuple(result)


def install():
    """Every later `select.select` (the module is shared) understands host sockets."""
    _select.select = select
