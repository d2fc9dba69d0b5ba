//! Guest -> host: the frames the guest sends through the door, decoded (fields in
//! `guest-runtime/README.md`; numbers in `layout.rs`).
//!
//! Frames from the guest are untrusted input (a script can call `_host.call` itself), so
//! decoding checks every length and never allocates more than the frame holds.

use crate::callback::Callback;
use crate::events::{SpikeOut, TtlEvent, SPIKE_SAMPLES};
use crate::grants::Need;
use crate::published::{Dtype, PublishFrame, PUBLISH_MAX_BYTES, PUBLISH_MAX_DIMS, PUBLISH_MAX_NAME_BYTES};
use crate::wire::layout::{op, EVENT_BYTES, SPIKE_HEADER_BYTES};
use crate::wire::reader::FrameReader;

/// A message from the guest, borrowing the frame's bytes.
#[derive(Debug, PartialEq)]
pub(crate) enum Request<'a> {
    /// The dispatch loop is up; its command area is `len` bytes at `addr`, and its area
    /// for paths the host rewrites is `scratch_len` bytes at `scratch_addr`.
    Hello { mailbox_addr: u32, mailbox_len: u32, reply_addr: u32, reply_len: u32, scratch_addr: u32, scratch_len: u32 },
    /// Ready for the next command, after the door answered `WAIT`.
    Next,
    /// The guest made a larger area of `kind`, as `GROW` asked: `len` bytes at `addr`.
    Area { kind: AreaKind, addr: u32, len: u32 },
    /// The last command succeeded; `events` and `spikes` hold what the script emitted.
    Done { events: EventsFrame<'a>, spikes: SpikesFrame<'a> },
    /// A `Reserve` succeeded: the float32 buffer is at `addr`.
    Buffer { addr: u32, capacity: u32 },
    /// The last command raised a Python exception.
    Failed(FailedFrame<'a>),
    /// A line (or partial line) the script printed; `stream` 1 = stdout, 2 = stderr.
    Log { stream: u8, text: &'a [u8] },
    /// The command has moved on to another of the script's entry points (import ->
    /// `__init__`), so a deadline or trap is blamed on the right one.
    Stage { callback: Callback },
    /// The new `PyProcessor` defines these optional callbacks (bit n: callback code n), so
    /// the host need not knock for the others; `traits`: what it declares about itself
    /// (`layout::traits`).
    Handles { mask: u16, traits: u8 },
    /// May the script use `path` for `need`? Asked before an open or a change, so a
    /// refusal can name the flag that would allow it; `report`: record a refusal (not for
    /// the runtime's own questions).
    Access { need: Need, report: bool, path: &'a str },
    /// The script emitted `events` TTL events outside acquisition (in `__init__`, in
    /// `stop_acquisition`, or waiting for a block when acquisition stopped); the runtime
    /// dropped them, as the original plugin does.
    Dropped { events: u32 },
    /// `publish(name, value)`: the values are `len` bytes at `addr` in the guest's memory,
    /// exactly as many as the frame's dtype and shape say (checked here).
    Publish { frame: PublishFrame<'a>, addr: u32, len: u32 },
    /// A socket operation (`op::NET_*`), decoded and served with the guest's memory at hand
    /// (`net_frame.rs`); answered at once.
    Net,
}

/// The guest's two areas the host writes answers into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AreaKind {
    /// Commands (`AREA` kind 0).
    Command,
    /// Answers to questions (`AREA` kind 1).
    Reply,
}

/// A FAILED frame's fields.
#[derive(Debug, PartialEq)]
pub(crate) struct FailedFrame<'a> {
    pub callback: Callback,
    pub line: Option<u32>,
    pub type_name: &'a str,
    pub message: &'a str,
    pub frames: TracebackFrames<'a>,
    pub traceback: &'a str,
}

/// The traceback frames of a FAILED frame, already checked by `decode`; iterate to read
/// them (the innermost [`MAX_TRACEBACK_FRAMES`] of a deeper traceback).
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct TracebackFrames<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> TracebackFrames<'a> {
    /// (file, line, function) of each frame kept, outermost first.
    pub fn iter(self) -> impl Iterator<Item = (&'a str, u32, &'a str)> {
        let mut r = FrameReader::new(op::FAILED, self.bytes, self.bytes.len());
        let skip = self.count.saturating_sub(MAX_TRACEBACK_FRAMES);
        (0..self.count)
            .map_while(move |_| Some((r.str().ok()?, r.u32().ok()?, r.str().ok()?)))
            .skip(skip)
    }

    #[cfg(test)]
    pub fn len(self) -> usize {
        self.count.min(MAX_TRACEBACK_FRAMES)
    }
}

