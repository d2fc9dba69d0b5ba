//! The network service: one request from the guest's `socket` module, served on the
//! host's sockets within the policy, the socket's timeout and the callback's deadline.
//! Refusals are recorded in the processor's denials and raise `PermissionError` in the
//! script.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::denied::{Denial, DenialLog};
use crate::grants::Grants;
use crate::net::error::NetError;
use crate::net::policy::{Dest, Lookup, Permit, Policy};
use crate::net::resolver::Resolver;
use crate::net::socket::{self, HostSocket, Kind, Shown};
use crate::net::table::SocketTable;
use crate::net::wait::{is_readable, is_writable, Turn, Until};
use crate::wire::door::{guest_slice, guest_slice_mut, Late};
use crate::wire::layout::net;
use crate::wire::net_frame::{NetAnswer, NetRequest, Timeout, Waits};

/// The sockets of one interpreter and what it may do with them. Dropping it (with the
/// interpreter's store) closes them all.
pub(crate) struct NetService {
    table: SocketTable,
    policy: Policy,
    resolver: Resolver,
}

type Served = Result<NetAnswer, NetError>;

impl NetService {
    /// What `grants` allow, with at most `max_sockets` open at once.
    pub fn new(grants: &Grants, max_sockets: usize) -> NetService {
        NetService { table: SocketTable::new(max_sockets), policy: Policy::new(grants), resolver: Resolver::default() }
    }

    /// Serves the frame at `[ptr, ptr + len)` of the guest's memory and returns the answer.
    /// A frame that does not decode or an address outside the guest's memory is an error
    /// the door refuses (`OSError` in the script, `wire/refusal.rs`); a cancel stops the
    /// instance.
    pub fn serve(&mut self, mem: &mut [u8], ptr: u32, len: u32, turn: Turn<'_>, denials: &DenialLog) -> wasmtime::Result<Vec<u8>> {
        let request = NetRequest::decode(guest_slice(mem, ptr, len as usize)?)?;
        let result = match request {
            NetRequest::Recv { handle, timeout, flags, addr, capacity } => {
                let into = guest_slice_mut(mem, addr, capacity as usize)?;
                self.recv(handle, flags & net::PEEK != 0, into, &Until::new("recv", timeout, turn))
            }
            NetRequest::Open { kind, description } => self.open(kind, description),
            NetRequest::Connect { handle, timeout, host, port } => self.connect(handle, host, port, turn, &Until::new("connect", timeout, turn)),
            NetRequest::Bind { handle, host, port } => self.bind(handle, host, port),
            NetRequest::Listen { handle, backlog } => self.listen(handle, backlog),
            NetRequest::Accept { handle, timeout } => self.accept(handle, &Until::new("accept", timeout, turn)),
            NetRequest::Send { handle, timeout, to, data } => {
                let op = if to.is_some() { "sendto" } else { "send" };
                self.send(handle, to, data, turn, &Until::new(op, timeout, turn))
            }
            NetRequest::Close { handle } => self.table.close(handle).map(|()| NetAnswer::ok()),
            NetRequest::Shutdown { handle, how } => self.shutdown(handle, how),
            NetRequest::Select { timeout, waits } => self.select(waits, &Until::new("select", timeout, turn)),
            NetRequest::Resolve { host, port } => self.resolve(host, port, turn),
            NetRequest::Info { handle, what } => self.info(handle, what),
        };
        match result {
            Ok(answer) => Ok(answer.into_bytes()),
            Err(NetError::Cancelled) => Err(wasmtime::Error::new(Late::Cancelled)),
            Err(error) => {
                if let NetError::Denied { what, fix } = &error {
                    denials.record(Denial { callback: turn.running, what: what.clone(), fix: fix.clone() });
                }
                Ok(error.answer().into_bytes())
            }
        }
    }

    fn open(&mut self, kind: u8, description: &str) -> Served {
        let kind = match kind {
            net::TCP => Kind::Tcp,
            net::UDP => Kind::Udp,
            _ => {
                return Err(NetError::Denied {
                    what: format!("open an {description} socket"),
                    fix: "an AF_INET socket and --allow-net HOST:PORT; pyproc serves IPv4 TCP and UDP only".into(),
                })
            }
        };
        Ok(NetAnswer::ok().u32(self.table.insert(HostSocket::Unopened(kind))?))
    }

    /// Where `permit` sends traffic; a granted name is looked up first (within the
    /// callback's time, whatever the socket's timeout: natively a lookup ignores it too).
    fn route(&mut self, permit: Permit, turn: Turn<'_>) -> Result<SocketAddrV4, NetError> {
        let real = match permit.dest {
            Dest::Addr(addr) => addr,
            Dest::Lookup(name, port) => {
                let addresses = self.resolver.lookup(&name, &Until::new("resolve", Timeout::Blocking, turn))?;
                self.policy.remember_lookup(&name, &addresses);
                SocketAddrV4::new(addresses[0], port)
            }
        };
        self.policy.remember_route(permit.grant, real);
        Ok(real)
    }

