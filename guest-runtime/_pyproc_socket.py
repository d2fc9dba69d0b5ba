"""The `socket` module scripts get: the standard module's interface, served by the host.

WASI preview 1 has no sockets, so every operation here is a request to the host's network
service (`_pyproc_net`), which does it on its own sockets for the addresses the processor
was granted (`--allow-net HOST:PORT`, `--allow-listen PORT`) and refuses everything else
with `PermissionError`. IPv4 TCP and UDP only. `install()` puts this module in
`sys.modules['socket']` during the runtime's setup, before any script runs. Its constants
(Linux's values) are in `_pyproc_socket_values`."""

import errno
import io
import sys
import time

import _pyproc_net as _net
from _pyproc_net import FD_BASE
from _pyproc_socket_values import *  # noqa: F403 - constants, enums, address helpers
from _pyproc_wire import NET_TCP, NET_UDP

# Options a script may set: accepted and kept (the host's sockets already do what matters:
# TCP_NODELAY is always on, listeners reuse their address).
_KEPT_LEVELS = (SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP)
_MULTICAST = (IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP)
_default_timeout = None
_GLOBAL_DEFAULT_TIMEOUT = object()


def getdefaulttimeout():
    return _default_timeout


def setdefaulttimeout(value):
    global _default_timeout
    _default_timeout = _check_timeout(value)


def _check_timeout(value):
    if value is None:
        return None
    value = float(value)
    if value != value:
        raise ValueError("Invalid value NaN (not a number)")
    if value < 0:
        raise ValueError("Timeout value out of range")
    return value


def _name(value, enum_type):
    try:
        return enum_type(value).name
    except ValueError:
        return str(value)


def _address(address, family=AF_INET):
    """(host, port) of an AF_INET address tuple, checked as natively."""
    if not isinstance(address, tuple) or len(address) != 2:
        raise TypeError(f"{_name(family, AddressFamily)} address must be tuple, not {type(address).__name__}")
    host, port = address
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("idna")
    if not isinstance(host, str):
        raise TypeError(f"str, bytes or bytearray expected, not {type(host).__name__}")
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
    if not 0 <= port <= 65535:
        raise OverflowError("getsockaddrarg: port must be 0-65535.")
    if host == "<broadcast>":
        host = "255.255.255.255"
    return host, port