/// Packed events inside a DONE frame; iterate to decode.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct EventsFrame<'a>(&'a [u8]);

impl<'a> EventsFrame<'a> {
    pub fn iter(self) -> impl Iterator<Item = TtlEvent> + 'a {
        self.0.chunks_exact(EVENT_BYTES).map(|e| TtlEvent {
            sample_number: i64::from_le_bytes(e[0..8].try_into().unwrap()),
            line: e[8],
            state: e[9] != 0,
        })
    }
}

/// Packed spikes inside a DONE frame, already checked by `decode`; iterate to decode.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct SpikesFrame<'a>(&'a [u8]);

impl<'a> SpikesFrame<'a> {
    /// Each spike's sample number, channel and whether it carries a waveform, without
    /// decoding the waveforms.
    pub fn peaks(self) -> impl Iterator<Item = (i64, u32, bool)> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let header = rest.get(..SPIKE_HEADER_BYTES)?;
            let sample_number = i64::from_le_bytes(header[0..8].try_into().unwrap());
            let channel = u32::from_le_bytes(header[8..12].try_into().unwrap());
            let len = u32::from_le_bytes(header[20..24].try_into().unwrap()) as usize;
            rest = &rest[SPIKE_HEADER_BYTES + len * 4..];
            Some((sample_number, channel, len > 0))
        })
    }

    pub fn iter(self) -> impl Iterator<Item = SpikeOut> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let field = |at: usize, n: usize| &rest[at..at + n];
            let sample_number = i64::from_le_bytes(field(0, 8).try_into().unwrap());
            let channel = u32::from_le_bytes(field(8, 4).try_into().unwrap());
            let sorted_id = i64::from_le_bytes(field(12, 8).try_into().unwrap());
            let len = u32::from_le_bytes(field(20, 4).try_into().unwrap()) as usize;
            // `decode` let through only 0 or SPIKE_SAMPLES values.
            let waveform = (len == SPIKE_SAMPLES).then(|| {
                let mut values = [0.0; SPIKE_SAMPLES];
                for (value, b) in values.iter_mut().zip(field(SPIKE_HEADER_BYTES, len * 4).chunks_exact(4)) {
                    *value = f32::from_le_bytes(b.try_into().unwrap());
                }
                values
            });
            rest = &rest[SPIKE_HEADER_BYTES + len * 4..];
            Some(SpikeOut { sample_number, channel, sorted_id: sorted_id as u16, waveform })
        })
    }
}

/// Why a frame from the guest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("empty frame")]
    Empty,
    #[error("unknown opcode {0:#04x}")]
    UnknownOp(u8),
    #[error("frame ends early (opcode {op:#04x}, {len} bytes)")]
    Truncated { op: u8, len: usize },
    #[error("{0} extra bytes after the frame")]
    Trailing(usize),
    #[error("a text field is not UTF-8")]
    NotUtf8,
    #[error("unknown callback code {0}")]
    UnknownCallback(u8),
    #[error("an event has state {0}; states are 0 or 1")]
    BadState(u8),
    #[error("an access question asks for {0}; 0 is look, 1 read, 2 write, 3 make a folder")]
    BadAccess(u8),
    #[error("a spike has a waveform of {0} samples; it must have 0 or {SPIKE_SAMPLES}")]
    BadWaveform(usize),
    #[error("an AREA frame names area kind {0}; 0 is the command area, 1 the reply area")]
    BadArea(u8),
    #[error("a spike has sorted id {0}; ids are 0-65535")]
    BadSortedId(i64),
    #[error("a published value has dtype code {0}; pyproc publishes bool, int8-64, uint8-64, float32 and float64")]
    BadDtype(u8),
    #[error("a published value has {0} dimensions; at most {PUBLISH_MAX_DIMS}")]
    TooManyDims(u8),
    #[error("a published value of {0} bytes; at most {PUBLISH_MAX_BYTES}")]
    PublishTooLarge(u64),
    #[error("a published value's shape and dtype make {expected} bytes, but the frame names {got}")]
    PublishShape { expected: u64, got: u32 },
    #[error("a published name of {0} bytes; names have 1 to {PUBLISH_MAX_NAME_BYTES} bytes of UTF-8")]
    BadName(usize),
}

