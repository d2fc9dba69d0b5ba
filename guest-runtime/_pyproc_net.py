"""The door to the host's network service: one frame per socket operation, answered at
once. The layouts are in guest-runtime/README.md; the numbers (NET_* opcodes, statuses,
kinds and flags) come from `_pyproc_wire`. The `socket` module scripts import
(`_pyproc_socket`) and `select.select` (`_pyproc_select`) are built on these calls.

A blocking call waits on the host, never past the running callback's deadline: the host
answers with a timeout a little before it, raised here as `TimeoutError`."""

import errno
import struct

import _socket
import numpy as np

import _pyproc_door

from _pyproc_wire import *  # noqa: F403 - NET_* opcodes, statuses, kinds and flags


# Filenos of host sockets start here, far above the interpreter's own descriptor table, so
# `select.select` can tell them from its files.
FD_BASE = 1 << 20
# The socket module's value for a failed lookup (Linux's), raised as socket.gaierror.
EAI_NONAME = -2
# recv(n) reads into a reused buffer up to this size, and into a fresh one above it.
SCRATCH_BYTES = 64 * 1024
# The most one recv asks for (a recv may return less than asked, as natively).
MAX_RECV = 16 * 1024 * 1024

_open = struct.Struct("<BB")
_connect = struct.Struct("<BIdH")
_bind = struct.Struct("<BIH")
_listen = struct.Struct("<BII")
_accept = struct.Struct("<BId")
_send = struct.Struct("<BIdH")
_recv = struct.Struct("<BIdBII")
_handle = struct.Struct("<BI")
_shutdown = struct.Struct("<BIB")
_select = struct.Struct("<BdI")
_wait = struct.Struct("<IB")
_resolve = struct.Struct("<BH")
_info = struct.Struct("<BIB")
_u32 = struct.Struct("<I")
_u16 = struct.Struct("<H")
_ready = struct.Struct("<IB")


def _str(text):
    data = text.encode("utf-8", "surrogateescape")
    return _u32.pack(len(data)) + data


def _read_str(reply, at):
    (n,) = _u32.unpack_from(reply, at)
    return reply[at + 4:at + 4 + n].decode("utf-8", "replace"), at + 4 + n


def _seconds(timeout):
    """The wire's timeout: negative blocks (until the callback's deadline), 0 never waits."""
    return -1.0 if timeout is None else float(timeout)


def _ask(frame):
    """Sends `frame`; the answer after its OK status, or the exception it carries."""
    reply = _pyproc_door.ask(frame)
    status = reply[0]
    if status == NET_OK:
        return reply
    name, at = _read_str(reply, 1)
    message, _ = _read_str(reply, at)
    if status == NET_DENIED:
        raise PermissionError(message)
    if status == NET_TIMED_OUT:
        raise TimeoutError(message)
    if status == NET_DEADLINE:
        late = TimeoutError(message)
        late.pyproc_deadline = True  # connect_ex must raise this one, not return an errno
        raise late
    if name == "EAI_NONAME":
        raise _socket.gaierror(EAI_NONAME, message)
    # OSError picks the subclass from the errno: ConnectionRefusedError, BlockingIOError...
    raise OSError(getattr(errno, name, errno.EIO), message)


def open_socket(kind, description):
    """A host socket handle for NET_TCP or NET_UDP; any other kind (0) is refused."""
    return _u32.unpack_from(_ask(_open.pack(NET_OPEN, kind) + _str(description)), 1)[0]


def connect(handle, timeout, host, port):
    _ask(_connect.pack(NET_CONNECT, handle, _seconds(timeout), port) + _str(host))


def bind(handle, host, port):
    _ask(_bind.pack(NET_BIND, handle, port) + _str(host))


def listen(handle, backlog):
    _ask(_listen.pack(NET_LISTEN, handle, backlog))


def _address(reply, at):
    (port,) = _u16.unpack_from(reply, at)
    host, _ = _read_str(reply, at + 2)
    return host, port


