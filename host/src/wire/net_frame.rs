//! The network service's frames: requests from the guest's `socket` module, decoded, and
//! the answers to them, encoded (fields in `guest-runtime/README.md`; numbers in
//! `layout.rs`). The service itself is `net/`.
//!
//! Requests are untrusted like every frame from the guest: each length is checked, and
//! nothing is allocated for a count before the frame is seen to hold it.

use std::time::Duration;

use crate::wire::layout::{net, op};
use crate::wire::reader::FrameReader;
use crate::wire::request::FrameError;

/// How long a socket operation may wait, as the script's socket says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Timeout {
    /// A non-blocking socket (`settimeout(0)`): fail with `EAGAIN` instead of waiting.
    Never,
    /// A blocking socket (`settimeout(None)`): wait as long as the callback may run.
    Blocking,
    /// `settimeout(seconds)`.
    After(Duration),
}

impl Timeout {
    /// The wire's `f64`: negative (or NaN) blocking, 0 non-blocking, else seconds.
    fn from_seconds(seconds: f64) -> Timeout {
        if seconds == 0.0 {
            Timeout::Never
        } else if seconds > 0.0 {
            // Beyond what a Duration holds is as good as blocking: the deadline comes first.
            Duration::try_from_secs_f64(seconds).map_or(Timeout::Blocking, Timeout::After)
        } else {
            Timeout::Blocking
        }
    }
}