class socket:
    """A TCP or UDP socket over IPv4, held by the host."""

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is not None:
            raise OSError(errno.EBADF, "pyproc cannot make a socket from a descriptor")
        family = AF_INET if family == -1 else family
        type = SOCK_STREAM if type == -1 else type
        kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)
        proto = 0 if proto == -1 else proto
        code = 0
        if family == AF_INET and kind == SOCK_STREAM and proto in (0, IPPROTO_TCP):
            code = NET_TCP
        elif family == AF_INET and kind == SOCK_DGRAM and proto in (0, IPPROTO_UDP):
            code = NET_UDP
        self._handle = None
        description = f"{_name(family, AddressFamily)} {_name(kind, SocketKind)}" + (f" proto {proto}" if proto else "")
        self._handle = _net.open_socket(code, description)
        self._family, self._kind, self.proto = family, kind, proto
        self._timeout = 0.0 if type & SOCK_NONBLOCK else _default_timeout
        self._options = {}
        self._io_refs = 0
        self._closed = False

    family = property(lambda self: AddressFamily(self._family))
    type = property(lambda self: SocketKind(self._kind))

    def __repr__(self):
        state = f"fd={self.fileno()}, family={self._family}, type={self._kind}, proto={self.proto}"
        return f"<socket.socket {'[closed] ' if self._handle is None else ''}{state}>"

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    def __del__(self):
        # Natively a socket closes when it is collected; the host's one must too.
        if getattr(self, "_handle", None) is not None:
            try:
                _net.close(self._handle)
            except Exception:
                pass

    def __getstate__(self):
        raise TypeError(f"cannot pickle {self.__class__.__name__!r} object")

    def _live(self):
        if self._handle is None:
            raise OSError(errno.EBADF, "Bad file descriptor")
        return self._handle

    def fileno(self):
        return -1 if self._handle is None else FD_BASE + self._handle

    def close(self):
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self):
        handle, self._handle = self._handle, None
        if handle is not None:
            _net.close(handle)

    def detach(self):
        raise OSError(errno.EOPNOTSUPP, "pyproc's sockets cannot be detached from the host")

    def dup(self):
        raise OSError(errno.EOPNOTSUPP, "pyproc's sockets cannot be duplicated")

    def settimeout(self, value):
        self._timeout = _check_timeout(value)

    def gettimeout(self):
        return self._timeout

    def setblocking(self, flag):
        self._timeout = None if flag else 0.0

    def getblocking(self):
        return self._timeout != 0.0

    def connect(self, address):
        _net.connect(self._live(), self._timeout, *_address(address, self._family))

    def connect_ex(self, address):
        """connect, with an errno instead of an OSError; a refusal by the grants still
        raises PermissionError."""
        try:
            self.connect(address)
        except PermissionError:
            raise
        except TimeoutError as e:
            if getattr(e, "pyproc_deadline", False):
                raise
            return errno.EAGAIN  # as natively, for a socket timeout
        except OSError as e:
            return e.errno if e.errno is not None else errno.EIO
        return 0

    def bind(self, address):
        _net.bind(self._live(), *_address(address, self._family))

    def listen(self, backlog=min(SOMAXCONN, 128)):
        _net.listen(self._live(), max(0, int(backlog)))

    def accept(self):
        handle, address = _net.accept(self._live(), self._timeout)
        accepted = socket.__new__(socket)
        accepted._handle, accepted._family, accepted._kind, accepted.proto = handle, AF_INET, SOCK_STREAM, 0
        accepted._timeout, accepted._options, accepted._io_refs, accepted._closed = _default_timeout, {}, 0, False
        return accepted, address

    def _call_timeout(self, flags):
        if flags & MSG_OOB:
            raise OSError(errno.EOPNOTSUPP, "Operation not supported: pyproc's sockets carry no out-of-band data")
        return 0.0 if flags & MSG_DONTWAIT else self._timeout

    def send(self, data, flags=0):
        return _net.send(self._live(), self._call_timeout(flags), memoryview(data).cast("B"))

    def sendall(self, data, flags=0):
        view = memoryview(data).cast("B")
        timeout = self._call_timeout(flags)
        end = None if not timeout else time.monotonic() + timeout
        while view:
            left = timeout if end is None else max(end - time.monotonic(), 0.0)
            if end is not None and left == 0.0:
                raise TimeoutError("timed out")
            view = view[_net.send(self._live(), left, view):]

    def sendto(self, data, flags_or_address, address=None):
        flags, address = (0, flags_or_address) if address is None else (flags_or_address, address)
        return _net.send(self._live(), self._call_timeout(flags), memoryview(data).cast("B"), _address(address, self._family))

    def recv(self, bufsize, flags=0):
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if flags & MSG_WAITALL and self._kind == SOCK_STREAM:
            return self._recv_all(bufsize, flags)
        data, _ = _net.recv(self._live(), self._call_timeout(flags), bufsize, flags & MSG_PEEK != 0)
        return data

    def _recv_all(self, bufsize, flags):
        buffer = bytearray(bufsize)
        got = 0
        while got < bufsize:
            n = self.recv_into(memoryview(buffer)[got:], bufsize - got, flags & ~MSG_WAITALL)
            if n == 0:
                break
            got += n
        return bytes(buffer[:got])

    def recvfrom(self, bufsize, flags=0):
        if bufsize < 0:
            raise ValueError("negative buffersize in recvfrom")
        data, source = _net.recv(self._live(), self._call_timeout(flags), bufsize, flags & MSG_PEEK != 0)
        return data, (source if self._kind == SOCK_DGRAM else None)

    def recv_into(self, buffer, nbytes=0, flags=0):
        n, _ = self.recvfrom_into(buffer, nbytes, flags)
        return n

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        if nbytes < 0:
            raise ValueError("negative buffersize in recvfrom_into")
        nbytes = nbytes or memoryview(buffer).nbytes
        n, source = _net.recv_into(self._live(), self._call_timeout(flags), buffer, nbytes, flags & MSG_PEEK != 0)
        return n, (source if self._kind == SOCK_DGRAM else None)

    def shutdown(self, how):
        _net.shutdown(self._live(), how)

    def getsockname(self):
        return _net.local_address(self._live())

    def getpeername(self):
        return _net.peer_address(self._live())

    def setsockopt(self, level, optname, value, optlen=None):
        self._live()
        if level == IPPROTO_IP and optname in _MULTICAST:
            raise OSError(errno.ENOPROTOOPT, "Protocol not available: pyproc's sockets do not join multicast groups")
        if level not in _KEPT_LEVELS:
            raise OSError(errno.ENOPROTOOPT, f"Protocol not available: option level {level}")
        self._options[(level, optname)] = value

    def getsockopt(self, level, optname, buflen=None):
        handle = self._live()
        if (level, optname) == (SOL_SOCKET, SO_ERROR):
            return _net.pending_error(handle)
        if (level, optname) == (SOL_SOCKET, SO_TYPE):
            return self._kind
        if (level, optname) == (IPPROTO_TCP, TCP_NODELAY) and self._kind == SOCK_STREAM:
            return 1
        value = self._options.get((level, optname), 0)
        return value if buflen is None or isinstance(value, bytes) else value.to_bytes(buflen, sys.byteorder)

    def makefile(self, mode="r", buffering=None, *, encoding=None, errors=None, newline=None):
        """A file over the socket, as the standard module's."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        reading, writing, binary = "r" in mode, "w" in mode, "b" in mode
        raw = _SocketIO(self, ("r" if reading else "") + ("w" if writing else ""))
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        if reading and writing:
            buffered = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffered = io.BufferedReader(raw, buffering)
        else:
            buffered = io.BufferedWriter(raw, buffering)
        if binary:
            return buffered
        text = io.TextIOWrapper(buffered, encoding, errors, newline)
        text.mode = mode
        return text


SocketType = socket


class _SocketIO(io.RawIOBase):
    """The raw file under `makefile`: closing it releases its hold on the socket."""

    def __init__(self, sock, mode):
        super().__init__()
        self._sock, self._mode = sock, mode

    def readinto(self, buffer):
        return self._sock.recv_into(buffer)

    def write(self, data):
        return self._sock.send(data)

    def readable(self):
        return "r" in self._mode

    def writable(self):
        return "w" in self._mode

    def fileno(self):
        return self._sock.fileno()

    def close(self):
        if self.closed:
            return
        super().close()
        self._sock._io_refs -= 1
        if self._sock._closed:
            self._sock.close()


def create_connection(address, timeout=_GLOBAL_DEFAULT_TIMEOUT, source_address=None, *, all_errors=False):
    """A connected TCP socket; the host looks a granted name up itself."""
    sock = socket(AF_INET, SOCK_STREAM)
    try:
        if timeout is not _GLOBAL_DEFAULT_TIMEOUT:
            sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect(address)
        return sock
    except BaseException:
        sock.close()
        raise


def create_server(address, *, family=AF_INET, backlog=None, reuse_port=False, dualstack_ipv6=False):
    if family != AF_INET or dualstack_ipv6:
        raise ValueError("pyproc serves IPv4 (AF_INET) only")
    sock = socket(AF_INET, SOCK_STREAM)
    try:
        sock.bind(address)
        sock.listen(*(() if backlog is None else (backlog,)))
        return sock
    except BaseException:
        sock.close()
        raise


def has_dualstack_ipv6():
    return False


def socketpair(family=AF_UNIX, type=SOCK_STREAM, proto=0):
    raise OSError(errno.EOPNOTSUPP, "pyproc serves no socket pairs: use a queue or a list to pass data within the script")


def fromfd(fd, family, type, proto=0):
    raise OSError(errno.EOPNOTSUPP, "pyproc cannot make a socket from a descriptor")


def gethostname():
    """The sandbox does not reveal the machine's name."""
    return "localhost"


