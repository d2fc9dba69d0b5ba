//! How long a socket operation may wait: never past the running callback's deadline.
//!
//! Every host socket is non-blocking; a script's blocking call is a try, then a wait for
//! readiness with `poll`, in short slices so a cancel from another thread is seen. The
//! wait ends at the socket's own timeout (`TimeoutError("timed out")`, as natively) or a
//! little before the callback's deadline (`TimeoutError` saying so), so the script still
//! gets to handle it and answer in time: a blocked socket never freezes the host or costs
//! the interpreter.

use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::AsFd;

use crate::callback::Callback;
use crate::net::error::NetError;
use crate::supervise::cancel::CancelFlag;
use crate::wire::net_frame::Timeout;

/// How long before the callback's deadline a wait gives up, leaving the script time to
/// handle the `TimeoutError` and the runtime time to answer.
pub(crate) const DEADLINE_MARGIN: Duration = Duration::from_millis(20);

/// The longest single `poll`: how soon a cancel is seen while a socket waits.
const SLICE: Duration = Duration::from_millis(10);

/// The running command, as far as waiting is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Turn<'a> {
    pub deadline: Instant,
    pub cancel: &'a CancelFlag,
    pub running: Option<Callback>,
}

/// One operation's limits: started now, with the socket's timeout, inside `turn`.
pub(crate) struct Until<'a> {
    op: &'static str,
    timeout: Timeout,
    started: Instant,
    turn: Turn<'a>,
}

impl<'a> Until<'a> {
    pub fn new(op: &'static str, timeout: Timeout, turn: Turn<'a>) -> Until<'a> {
        Until { op, timeout, started: Instant::now(), turn }
    }

    /// The next stretch to wait, or the error that ends the wait: `would_block` for a
    /// non-blocking socket, `TimedOut` at the socket's timeout, `Deadline` near the
    /// callback's, `Cancelled`.
    pub fn slice(&self) -> Result<Duration, NetError> {
        if self.turn.cancel.is_set() {
            return Err(NetError::Cancelled);
        }
        let limit = self.turn.deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(self.turn.deadline);
        let late = NetError::Deadline { op: self.op, callback: self.turn.running };
        let (end, error) = match self.timeout {
            Timeout::Never => return Err(NetError::would_block()),
            Timeout::Blocking => (limit, late),
            Timeout::After(timeout) => match self.started.checked_add(timeout) {
                Some(at) if at <= limit => (at, NetError::TimedOut),
                _ => (limit, late),
            },
        };
        let now = Instant::now();
        if now >= end {
            return Err(error);
        }
        Ok((end - now).min(SLICE))
    }

    /// Waits until one of `fds` is ready; their `revents` say which.
    pub fn poll(&self, fds: &mut [PollFd<'_>]) -> Result<(), NetError> {
        loop {
            let slice = self.slice()?;
            let timespec = Timespec::try_from(slice).unwrap_or(Timespec { tv_sec: 0, tv_nsec: 10_000_000 });
            match poll(fds, Some(&timespec)) {
                Ok(0) => continue,
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(NetError::io(e.into())),
            }
        }
    }

    /// Waits until `fd` can be read (data, a connection to accept, end of stream or error).
    pub fn readable(&self, fd: &impl AsFd) -> Result<(), NetError> {
        self.poll(&mut [PollFd::new(fd, PollFlags::IN)])
    }

    /// Waits until `fd` can be written (or a connect has finished, either way).
    pub fn writable(&self, fd: &impl AsFd) -> Result<(), NetError> {
        self.poll(&mut [PollFd::new(fd, PollFlags::OUT)])
    }
}

/// Whether a descriptor's `revents` mean a read would not block (hang-ups and errors
/// count: the read returns at once).
pub(crate) fn is_readable(revents: PollFlags) -> bool {
    revents.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
}

/// Whether a descriptor's `revents` mean a write would not block.
pub(crate) fn is_writable(revents: PollFlags) -> bool {
    revents.intersects(PollFlags::OUT | PollFlags::HUP | PollFlags::ERR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(deadline: Instant, cancel: &CancelFlag) -> Turn<'_> {
        Turn { deadline, cancel, running: Some(Callback::Process) }
    }

    #[test]
    fn a_blocking_wait_ends_before_the_deadline() {
        let cancel = CancelFlag::default();
        let soon = Instant::now() + DEADLINE_MARGIN / 2;
        let until = Until::new("recv", Timeout::Blocking, turn(soon, &cancel));
        assert_eq!(until.slice(), Err(NetError::Deadline { op: "recv", callback: Some(Callback::Process) }));
    }

    #[test]
    fn a_socket_timeout_shorter_than_the_deadline_is_its_own() {
        let cancel = CancelFlag::default();
        let later = Instant::now() + Duration::from_secs(3600);
        let until = Until::new("recv", Timeout::After(Duration::ZERO), turn(later, &cancel));
        assert_eq!(until.slice(), Err(NetError::TimedOut));
        let until = Until::new("recv", Timeout::After(Duration::from_secs(7200)), turn(later, &cancel));
        assert!(until.slice().unwrap() <= SLICE, "slices stay short so a cancel is seen");
        let until = Until::new("recv", Timeout::Never, turn(later, &cancel));
        assert_eq!(until.slice(), Err(NetError::would_block()));
    }
}