/// A request from the guest's socket module; `handle` names a socket from `Open`.
#[derive(Debug, PartialEq)]
pub(crate) enum NetRequest<'a> {
    /// `socket.socket(...)`: `kind` is `net::TCP`, `net::UDP`, or 0 for anything else
    /// (refused), which `description` names ("AF_UNIX SOCK_STREAM").
    Open { kind: u8, description: &'a str },
    Connect { handle: u32, timeout: Timeout, host: &'a str, port: u16 },
    Bind { handle: u32, host: &'a str, port: u16 },
    Listen { handle: u32, backlog: u32 },
    Accept { handle: u32, timeout: Timeout },
    /// `send` (no `to`) or `sendto`.
    Send { handle: u32, timeout: Timeout, to: Option<(&'a str, u16)>, data: &'a [u8] },
    /// Up to `capacity` bytes into the guest's memory at `addr`.
    Recv { handle: u32, timeout: Timeout, flags: u8, addr: u32, capacity: u32 },
    Close { handle: u32 },
    Shutdown { handle: u32, how: u8 },
    Select { timeout: Timeout, waits: Waits<'a> },
    /// A name lookup; `port` (0: none given) only shapes the refusal's advice.
    Resolve { host: &'a str, port: u16 },
    /// One of `net::LOCAL_ADDRESS`, `net::PEER_ADDRESS`, `net::PENDING_ERROR`.
    Info { handle: u32, what: u8 },
}

/// The (handle, interest) pairs of a `Select`, already checked to be whole.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct Waits<'a>(&'a [u8]);

/// Bytes of one (u32 handle, u8 interest) pair.
const WAIT_BYTES: usize = 5;

impl<'a> Waits<'a> {
    pub fn iter(self) -> impl Iterator<Item = (u32, u8)> + 'a {
        self.0.chunks_exact(WAIT_BYTES).map(|w| (u32::from_le_bytes(w[0..4].try_into().unwrap()), w[4]))
    }

    pub fn len(self) -> usize {
        self.0.len() / WAIT_BYTES
    }
}

impl<'a> NetRequest<'a> {
    pub fn decode(frame: &'a [u8]) -> Result<NetRequest<'a>, FrameError> {
        let (&code, body) = frame.split_first().ok_or(FrameError::Empty)?;
        let mut r = FrameReader::new(code, body, frame.len());
        let request = match code {
            op::NET_OPEN => NetRequest::Open { kind: r.u8()?, description: r.str()? },
            op::NET_CONNECT => {
                let (handle, timeout, port) = (r.u32()?, timeout(&mut r)?, r.u16()?);
                NetRequest::Connect { handle, timeout, port, host: r.str()? }
            }
            op::NET_BIND => {
                let (handle, port) = (r.u32()?, r.u16()?);
                NetRequest::Bind { handle, port, host: r.str()? }
            }
            op::NET_LISTEN => NetRequest::Listen { handle: r.u32()?, backlog: r.u32()? },
            op::NET_ACCEPT => NetRequest::Accept { handle: r.u32()?, timeout: timeout(&mut r)? },
            op::NET_SEND => {
                let (handle, timeout, port, host) = (r.u32()?, timeout(&mut r)?, r.u16()?, r.str()?);
                let to = (!host.is_empty()).then_some((host, port));
                NetRequest::Send { handle, timeout, to, data: r.take(r.rest.len())? }
            }
            op::NET_RECV => {
                let (handle, timeout, flags) = (r.u32()?, timeout(&mut r)?, r.u8()?);
                NetRequest::Recv { handle, timeout, flags, addr: r.u32()?, capacity: r.u32()? }
            }
            op::NET_CLOSE => NetRequest::Close { handle: r.u32()? },
            op::NET_SHUTDOWN => NetRequest::Shutdown { handle: r.u32()?, how: r.u8()? },
            op::NET_SELECT => {
                let timeout = timeout(&mut r)?;
                let count = r.u32()? as usize;
                let bytes = r.take(count.checked_mul(WAIT_BYTES).ok_or(r.truncated())?)?;
                NetRequest::Select { timeout, waits: Waits(bytes) }
            }
            op::NET_RESOLVE => {
                let port = r.u16()?;
                NetRequest::Resolve { port, host: r.str()? }
            }
            op::NET_INFO => NetRequest::Info { handle: r.u32()?, what: r.u8()? },
            other => return Err(FrameError::UnknownOp(other)),
        };
        r.finish(request)
    }
}

/// A timeout field: f64 seconds (see `Timeout::from_seconds`).
fn timeout(r: &mut FrameReader<'_>) -> Result<Timeout, FrameError> {
    Ok(Timeout::from_seconds(r.f64()?))
}

/// An answer to a network request, built field by field after its status.
#[derive(Debug)]
pub(crate) struct NetAnswer(Vec<u8>);

impl NetAnswer {
    /// `OK`; the operation's fields follow.
    pub fn ok() -> NetAnswer {
        NetAnswer(vec![net::OK])
    }

    /// A failure: `status` (`OS_ERROR`, `DENIED`, `TIMED_OUT`, `DEADLINE`), the name of the
    /// errno the script's exception carries (empty: none) and the message.
    pub fn failed(status: u8, errno_name: &str, message: &str) -> NetAnswer {
        NetAnswer(vec![status]).str(errno_name).str(message)
    }

    pub fn u8(mut self, value: u8) -> NetAnswer {
        self.0.push(value);
        self
    }

    pub fn u16(mut self, value: u16) -> NetAnswer {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u32(mut self, value: u32) -> NetAnswer {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn str(mut self, text: &str) -> NetAnswer {
        self.0.extend_from_slice(&(text.len() as u32).to_le_bytes());
        self.0.extend_from_slice(text.as_bytes());
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_field(s: &str) -> Vec<u8> {
        [&(s.len() as u32).to_le_bytes()[..], s.as_bytes()].concat()
    }

    #[test]
    fn sends_carry_their_data_and_an_optional_address() {
        let mut frame = vec![op::NET_SEND, 7, 0, 0, 0];
        frame.extend_from_slice(&(-1.0f64).to_le_bytes());
        frame.extend_from_slice(&5555u16.to_le_bytes());
        frame.extend(str_field("hub.lab"));
        frame.extend_from_slice(b"payload");
        let request = NetRequest::decode(&frame).unwrap();
        assert_eq!(request, NetRequest::Send { handle: 7, timeout: Timeout::Blocking, to: Some(("hub.lab", 5555)), data: b"payload" });
        let mut connected = vec![op::NET_SEND, 7, 0, 0, 0];
        connected.extend_from_slice(&0.5f64.to_le_bytes());
        connected.extend_from_slice(&[0, 0, 0, 0, 0, 0, b'x']);
        let Ok(NetRequest::Send { to, timeout, data, .. }) = NetRequest::decode(&connected) else { panic!() };
        assert_eq!((to, timeout, data), (None, Timeout::After(Duration::from_millis(500)), &b"x"[..]));
    }

    #[test]
    fn timeouts_read_as_the_socket_module_writes_them() {
        assert_eq!(Timeout::from_seconds(0.0), Timeout::Never);
        assert_eq!(Timeout::from_seconds(-1.0), Timeout::Blocking);
        assert_eq!(Timeout::from_seconds(f64::NAN), Timeout::Blocking);
        assert_eq!(Timeout::from_seconds(1e300), Timeout::Blocking);
        assert_eq!(Timeout::from_seconds(2.0), Timeout::After(Duration::from_secs(2)));
    }

    #[test]
    fn selects_list_their_handles_and_refuse_a_count_past_the_frame() {
        let mut frame = vec![op::NET_SELECT];
        frame.extend_from_slice(&0.0f64.to_le_bytes());
        frame.extend_from_slice(&2u32.to_le_bytes());
        frame.extend_from_slice(&[1, 0, 0, 0, net::READ, 9, 0, 0, 0, net::READ | net::WRITE]);
        let Ok(NetRequest::Select { waits, .. }) = NetRequest::decode(&frame) else { panic!() };
        assert_eq!(waits.iter().collect::<Vec<_>>(), [(1, net::READ), (9, net::READ | net::WRITE)]);
        frame[9] = 255;
        assert!(matches!(NetRequest::decode(&frame), Err(FrameError::Truncated { .. })));
    }

    #[test]
    fn answers_put_the_status_first() {
        assert_eq!(NetAnswer::ok().u32(3).into_bytes(), [net::OK, 3, 0, 0, 0]);
        let failed = NetAnswer::failed(net::OS_ERROR, "ECONNREFUSED", "refused").into_bytes();
        assert_eq!(failed, [vec![net::OS_ERROR], str_field("ECONNREFUSED"), str_field("refused")].concat());
    }
}

#[cfg(test)]
mod fuzz {
    //! Any bytes behind a network opcode decode or are refused, never panic.
    use super::*;
    use proptest::prelude::*;

    /// Bytes that are mostly zeros and small numbers (so lengths and counts often fit the
    /// frame and the fields behind them get decoded), with some that are not UTF-8.
    fn field_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![4 => Just(0u8), 2 => 1u8..8, 1 => Just(0xffu8), 1 => any::<u8>()], 0..96)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn arbitrary_network_frames_never_panic(code in op::NET_OPEN..=op::NET_INFO, body in proptest::collection::vec(any::<u8>(), 0..96)) {
            let frame = [&[code][..], &body].concat();
            if let Ok(NetRequest::Select { waits, .. }) = NetRequest::decode(&frame) {
                prop_assert!(waits.len() * WAIT_BYTES <= frame.len());
            }
        }

        #[test]
        fn network_frames_with_plausible_fields_never_panic(code in op::NET_OPEN..=op::NET_INFO, body in field_bytes()) {
            let frame = [&[code][..], &body].concat();
            match NetRequest::decode(&frame) {
                Ok(NetRequest::Select { waits, .. }) => prop_assert!(waits.len() * WAIT_BYTES <= frame.len()),
                Ok(NetRequest::Send { data, .. }) => prop_assert!(data.len() < frame.len()),
                _ => {}
            }
        }
    }
}