def getfqdn(name=""):
    return name or "localhost"


def gethostbyname(host):
    return _net.resolve(_host_text(host))[0]


def gethostbyname_ex(host):
    host = _host_text(host)
    return host, [], _net.resolve(host)


def gethostbyaddr(ip):
    raise herror(1, "Unknown host: pyproc does no reverse lookups")


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    if family not in (0, AF_INET, AF_UNSPEC):
        raise gaierror(EAI_FAMILY, "Address family for hostname not supported (pyproc serves IPv4 only)")
    if isinstance(port, str):
        if not port.isdigit():
            raise gaierror(EAI_SERVICE, f"Servname not supported for ai_socktype: pyproc knows no service names ({port!r}); give the port number")
        port = int(port)
    port = 0 if port is None else int(port)
    if host is None:
        addresses = ["0.0.0.0" if flags & AI_PASSIVE else "127.0.0.1"]
    else:
        addresses = _net.resolve(_host_text(host), port)
    kinds = [(SOCK_STREAM, IPPROTO_TCP), (SOCK_DGRAM, IPPROTO_UDP)]
    if type:
        kinds = [(k, p) for k, p in kinds if k == type]
    return [(AF_INET, SocketKind(kind), p, "", (address, port)) for address in addresses for kind, p in kinds]


def getnameinfo(sockaddr, flags):
    host, port = _address(sockaddr)
    return host, str(port)


def _host_text(host):
    if isinstance(host, (bytes, bytearray)):
        return bytes(host).decode("idna")
    return host


def install():
    """Becomes the module `import socket` gives, for the runtime and every script."""
    module = sys.modules[__name__]
    module.__name__ = "socket"
    for cls in (socket, AddressFamily, SocketKind):
        cls.__module__ = "socket"
    sys.modules["socket"] = module


__all__ = [name for name in dir() if not name.startswith("_") and name not in
           ("errno", "io", "sys", "time", "install", "FD_BASE", "NET_TCP", "NET_UDP")]