    fn connect(&mut self, handle: u32, host: &str, port: u16, turn: Turn<'_>, until: &Until<'_>) -> Served {
        self.table.get(handle)?;
        let permit = self.policy.permit("connect", host, port)?;
        let real = self.route(permit, turn)?;
        let shown = self.policy.shown(real);
        let slot = self.table.get_mut(handle)?;
        match mem::replace(slot, HostSocket::Unopened(Kind::Tcp)) {
            HostSocket::Unopened(Kind::Tcp) => connect_stream(slot, None, real, shown, until),
            HostSocket::Bound(bound) => connect_stream(slot, Some(bound), real, shown, until),
            HostSocket::Unopened(Kind::Udp) => {
                *slot = HostSocket::Unopened(Kind::Udp);
                let socket = socket::bind_udp(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
                socket.connect(real)?;
                *slot = HostSocket::Datagram { socket, peer: Some((real, shown)), heard: None };
                Ok(NetAnswer::ok())
            }
            HostSocket::Datagram { socket, heard, peer } => {
                let connected = socket.connect(real);
                let peer = if connected.is_ok() { Some((real, shown)) } else { peer };
                *slot = HostSocket::Datagram { socket, peer, heard };
                connected.map(|()| NetAnswer::ok()).map_err(NetError::from)
            }
            HostSocket::Stream { stream, peer } => {
                // A second connect: natively EISCONN once connected, else the connect
                // under way goes on.
                let result = match stream.peer_addr() {
                    Ok(_) => Err(NetError::os("EISCONN", "Transport endpoint is already connected")),
                    Err(_) => match socket::finish_connect(&stream, until) {
                        Err(e) if e == NetError::would_block() => Err(NetError::os("EALREADY", "Operation already in progress")),
                        other => other.map(|()| NetAnswer::ok()),
                    },
                };
                *slot = HostSocket::Stream { stream, peer };
                result
            }
            listener @ HostSocket::Listener(_) => {
                *slot = listener;
                Err(NetError::os("EINVAL", "Invalid argument: a listening socket cannot connect"))
            }
        }
    }

    fn bind(&mut self, handle: u32, host: &str, port: u16) -> Served {
        let slot = self.table.get_mut(handle)?;
        let HostSocket::Unopened(kind) = *slot else {
            return Err(NetError::os("EINVAL", "Invalid argument: the socket is already bound or connected"));
        };
        let at = self.policy.bind(kind == Kind::Tcp, host, port)?;
        *slot = match kind {
            Kind::Tcp => HostSocket::Bound(socket::bind_tcp(at)?),
            Kind::Udp => HostSocket::Datagram { socket: socket::bind_udp(at)?, peer: None, heard: (at.port() != 0).then(Vec::new) },
        };
        Ok(NetAnswer::ok())
    }

    fn listen(&mut self, handle: u32, backlog: u32) -> Served {
        let slot = self.table.get_mut(handle)?;
        match mem::replace(slot, HostSocket::Unopened(Kind::Tcp)) {
            HostSocket::Bound(bound) => *slot = HostSocket::Listener(socket::listen(bound, backlog)?),
            listener @ HostSocket::Listener(_) => *slot = listener,
            // Natively this listens on a port the system picks: not a granted one.
            HostSocket::Unopened(Kind::Tcp) => return Err(self.policy.bind(true, "0.0.0.0", 0).err().map(NetError::from).unwrap_or_else(not_bound)),
            other => {
                *slot = other;
                return Err(NetError::os("EOPNOTSUPP", "Operation not supported: only a bound TCP socket can listen"));
            }
        }
        Ok(NetAnswer::ok())
    }

    fn accept(&mut self, handle: u32, until: &Until<'_>) -> Served {
        if !self.table.has_room() {
            return Err(self.table.full());
        }
        let HostSocket::Listener(listener) = self.table.get(handle)? else {
            return Err(NetError::os("EINVAL", "Invalid argument: accept needs a listening socket"));
        };
        let (stream, peer) = socket::accept(listener, until)?;
        let peer = (peer.ip().to_string(), peer.port());
        let (port, host) = (peer.1, peer.0.clone());
        let accepted = self.table.insert(HostSocket::Stream { stream, peer })?;
        Ok(NetAnswer::ok().u32(accepted).u16(port).str(&host))
    }

    fn send(&mut self, handle: u32, to: Option<(&str, u16)>, data: &[u8], turn: Turn<'_>, until: &Until<'_>) -> Served {
        let socket = self.table.get(handle)?;
        let to = match to {
            Some((host, port)) => match (self.policy.permit("send to", host, port), answerable(socket, host, port)) {
                (Ok(permit), _) => Some(self.route(permit, turn)?),
                // A datagram socket on a granted port answers whoever wrote to it.
                (Err(_), Some(sender)) => Some(sender),
                (Err(refusal), None) => return Err(refusal.into()),
            },
            None => None,
        };
        let slot = self.table.get_mut(handle)?;
        if let (HostSocket::Unopened(Kind::Udp), Some(_)) = (&*slot, to) {
            // As natively, the first datagram binds the socket to a port of the system's choosing.
            *slot = HostSocket::Datagram { socket: socket::bind_udp(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?, peer: None, heard: None };
        }
        let sent = match slot {
            HostSocket::Stream { stream, .. } if to.is_none() => socket::send_stream(stream, data, until)?,
            HostSocket::Stream { .. } => return Err(NetError::os("EISCONN", "Transport endpoint is already connected")),
            HostSocket::Datagram { peer: None, .. } if to.is_none() => return Err(NetError::os("EDESTADDRREQ", "Destination address required")),
            HostSocket::Datagram { socket, .. } => socket::send_datagram(socket, data, to, until)?,
            HostSocket::Unopened(Kind::Udp) => return Err(NetError::os("EDESTADDRREQ", "Destination address required")),
            _ => return Err(NetError::io(io::ErrorKind::NotConnected.into())),
        };
        Ok(NetAnswer::ok().u32(sent as u32))
    }

    fn recv(&mut self, handle: u32, peek: bool, into: &mut [u8], until: &Until<'_>) -> Served {
        let policy = &self.policy;
        match self.table.get_mut(handle)? {
            HostSocket::Stream { stream, .. } => {
                let n = socket::recv_stream(stream, into, peek, until)?;
                Ok(NetAnswer::ok().u32(n as u32).u16(0).str(""))
            }
            HostSocket::Datagram { socket, heard, .. } => {
                let anyone = heard.is_some();
                let (n, source) = socket::recv_datagram(socket, into, peek, |s| anyone || policy.accepts_from(s), until)?;
                if let Some(heard) = heard.as_mut().filter(|h| !h.contains(&source)) {
                    if heard.len() == socket::MAX_HEARD {
                        heard.remove(0);
                    }
                    heard.push(source);
                }
                let (host, port) = policy.shown(source);
                Ok(NetAnswer::ok().u32(n as u32).u16(port).str(&host))
            }
            HostSocket::Unopened(Kind::Udp) => Err(not_bound()),
            _ => Err(NetError::io(io::ErrorKind::NotConnected.into())),
        }
    }

    fn shutdown(&mut self, handle: u32, how: u8) -> Served {
        let HostSocket::Stream { stream, .. } = self.table.get(handle)? else {
            return Err(NetError::io(io::ErrorKind::NotConnected.into()));
        };
        stream.shutdown(match how {
            0 => Shutdown::Read,
            1 => Shutdown::Write,
            _ => Shutdown::Both,
        })?;
        Ok(NetAnswer::ok())
    }

    /// Which of the sockets are ready, waiting (within `until`) for one to be; none ready
    /// when the wait ends at the script's own timeout.
    fn select(&self, waits: Waits<'_>, until: &Until<'_>) -> Served {
        let mut fds = Vec::with_capacity(waits.len());
        let mut asked = Vec::with_capacity(waits.len());
        for (handle, interest) in waits.iter() {
            // A closed socket in the lists is EBADF, as natively.
            if let Some(fd) = self.table.get(handle)?.fd() {
                let mut events = PollFlags::empty();
                events.set(PollFlags::IN, interest & net::READ != 0);
                events.set(PollFlags::OUT, interest & net::WRITE != 0);
                events.set(PollFlags::PRI, interest & net::EXCEPT != 0);
                fds.push(PollFd::from_borrowed_fd(fd, events));
                asked.push((handle, interest));
            }
        }
        let mut waited = match poll(&mut fds, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(NetError::io(e.into())),
        };
        loop {
            waited?;
            let ready: Vec<(u32, u8)> =
                fds.iter().zip(&asked).map(|(fd, &(handle, interest))| (handle, interest & self.ready(handle, fd.revents()))).filter(|(_, r)| *r != 0).collect();
            if !ready.is_empty() {
                let answer = NetAnswer::ok().u32(ready.len() as u32);
                return Ok(ready.into_iter().fold(answer, |a, (handle, bits)| a.u32(handle).u8(bits)));
            }
            waited = match until.poll(&mut fds) {
                Err(NetError::TimedOut) => return Ok(NetAnswer::ok().u32(0)),
                Err(e) if e == NetError::would_block() => return Ok(NetAnswer::ok().u32(0)),
                other => other,
            };
        }
    }

    /// What `revents` mean for the socket: a datagram the policy would drop unseen does
    /// not make a socket readable.
    fn ready(&self, handle: u32, revents: PollFlags) -> u8 {
        let mut bits = 0;
        if is_readable(revents) {
            bits |= net::READ;
            if let Ok(HostSocket::Datagram { socket, heard: None, .. }) = self.table.get(handle) {
                if !socket::wanted_datagram_waiting(socket, |s| self.policy.accepts_from(s)) {
                    bits &= !net::READ;
                }
            }
        }
        if is_writable(revents) {
            bits |= net::WRITE;
        }
        // A hang-up or error counts as exceptional too: a script waiting on the except list
        // alone is told, rather than the wait spinning on a descriptor `poll` keeps reporting.
        if revents.intersects(PollFlags::PRI | PollFlags::HUP | PollFlags::ERR) {
            bits |= net::EXCEPT;
        }
        bits
    }

    fn resolve(&mut self, host: &str, port: u16, turn: Turn<'_>) -> Served {
        let addresses = match self.policy.lookup(host, port)? {
            Lookup::Known(ip) => vec![ip],
            Lookup::Resolve(name) => self.resolver.lookup(&name, &Until::new("resolve", Timeout::Blocking, turn))?,
        };
        self.policy.remember_lookup(host, &addresses);
        let answer = NetAnswer::ok().u32(addresses.len() as u32);
        Ok(addresses.iter().fold(answer, |a, ip| a.str(&ip.to_string())))
    }

    fn info(&self, handle: u32, what: u8) -> Served {
        let socket = self.table.get(handle)?;
        let address = |(host, port): Shown| NetAnswer::ok().u16(port).str(&host);
        match (what, socket) {
            (net::LOCAL_ADDRESS, socket) => Ok(shown(socket.local_addr()?).map_or_else(|| address(("0.0.0.0".into(), 0)), address)),
            (net::PEER_ADDRESS, HostSocket::Stream { stream, peer }) => {
                stream.peer_addr()?;
                Ok(address(peer.clone()))
            }
            (net::PEER_ADDRESS, HostSocket::Datagram { peer: Some((_, peer)), .. }) => Ok(address(peer.clone())),
            (net::PEER_ADDRESS, _) => Err(NetError::io(io::ErrorKind::NotConnected.into())),
            (net::PENDING_ERROR, socket) => {
                let pending = socket.take_error()?.map(NetError::io);
                Ok(NetAnswer::ok().str(match &pending {
                    Some(NetError::Os { errno, .. }) => errno,
                    _ => "",
                }))
            }
            _ => Err(NetError::os("EINVAL", "Invalid argument")),
        }
    }
}

/// Starts (and, unless the socket is non-blocking, finishes) a TCP connect, leaving the
/// stream in `slot`. A connect that fails leaves a fresh socket, so a script may retry.
fn connect_stream(slot: &mut HostSocket, bound: Option<socket2::Socket>, real: SocketAddrV4, peer: Shown, until: &Until<'_>) -> Served {
    let (stream, done) = socket::start_connect(bound, real)?;
    let result = if done { Ok(()) } else { socket::finish_connect(&stream, until) };
    match result {
        Ok(()) => {
            *slot = HostSocket::Stream { stream, peer };
            Ok(NetAnswer::ok())
        }
        Err(e) if e == NetError::would_block() => {
            *slot = HostSocket::Stream { stream, peer };
            Err(NetError::os("EINPROGRESS", "Operation now in progress"))
        }
        // Still connecting, as a native socket would be after its timeout.
        Err(e @ (NetError::TimedOut | NetError::Deadline { .. })) => {
            *slot = HostSocket::Stream { stream, peer };
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// `host:port` when `socket` is on a granted port and has heard from that address.
fn answerable(socket: &HostSocket, host: &str, port: u16) -> Option<SocketAddrV4> {
    let HostSocket::Datagram { heard: Some(heard), .. } = socket else { return None };
    let sender = SocketAddrV4::new(host.parse().ok()?, port);
    heard.contains(&sender).then_some(sender)
}

fn not_bound() -> NetError {
    NetError::os("EINVAL", "Invalid argument: the socket is not bound (bind it, or send to an address first)")
}

/// A local address in the script's terms (IPv4 only).
fn shown(addr: SocketAddr) -> Option<Shown> {
    match addr {
        SocketAddr::V4(v4) => Some((v4.ip().to_string(), v4.port())),
        SocketAddr::V6(_) => None,
    }
}
