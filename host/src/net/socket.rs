//! One socket the host holds for a script, in the state the script has brought it to, and
//! the operations on it once the policy has said where it may go.
//!
//! Every host socket is non-blocking: an operation tries once and, when it would block,
//! waits for readiness within its [`Until`]. Streams have `TCP_NODELAY` set (a closed-loop
//! script wants its small messages sent at once, and ignoring the option when a script
//! asks for it is then harmless). Writes cannot raise `SIGPIPE` in an embedding host: the
//! standard library sends with `MSG_NOSIGNAL` on Linux and socket2 sets `SO_NOSIGPIPE`
//! where that is the way.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};

use rustix::fd::{AsFd, BorrowedFd};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::net::error::NetError;
use crate::net::wait::Until;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tcp,
    Udp,
}

/// Senders a UDP socket on a granted port remembers, so it may answer them.
pub(crate) const MAX_HEARD: usize = 64;

/// A peer as the script sees it (see `Policy::shown`).
pub(crate) type Shown = (String, u16);

pub(crate) enum HostSocket {
    /// `socket.socket()` was called; nothing is open on the host until it is used.
    Unopened(Kind),
    /// TCP, bound to a granted port, not listening yet.
    Bound(Socket),
    Listener(TcpListener),
    /// Connected, or still connecting after a non-blocking connect.
    Stream { stream: TcpStream, peer: Shown },
    /// UDP, bound. `heard` is `Some` when bound on a granted port of 127.0.0.1: only this
    /// machine can send there, so every datagram is let in and its sender remembered (the
    /// last [`MAX_HEARD`]), which the script may answer; otherwise datagrams are filtered by
    /// the policy.
    Datagram { socket: UdpSocket, peer: Option<(SocketAddrV4, Shown)>, heard: Option<Vec<SocketAddrV4>> },
}

impl HostSocket {
    /// The descriptor to poll, once there is one.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            HostSocket::Unopened(_) => None,
            HostSocket::Bound(socket) => Some(socket.as_fd()),
            HostSocket::Listener(listener) => Some(listener.as_fd()),
            HostSocket::Stream { stream, .. } => Some(stream.as_fd()),
            HostSocket::Datagram { socket, .. } => Some(socket.as_fd()),
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            HostSocket::Unopened(_) => Ok(SocketAddr::from(([0, 0, 0, 0], 0))),
            HostSocket::Bound(socket) => socket.local_addr()?.as_socket().ok_or_else(|| io::ErrorKind::InvalidInput.into()),
            HostSocket::Listener(listener) => listener.local_addr(),
            HostSocket::Stream { stream, .. } => stream.local_addr(),
            HostSocket::Datagram { socket, .. } => socket.local_addr(),
        }
    }

    /// The error a non-blocking connect ended with, if any (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            HostSocket::Unopened(_) => Ok(None),
            HostSocket::Bound(socket) => socket.take_error(),
            HostSocket::Listener(listener) => listener.take_error(),
            HostSocket::Stream { stream, .. } => stream.take_error(),
            HostSocket::Datagram { socket, .. } => socket.take_error(),
        }
    }
}

fn new_socket(kind: Kind) -> io::Result<Socket> {
    let socket = match kind {
        Kind::Tcp => Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?,
        Kind::Udp => Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?,
    };
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// A TCP socket bound to `at`, ready to listen. `SO_REUSEADDR` lets a restarted
/// interpreter listen again on its port while old connections linger in `TIME_WAIT`.
pub(crate) fn bind_tcp(at: SocketAddrV4) -> io::Result<Socket> {
    let socket = new_socket(Kind::Tcp)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SockAddr::from(at))?;
    Ok(socket)
}

pub(crate) fn listen(socket: Socket, backlog: u32) -> io::Result<TcpListener> {
    socket.listen(backlog.clamp(1, 128) as i32)?;
    Ok(TcpListener::from(socket))
}

/// A UDP socket bound to `at`. Broadcast is allowed: where datagrams may go is the
/// policy's decision, made per destination.
pub(crate) fn bind_udp(at: SocketAddrV4) -> io::Result<UdpSocket> {
    let socket = new_socket(Kind::Udp)?;
    socket.set_broadcast(true)?;
    socket.bind(&SockAddr::from(at))?;
    Ok(UdpSocket::from(socket))
}