/// Traceback frames a FAILED frame may carry; deeper tracebacks keep their innermost ones.
const MAX_TRACEBACK_FRAMES: usize = 256;

impl<'a> Request<'a> {
    pub fn decode(frame: &'a [u8]) -> Result<Request<'a>, FrameError> {
        let (&op, body) = frame.split_first().ok_or(FrameError::Empty)?;
        let mut r = FrameReader::new(op, body, frame.len());
        let request = match op {
            op::HELLO => Request::Hello {
                mailbox_addr: r.u32()?,
                mailbox_len: r.u32()?,
                reply_addr: r.u32()?,
                reply_len: r.u32()?,
                scratch_addr: r.u32()?,
                scratch_len: r.u32()?,
            },
            op::NEXT => Request::Next,
            op::AREA => {
                let kind = match r.u8()? {
                    0 => AreaKind::Command,
                    1 => AreaKind::Reply,
                    other => return Err(FrameError::BadArea(other)),
                };
                Request::Area { kind, addr: r.u32()?, len: r.u32()? }
            }
            op::DONE => {
                let count = r.u32()? as usize;
                let bytes = r.take(count.checked_mul(EVENT_BYTES).ok_or(r.truncated())?)?;
                if let Some(bad) = bytes.chunks_exact(EVENT_BYTES).map(|e| e[9]).find(|s| *s > 1) {
                    return Err(FrameError::BadState(bad));
                }
                let count = r.u32()? as usize;
                let start = r.rest;
                for _ in 0..count {
                    let header = r.take(SPIKE_HEADER_BYTES)?;
                    let sorted_id = i64::from_le_bytes(header[12..20].try_into().unwrap());
                    if !(0..=u16::MAX as i64).contains(&sorted_id) {
                        return Err(FrameError::BadSortedId(sorted_id));
                    }
                    let len = u32::from_le_bytes(header[20..24].try_into().unwrap()) as usize;
                    if len != 0 && len != SPIKE_SAMPLES {
                        return Err(FrameError::BadWaveform(len));
                    }
                    r.take(len * 4)?;
                }
                let spikes = &start[..start.len() - r.rest.len()];
                Request::Done { events: EventsFrame(bytes), spikes: SpikesFrame(spikes) }
            }
            op::BUFFER => Request::Buffer { addr: r.u32()?, capacity: r.u32()? },
            op::FAILED => {
                let callback = r.callback()?;
                let line = r.u32()?;
                let (type_name, message) = (r.str()?, r.str()?);
                let count = r.u32()? as usize;
                // Each frame takes at least 12 bytes: a count past the frame is a lie, found
                // before anything is allocated for it.
                if count.saturating_mul(12) > r.rest.len() {
                    return Err(r.truncated());
                }
                let start = r.rest;
                for _ in 0..count {
                    (r.str()?, r.u32()?, r.str()?);
                }
                let frames = TracebackFrames { bytes: &start[..start.len() - r.rest.len()], count };
                let traceback = r.str()?;
                Request::Failed(FailedFrame { callback, line: (line != 0).then_some(line), type_name, message, frames, traceback })
            }
            op::LOG => Request::Log { stream: r.u8()?, text: r.take(r.rest.len())? },
            op::STAGE => Request::Stage { callback: r.callback()? },
            op::DROPPED => Request::Dropped { events: r.u32()? },
            op::HANDLES => Request::Handles { mask: u16::from_le_bytes([r.u8()?, r.u8()?]), traits: r.u8()? },
            op::ACCESS => {
                let code = r.u8()?;
                let need = Need::from_code(code).ok_or(FrameError::BadAccess(code))?;
                let report = r.u8()? != 0;
                let path = r.take(r.rest.len())?;
                Request::Access { need, report, path: std::str::from_utf8(path).map_err(|_| FrameError::NotUtf8)? }
            }
            op::PUBLISH => {
                let sample_number = i64::from_le_bytes(r.take(8)?.try_into().unwrap());
                let code = r.u8()?;
                let dtype = Dtype::from_code(code).ok_or(FrameError::BadDtype(code))?;
                let ndim = r.u8()?;
                if ndim as usize > PUBLISH_MAX_DIMS {
                    return Err(FrameError::TooManyDims(ndim));
                }
                let (addr, len) = (r.u32()?, r.u32()?);
                let mut shape = [0u32; PUBLISH_MAX_DIMS];
                let mut expected = dtype.item_bytes() as u64;
                for dim in &mut shape[..ndim as usize] {
                    *dim = r.u32()?;
                    // Four u32 sizes can multiply past u64: saturate, and the cap refuses it.
                    expected = expected.saturating_mul(u64::from(*dim));
                }
                if expected > PUBLISH_MAX_BYTES as u64 {
                    return Err(FrameError::PublishTooLarge(expected));
                }
                if expected != u64::from(len) {
                    return Err(FrameError::PublishShape { expected, got: len });
                }
                let name = r.take(r.rest.len())?;
                if name.is_empty() || name.len() > PUBLISH_MAX_NAME_BYTES {
                    return Err(FrameError::BadName(name.len()));
                }
                let name = std::str::from_utf8(name).map_err(|_| FrameError::NotUtf8)?;
                Request::Publish { frame: PublishFrame { name, dtype, shape, ndim, sample_number }, addr, len }
            }
            code if op::is_net(code) => return Ok(Request::Net),
            other => return Err(FrameError::UnknownOp(other)),
        };
        r.finish(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spike_header(sample: i64, channel: u32, sorted: i64, len: u32) -> Vec<u8> {
        [&sample.to_le_bytes()[..], &channel.to_le_bytes(), &sorted.to_le_bytes(), &len.to_le_bytes()].concat()
    }

    fn str_field(s: &str) -> Vec<u8> {
        [&(s.len() as u32).to_le_bytes()[..], s.as_bytes()].concat()
    }

    #[test]
    fn done_frames_decode_their_events_and_spikes() {
        let mut frame = vec![op::DONE, 2, 0, 0, 0];
        for (s, line, state) in [(10i64, 1u8, 1u8), (-3, 255, 0)] {
            frame.extend_from_slice(&s.to_le_bytes());
            frame.extend_from_slice(&[line, state]);
        }
        frame.extend_from_slice(&2u32.to_le_bytes());
        frame.extend_from_slice(&spike_header(500, 3, 7, 0));
        frame.extend_from_slice(&spike_header(600, 1, 0, SPIKE_SAMPLES as u32));
        frame.extend((0..SPIKE_SAMPLES).flat_map(|i| (i as f32).to_le_bytes()));
        let Request::Done { events, spikes } = Request::decode(&frame).unwrap() else { panic!() };
        let spikes: Vec<_> = spikes.iter().collect();
        assert_eq!(spikes[0], SpikeOut { sample_number: 500, channel: 3, sorted_id: 7, waveform: None });
        assert_eq!(spikes[1].waveform.unwrap()[39], 39.0);
        let got: Vec<_> = events.iter().collect();
        assert_eq!(
            got,
            [TtlEvent { sample_number: 10, line: 1, state: true }, TtlEvent { sample_number: -3, line: 255, state: false }]
        );
    }

    #[test]
    fn failed_frames_carry_the_exception_as_fields() {
        let mut frame = vec![op::FAILED, Callback::Process.code()];
        frame.extend_from_slice(&12u32.to_le_bytes());
        frame.extend(str_field("ValueError"));
        frame.extend(str_field("too large"));
        frame.extend_from_slice(&1u32.to_le_bytes());
        frame.extend(str_field("/lab/s.py"));
        frame.extend_from_slice(&12u32.to_le_bytes());
        frame.extend(str_field("process"));
        frame.extend(str_field("Traceback ...\n"));
        let Request::Failed(failed) = Request::decode(&frame).unwrap() else { panic!() };
        assert_eq!((failed.callback, failed.line, failed.type_name, failed.message), (Callback::Process, Some(12), "ValueError", "too large"));
        assert_eq!(failed.frames.iter().collect::<Vec<_>>(), [("/lab/s.py", 12, "process")]);
        assert_eq!(failed.traceback, "Traceback ...\n");
    }

    #[test]
    fn spikes_with_odd_waveforms_or_ids_are_refused() {
        let done = |spike: Vec<u8>| [vec![op::DONE, 0, 0, 0, 0, 1, 0, 0, 0], spike].concat();
        assert_eq!(Request::decode(&done(spike_header(0, 0, 0, 3))), Err(FrameError::BadWaveform(3)));
        assert_eq!(Request::decode(&done(spike_header(0, 0, 70000, 0))), Err(FrameError::BadSortedId(70000)));
        // Claims a waveform that is not there.
        assert!(matches!(Request::decode(&done(spike_header(0, 0, 0, 40))), Err(FrameError::Truncated { .. })));
    }

    #[test]
    fn a_handles_frame_carries_a_16_bit_mask() {
        assert_eq!(Request::decode(&[op::HANDLES, 0x10, 0x01, 1]), Ok(Request::Handles { mask: 0x0110, traits: 1 }));
        assert!(matches!(Request::decode(&[op::HANDLES, 0x10, 0x01]), Err(FrameError::Truncated { .. })));
        assert_eq!(Request::decode(&[op::HANDLES, 0, 0, 0, 0]), Err(FrameError::Trailing(1)));
    }

    fn publish(dtype: u8, shape: &[u32], len: u32, name: &[u8]) -> Vec<u8> {
        let mut frame = vec![op::PUBLISH];
        frame.extend_from_slice(&77i64.to_le_bytes());
        frame.extend_from_slice(&[dtype, shape.len() as u8]);
        frame.extend_from_slice(&0x100u32.to_le_bytes());
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend(shape.iter().flat_map(|d| d.to_le_bytes()));
        frame.extend_from_slice(name);
        frame
    }

    #[test]
    fn publish_frames_decode_their_name_dtype_and_shape() {
        let bytes = publish(9, &[64, 1024], 64 * 1024 * 4, b"signal");
        let Request::Publish { frame, addr, len } = Request::decode(&bytes).unwrap() else { panic!() };
        assert_eq!((frame.name, frame.dtype, &frame.shape[..frame.ndim as usize], frame.sample_number), ("signal", Dtype::F32, &[64u32, 1024][..], 77));
        assert_eq!((addr, len), (0x100, 64 * 1024 * 4));
        // A scalar: no dimensions, one element.
        assert!(matches!(Request::decode(&publish(10, &[], 8, b"t")), Ok(Request::Publish { .. })));
    }

    #[test]
    fn publish_frames_past_the_caps_or_inconsistent_are_refused() {
        assert_eq!(Request::decode(&publish(11, &[1], 1, b"x")), Err(FrameError::BadDtype(11)));
        assert_eq!(Request::decode(&publish(2, &[1, 1, 1, 1, 1], 1, b"x")), Err(FrameError::TooManyDims(5)));
        let big = (PUBLISH_MAX_BYTES / 4 + 1) as u32;
        assert_eq!(Request::decode(&publish(9, &[big], big * 4, b"x")), Err(FrameError::PublishTooLarge(u64::from(big) * 4)));
        // Sizes that would overflow 32 bits are caught, not wrapped.
        assert!(matches!(Request::decode(&publish(10, &[u32::MAX; 4], 0, b"x")), Err(FrameError::PublishTooLarge(_))));
        assert_eq!(Request::decode(&publish(9, &[3], 8, b"x")), Err(FrameError::PublishShape { expected: 12, got: 8 }));
        assert_eq!(Request::decode(&publish(9, &[1], 4, b"")), Err(FrameError::BadName(0)));
        assert_eq!(Request::decode(&publish(9, &[1], 4, &[b'a'; 65])), Err(FrameError::BadName(65)));
        assert_eq!(Request::decode(&publish(9, &[1], 4, &[0xff])), Err(FrameError::NotUtf8));
        assert!(matches!(Request::decode(&publish(9, &[1], 4, b"x")[..12]), Err(FrameError::Truncated { .. })));
    }

    #[test]
    fn hostile_frames_are_refused_without_panicking() {
        assert_eq!(Request::decode(&[]), Err(FrameError::Empty));
        assert_eq!(Request::decode(&[0x7f]), Err(FrameError::UnknownOp(0x7f)));
        // A count of 2^32-1 events with no bytes behind it.
        assert!(matches!(Request::decode(&[op::DONE, 255, 255, 255, 255]), Err(FrameError::Truncated { .. })));
        // A string length far past the end.
        let failed = [op::FAILED, 3, 0, 0, 0, 0, 255, 255, 255, 127];
        assert!(matches!(Request::decode(&failed), Err(FrameError::Truncated { .. })));
        // A traceback of 2^32-1 frames that are not there.
        let lying = [vec![op::FAILED, 3, 0, 0, 0, 0], str_field("E"), str_field(""), vec![255, 255, 255, 255]].concat();
        assert!(matches!(Request::decode(&lying), Err(FrameError::Truncated { .. })));
        let mut hello = vec![op::HELLO];
        hello.extend_from_slice(&[0; 24]);
        hello.push(1);
        assert_eq!(Request::decode(&hello), Err(FrameError::Trailing(1)));
        assert_eq!(Request::decode(&[op::NEXT, 0]), Err(FrameError::Trailing(1)));
        assert_eq!(Request::decode(&[op::AREA, 2, 0, 0, 0, 0, 0, 0, 0, 0]), Err(FrameError::BadArea(2)));
        assert_eq!(Request::decode(&[op::AREA, 1, 8, 0, 0, 0, 64, 0, 0, 0]), Ok(Request::Area { kind: AreaKind::Reply, addr: 8, len: 64 }));
        assert_eq!(Request::decode(&[op::ACCESS, 2, 1, b'/', b'x']), Ok(Request::Access { need: Need::Write, report: true, path: "/x" }));
        assert_eq!(Request::decode(&[op::ACCESS, 4, 1, b'/']), Err(FrameError::BadAccess(4)));
        let mut bad_state = vec![op::DONE, 1, 0, 0, 0];
        bad_state.extend_from_slice(&[0; 8]);
        bad_state.extend_from_slice(&[1, 2]);
        bad_state.extend_from_slice(&[0; 4]);
        assert_eq!(Request::decode(&bad_state), Err(FrameError::BadState(2)));
    }
}

#[cfg(test)]
mod fuzz {
    //! The guest is untrusted: any bytes it sends must decode or be refused, never panic,
    //! and never make the host allocate more than the frame holds.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Request::decode(&bytes);
        }

        #[test]
        fn publish_frames_with_arbitrary_bodies_never_panic_and_stay_within_the_cap(body in proptest::collection::vec(any::<u8>(), 0..96)) {
            let frame = [&[op::PUBLISH][..], &body].concat();
            if let Ok(Request::Publish { frame: decoded, len, .. }) = Request::decode(&frame) {
                prop_assert!(len as usize <= PUBLISH_MAX_BYTES);
                prop_assert!(!decoded.name.is_empty() && decoded.name.len() <= PUBLISH_MAX_NAME_BYTES);
                prop_assert!(decoded.ndim as usize <= PUBLISH_MAX_DIMS);
            }
        }

        #[test]
        fn done_frames_with_arbitrary_counts_and_bodies_never_panic(
            events in any::<u32>(), spikes in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..512)
        ) {
            let mut frame = vec![op::DONE];
            frame.extend_from_slice(&events.to_le_bytes());
            frame.extend_from_slice(&body);
            if let Ok(Request::Done { events, spikes }) = Request::decode(&frame) {
                // Whatever decodes iterates within the frame.
                prop_assert!(events.iter().count() * EVENT_BYTES <= frame.len());
                prop_assert!(spikes.iter().count() * SPIKE_HEADER_BYTES <= frame.len());
            }
            let mut with_spikes = vec![op::DONE, 0, 0, 0, 0];
            with_spikes.extend_from_slice(&spikes.to_le_bytes());
            with_spikes.extend_from_slice(&body);
            if let Ok(Request::Done { spikes, .. }) = Request::decode(&with_spikes) {
                for spike in spikes.iter() {
                    prop_assert!(spike.waveform.map_or(0, |w| w.len()) <= SPIKE_SAMPLES);
                }
                // The door checks the peaks before it decodes the spikes: the same spikes.
                let peaks: Vec<_> = spikes.iter().map(|s| (s.sample_number, s.channel, s.waveform.is_some())).collect();
                prop_assert_eq!(spikes.peaks().collect::<Vec<_>>(), peaks);
            }
        }

        #[test]
        fn failed_frames_with_arbitrary_lengths_never_panic(
            callback in any::<u8>(), line in any::<u32>(), a in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..128)
        ) {
            let mut frame = vec![op::FAILED, callback];
            frame.extend_from_slice(&line.to_le_bytes());
            frame.extend_from_slice(&a.to_le_bytes());
            frame.extend_from_slice(&body);
            if let Ok(Request::Failed(failed)) = Request::decode(&frame) {
                prop_assert!(failed.frames.len() * 12 <= frame.len());
            }
        }
    }
}
