//! The interpreter's open sockets, by handle. Handles are never reused, so a stale
//! handle in the guest names nothing rather than someone else's socket; the table is
//! capped, and dropping it closes every socket.

use std::collections::HashMap;

use crate::net::error::NetError;
use crate::net::socket::HostSocket;

pub(crate) struct SocketTable {
    sockets: HashMap<u32, HostSocket>,
    last: u32,
    cap: usize,
}

impl SocketTable {
    /// A table of at most `cap` sockets.
    pub fn new(cap: usize) -> SocketTable {
        SocketTable { sockets: HashMap::new(), last: 0, cap }
    }

    pub fn has_room(&self) -> bool {
        self.sockets.len() < self.cap
    }

    /// Keeps `socket`; its handle, or `EMFILE` when the table is full.
    pub fn insert(&mut self, socket: HostSocket) -> Result<u32, NetError> {
        if !self.has_room() {
            return Err(self.full());
        }
        // u32 handles last for 4 billion sockets; past that, refuse rather than reuse.
        self.last = self.last.checked_add(1).ok_or_else(|| self.full())?;
        self.sockets.insert(self.last, socket);
        Ok(self.last)
    }

    pub fn full(&self) -> NetError {
        NetError::os("EMFILE", format!("Too many open sockets: a script may hold {} at once (Limits::open_files)", self.cap))
    }

    pub fn get(&self, handle: u32) -> Result<&HostSocket, NetError> {
        self.sockets.get(&handle).ok_or_else(NetError::bad_handle)
    }

    pub fn get_mut(&mut self, handle: u32) -> Result<&mut HostSocket, NetError> {
        self.sockets.get_mut(&handle).ok_or_else(NetError::bad_handle)
    }

    /// Closes the socket (closing twice is an error, as natively).
    pub fn close(&mut self, handle: u32) -> Result<(), NetError> {
        self.sockets.remove(&handle).map(drop).ok_or_else(NetError::bad_handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::socket::Kind;

    #[test]
    fn the_table_is_capped_and_never_reuses_a_handle() {
        let mut table = SocketTable::new(2);
        let a = table.insert(HostSocket::Unopened(Kind::Tcp)).unwrap();
        let b = table.insert(HostSocket::Unopened(Kind::Udp)).unwrap();
        assert!(matches!(table.insert(HostSocket::Unopened(Kind::Tcp)), Err(NetError::Os { errno: "EMFILE", .. })));
        table.close(a).unwrap();
        assert_eq!(table.close(a), Err(NetError::bad_handle()));
        let c = table.insert(HostSocket::Unopened(Kind::Tcp)).unwrap();
        assert!(c != a && c != b);
    }
}