/// Starts connecting `socket` (a fresh one when `None`) to `to`; `true` when already done.
pub(crate) fn start_connect(socket: Option<Socket>, to: SocketAddrV4) -> io::Result<(TcpStream, bool)> {
    let socket = match socket {
        Some(socket) => socket,
        None => new_socket(Kind::Tcp)?,
    };
    let done = match socket.connect(&SockAddr::from(to)) {
        Ok(()) => true,
        Err(e) if in_progress(&e) => false,
        Err(e) => return Err(e),
    };
    let stream = TcpStream::from(socket);
    stream.set_nodelay(true)?;
    Ok((stream, done))
}

fn in_progress(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error())
}

/// Waits for a connect under way to succeed or fail.
pub(crate) fn finish_connect(stream: &TcpStream, until: &Until<'_>) -> Result<(), NetError> {
    loop {
        if let Some(error) = stream.take_error()? {
            return Err(error.into());
        }
        match stream.peer_addr() {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => until.writable(stream)?,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Retries `op` until it does not block, waiting for `ready` in between.
fn retry<T>(mut op: impl FnMut() -> io::Result<T>, mut ready: impl FnMut() -> Result<(), NetError>) -> Result<T, NetError> {
    loop {
        match op() {
            Ok(value) => return Ok(value),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready()?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

pub(crate) fn send_stream(stream: &TcpStream, data: &[u8], until: &Until<'_>) -> Result<usize, NetError> {
    retry(|| (&*stream).write(data), || until.writable(stream))
}

pub(crate) fn recv_stream(stream: &TcpStream, into: &mut [u8], peek: bool, until: &Until<'_>) -> Result<usize, NetError> {
    retry(|| if peek { stream.peek(into) } else { (&*stream).read(into) }, || until.readable(stream))
}

pub(crate) fn send_datagram(socket: &UdpSocket, data: &[u8], to: Option<SocketAddrV4>, until: &Until<'_>) -> Result<usize, NetError> {
    retry(
        || match to {
            Some(to) => socket.send_to(data, to),
            None => socket.send(data),
        },
        || until.writable(socket),
    )
}

/// The next datagram `accepts` lets through, into `into` (truncated to fit, as natively);
/// others are dropped unseen.
pub(crate) fn recv_datagram(
    socket: &UdpSocket,
    into: &mut [u8],
    peek: bool,
    accepts: impl Fn(SocketAddrV4) -> bool,
    until: &Until<'_>,
) -> Result<(usize, SocketAddrV4), NetError> {
    loop {
        let (n, source) = retry(|| if peek { socket.peek_from(into) } else { socket.recv_from(into) }, || until.readable(socket))?;
        if let SocketAddr::V4(source) = source {
            if accepts(source) {
                return Ok((n, source));
            }
        }
        if peek {
            // Take the unwanted datagram off the queue so the next look sees past it.
            let _ = socket.recv_from(&mut [0u8; 1]);
        }
    }
}

/// Drops queued datagrams `accepts` refuses; `true` when one it accepts is waiting.
pub(crate) fn wanted_datagram_waiting(socket: &UdpSocket, accepts: impl Fn(SocketAddrV4) -> bool) -> bool {
    let mut probe = [0u8; 1];
    loop {
        match socket.peek_from(&mut probe) {
            Ok((_, SocketAddr::V4(source))) if accepts(source) => return true,
            // A pending error (a refused datagram's ICMP answer) is for `recv` to report.
            Err(e) if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::Interrupted => return true,
            Err(_) => return false,
            Ok(_) => {
                let _ = socket.recv_from(&mut probe);
            }
        }
    }
}

pub(crate) fn accept(listener: &TcpListener, until: &Until<'_>) -> Result<(TcpStream, SocketAddr), NetError> {
    let (stream, peer) = retry(|| listener.accept(), || until.readable(listener))?;
    // Accepted sockets do not inherit non-blocking mode everywhere.
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    Ok((stream, peer))
}
