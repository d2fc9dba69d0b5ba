"""The numbers and small helpers of the `socket` module scripts get (`_pyproc_socket`),
with Linux's values: the interpreter's own `_socket` has WASI's, and lacks most options, so
scripts written for the original plugin, even ones that spell numbers out, read the same."""

import enum
import errno
import ipaddress

import _socket

from _pyproc_net import EAI_NONAME


class AddressFamily(enum.IntEnum):
    AF_UNSPEC = 0
    AF_UNIX = 1
    AF_INET = 2
    AF_INET6 = 10
    AF_PACKET = 17


class SocketKind(enum.IntEnum):
    SOCK_STREAM = 1
    SOCK_DGRAM = 2
    SOCK_RAW = 3
    SOCK_RDM = 4
    SOCK_SEQPACKET = 5


globals().update(AddressFamily.__members__)
globals().update(SocketKind.__members__)
SOCK_NONBLOCK = 0o4000
SOCK_CLOEXEC = 0o2000000

SOL_SOCKET = 1
SO_DEBUG, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_DONTROUTE, SO_BROADCAST = 1, 2, 3, 4, 5, 6
SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_OOBINLINE, SO_LINGER, SO_REUSEPORT = 7, 8, 9, 10, 13, 15
SO_RCVLOWAT, SO_SNDLOWAT, SO_RCVTIMEO, SO_SNDTIMEO, SO_ACCEPTCONN = 18, 19, 20, 21, 30
IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6, IPPROTO_RAW = 0, 1, 6, 17, 41, 255
TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_QUICKACK = 1, 2, 4, 5, 6, 12
IP_TOS, IP_TTL = 1, 2
IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP = 32, 33, 34, 35, 36
MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL = 1, 2, 4, 0x40, 0x100, 0x4000
SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2
SOMAXCONN = 4096
INADDR_ANY, INADDR_LOOPBACK, INADDR_BROADCAST, INADDR_NONE = 0, 0x7F000001, 0xFFFFFFFF, 0xFFFFFFFF
AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_V4MAPPED, AI_ALL, AI_ADDRCONFIG, AI_NUMERICSERV = 1, 2, 4, 8, 0x10, 0x20, 0x400
NI_NUMERICHOST, NI_NUMERICSERV, NI_NOFQDN, NI_NAMEREQD, NI_DGRAM = 1, 2, 4, 8, 16
EAI_BADFLAGS, EAI_AGAIN, EAI_FAIL, EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE = -1, -3, -4, -6, -7, -8
has_ipv6 = False

error = OSError
timeout = TimeoutError
herror = _socket.herror
gaierror = _socket.gaierror
htons, ntohs, htonl, ntohl = _socket.htons, _socket.ntohs, _socket.htonl, _socket.ntohl
inet_aton, inet_ntoa = _socket.inet_aton, _socket.inet_ntoa


def inet_pton(family, text):
    if family == AF_INET:
        return ipaddress.IPv4Address(text).packed
    if family == AF_INET6:
        return ipaddress.IPv6Address(text).packed
    raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")


def inet_ntop(family, packed):
    if family == AF_INET:
        return str(ipaddress.IPv4Address(bytes(packed)))
    if family == AF_INET6:
        return str(ipaddress.IPv6Address(bytes(packed)))
    raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")


__all__ = [name for name in dir() if name.isupper() or name in (
    "AddressFamily", "SocketKind", "has_ipv6", "error", "timeout", "herror", "gaierror",
    "htons", "ntohs", "htonl", "ntohl", "inet_aton", "inet_ntoa", "inet_pton", "inet_ntop")]
