//! Why a socket operation failed, as the script will see it: a refusal by the grants
//! (`PermissionError`), a timeout (`TimeoutError`), or an operating-system error carried
//! by errno *name* (the guest's errno numbers are WASI's, not the host's).

use std::io;

use crate::callback::Callback;
use crate::wire::layout::net;
use crate::wire::net_frame::NetAnswer;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NetError {
    /// Not allowed by the grants; recorded in the processor's denials.
    #[error("not granted: {what} (allow with {fix})")]
    Denied { what: String, fix: String },
    /// The socket's own timeout ran out.
    #[error("timed out")]
    TimedOut,
    /// The wait would have outlasted the running callback.
    #[error(
        "timed out: {op} would wait past the deadline of {} (pyproc stops waiting just before it); give the socket a timeout with settimeout(), or check it with select() first",
        callback.map_or("the runtime's start", |c| c.python_name())
    )]
    Deadline { op: &'static str, callback: Option<Callback> },
    #[error("{message}")]
    Os { errno: &'static str, message: String },
    /// The processor cancelled the command: the instance stops, nothing is answered.
    #[error("cancelled")]
    Cancelled,
}

impl NetError {
    pub fn os(errno: &'static str, message: impl Into<String>) -> NetError {
        NetError::Os { errno, message: message.into() }
    }

    /// A non-blocking socket had nothing to do (`BlockingIOError` in the script).
    pub fn would_block() -> NetError {
        NetError::os("EAGAIN", "Resource temporarily unavailable")
    }

    pub fn bad_handle() -> NetError {
        NetError::os("EBADF", "Bad file descriptor")
    }

    pub fn io(error: io::Error) -> NetError {
        use io::ErrorKind::*;
        let (errno, message) = match error.kind() {
            ConnectionRefused => ("ECONNREFUSED", "Connection refused"),
            ConnectionReset => ("ECONNRESET", "Connection reset by peer"),
            ConnectionAborted => ("ECONNABORTED", "Software caused connection abort"),
            NotConnected => ("ENOTCONN", "Transport endpoint is not connected"),
            AddrInUse => ("EADDRINUSE", "Address already in use"),
            AddrNotAvailable => ("EADDRNOTAVAIL", "Cannot assign requested address"),
            BrokenPipe => ("EPIPE", "Broken pipe"),
            WouldBlock => ("EAGAIN", "Resource temporarily unavailable"),
            TimedOut => ("ETIMEDOUT", "Connection timed out"),
            HostUnreachable => ("EHOSTUNREACH", "No route to host"),
            NetworkUnreachable => ("ENETUNREACH", "Network is unreachable"),
            NetworkDown => ("ENETDOWN", "Network is down"),
            InvalidInput => ("EINVAL", "Invalid argument"),
            PermissionDenied => ("EACCES", "Permission denied"),
            Interrupted => ("EINTR", "Interrupted system call"),
            Unsupported => ("EOPNOTSUPP", "Operation not supported"),
            _ => return NetError::os("EIO", error.to_string()),
        };
        NetError::os(errno, message)
    }

    /// The answer frame that raises this error in the script.
    pub fn answer(&self) -> NetAnswer {
        let message = self.to_string();
        match self {
            NetError::Denied { .. } => NetAnswer::failed(net::DENIED, "", &message),
            NetError::TimedOut => NetAnswer::failed(net::TIMED_OUT, "", &message),
            NetError::Deadline { .. } | NetError::Cancelled => NetAnswer::failed(net::DEADLINE, "", &message),
            NetError::Os { errno, .. } => NetAnswer::failed(net::OS_ERROR, errno, &message),
        }
    }
}

impl From<io::Error> for NetError {
    fn from(error: io::Error) -> NetError {
        NetError::io(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_what_and_the_flag() {
        let denied = NetError::Denied { what: "connect 10.0.0.5:5555".into(), fix: "--allow-net 10.0.0.5:5555".into() };
        assert_eq!(denied.to_string(), "not granted: connect 10.0.0.5:5555 (allow with --allow-net 10.0.0.5:5555)");
        let late = NetError::Deadline { op: "recv", callback: Some(Callback::Process) };
        assert!(late.to_string().starts_with("timed out: recv would wait past the deadline of process"), "{late}");
    }

    #[test]
    fn os_errors_travel_by_errno_name() {
        let refused = NetError::io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(refused, NetError::os("ECONNREFUSED", "Connection refused"));
        let answer = refused.answer().into_bytes();
        assert_eq!((answer[0], &answer[5..17]), (net::OS_ERROR, &b"ECONNREFUSED"[..]));
    }
}