def accept(handle, timeout):
    """(new handle, (host, port) of the peer)."""
    reply = _ask(_accept.pack(NET_ACCEPT, handle, _seconds(timeout)))
    return _u32.unpack_from(reply, 1)[0], _address(reply, 5)


def send(handle, timeout, data, to=None):
    """Bytes sent; `to` is (host, port) for a datagram."""
    host, port = to if to is not None else ("", 0)
    frame = b"".join((_send.pack(NET_SEND, handle, _seconds(timeout), port), _str(host), data))
    return _u32.unpack_from(_ask(frame), 1)[0]


_scratch = bytearray(SCRATCH_BYTES)
_scratch_addr = np.frombuffer(_scratch, np.uint8).__array_interface__["data"][0]


def _writable_address(buffer, nbytes):
    """The address of `buffer`'s first byte, which the host writes into directly."""
    view = np.frombuffer(buffer, np.uint8)
    if not view.flags.writeable:
        raise TypeError("recv_into() argument 'buffer' must be read-write bytes-like object")
    if nbytes > view.size:
        raise ValueError("buffer too small for requested bytes")
    return view.__array_interface__["data"][0]


def recv_into(handle, timeout, buffer, nbytes, peek=False):
    """Bytes received into `buffer` (at most `nbytes`) and the (host, port) they came
    from (('', 0) on a stream)."""
    addr = _writable_address(buffer, nbytes)
    reply = _ask(_recv.pack(NET_RECV, handle, _seconds(timeout), NET_PEEK if peek else 0, addr, nbytes))
    return _u32.unpack_from(reply, 1)[0], _address(reply, 5)


def recv(handle, timeout, bufsize, peek=False):
    """(bytes, (host, port)), at most `bufsize` bytes."""
    bufsize = min(bufsize, MAX_RECV)
    if bufsize <= SCRATCH_BYTES:
        reply = _ask(_recv.pack(NET_RECV, handle, _seconds(timeout), NET_PEEK if peek else 0, _scratch_addr, bufsize))
        n = _u32.unpack_from(reply, 1)[0]
        return bytes(_scratch[:n]), _address(reply, 5)
    buffer = bytearray(bufsize)
    n, source = recv_into(handle, timeout, buffer, bufsize, peek)
    del buffer[n:]
    return bytes(buffer), source


def close(handle):
    _ask(_handle.pack(NET_CLOSE, handle))


def shutdown(handle, how):
    _ask(_shutdown.pack(NET_SHUTDOWN, handle, how))


def select(waits, timeout):
    """`waits`: {handle: NET_READ | NET_WRITE | NET_EXCEPT bits}; the ready ones, with the
    bits that are ready."""
    parts = [_select.pack(NET_SELECT, _seconds(timeout), len(waits))]
    parts.extend(_wait.pack(handle, bits) for handle, bits in waits.items())
    reply = _ask(b"".join(parts))
    (count,) = _u32.unpack_from(reply, 1)
    return dict(_ready.unpack_from(reply, 5 + 5 * i) for i in range(count))


def resolve(host, port=0):
    """The IPv4 addresses of `host`, a name the grants allow (or a numeric address)."""
    reply = _ask(_resolve.pack(NET_RESOLVE, port) + _str(host))
    (count,) = _u32.unpack_from(reply, 1)
    addresses, at = [], 5
    for _ in range(count):
        address, at = _read_str(reply, at)
        addresses.append(address)
    return addresses


def local_address(handle):
    return _address(_ask(_info.pack(NET_INFO, handle, NET_LOCAL_ADDRESS)), 1)


def peer_address(handle):
    return _address(_ask(_info.pack(NET_INFO, handle, NET_PEER_ADDRESS)), 1)


def pending_error(handle):
    """The errno a non-blocking connect ended with (0: none), for SO_ERROR."""
    name, _ = _read_str(_ask(_info.pack(NET_INFO, handle, NET_PENDING_ERROR)), 1)
    return getattr(errno, name, errno.EIO) if name else 0
