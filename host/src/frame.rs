//! The byte layout of everything that crosses the door (`host::call`). The guest side of
//! the same layout is `guest-runtime/_pyproc_runtime.py`; `guest-runtime/README.md` is the
//! reference for both. All integers are little-endian; a `str` is a u32 byte length then
//! UTF-8.
//!
//! Frames from the guest are untrusted input (a script can call `_host.call` itself), so
//! decoding checks every length and never allocates more than the frame holds.

use crate::callback::Callback;
use crate::events::{SpikeOut, TtlEvent, SPIKE_SAMPLES};

/// Host -> guest opcodes.
pub(crate) mod op {
    pub const LOAD: u8 = 1;
    pub const SET_STREAM: u8 = 2;
    pub const RESERVE: u8 = 3;
    pub const PROCESS: u8 = 4;
    pub const TTL: u8 = 5;
    pub const SPIKE: u8 = 6;
    pub const CALL: u8 = 7;
    pub const START_RECORDING: u8 = 8;
    pub const QUIT: u8 = 9;

    pub const HELLO: u8 = 0x81;
    pub const DONE: u8 = 0x82;
    pub const BUFFER: u8 = 0x83;
    pub const FAILED: u8 = 0x84;
    pub const LOG: u8 = 0x85;
    pub const STAGE: u8 = 0x86;
    pub const HANDLES: u8 = 0x87;
}

/// Bytes per event in a DONE frame: i64 sample number, u8 line, u8 state.
pub(crate) const EVENT_BYTES: usize = 10;
/// Bytes of a spike's fixed part: i64 sample number, u32 channel, i64 sorted id, u32
/// waveform length (0, or SPIKE_SAMPLES float32 values follow).
const SPIKE_HEADER_BYTES: usize = 24;

/// An order for the guest.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    Load { script_path: String, source: String, num_channels: u32, sample_rate: f64, seed: u64 },
    SetStream { num_channels: u32, sample_rate: f64 },
    /// Allocate a float32 buffer of at least this many values and report it.
    Reserve { floats: u32 },
    /// The block is already in the buffer.
    Process { first_sample: i64, num_samples: u32 },
    Ttl { source_node: i64, channel: String, sample_number: i64, line: u8, state: bool },
    Spike {
        source_node: i64,
        electrode_name: String,
        sample_number: i64,
        sorted_id: i64,
        num_channels: u32,
        num_samples: u32,
        waveform: Vec<f32>,
    },
    /// A callback without arguments (start/stop acquisition, stop recording).
    Call(Callback),
    StartRecording { dir: String },
    Quit,
}

impl Command {
    /// Exact encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        let s = |t: &str| 4 + t.len();
        1 + match self {
            Command::Load { script_path, source, .. } => 4 + 8 + 8 + s(script_path) + s(source),
            Command::SetStream { .. } => 4 + 8,
            Command::Reserve { .. } => 4,
            Command::Process { .. } => 7 + 8 + 8,
            Command::Ttl { channel, .. } => 8 + 8 + 1 + 1 + s(channel),
            Command::Spike { electrode_name, waveform, .. } => {
                8 + 8 + 8 + 4 + 4 + s(electrode_name) + 4 * waveform.len()
            }
            Command::Call(_) => 1,
            Command::StartRecording { dir } => s(dir),
            Command::Quit => 0,
        }
    }

    /// Writes the frame at the start of `out`, which must hold `encoded_len()` bytes.
    pub fn encode(&self, out: &mut [u8]) {
        let mut w = Writer { out, at: 0 };
        match self {
            Command::Load { script_path, source, num_channels, sample_rate, seed } => {
                w.u8(op::LOAD).u32(*num_channels).f64(*sample_rate).u64(*seed).str(script_path).str(source);
            }
            Command::SetStream { num_channels, sample_rate } => {
                w.u8(op::SET_STREAM).u32(*num_channels).f64(*sample_rate);
            }
            Command::Reserve { floats } => {
                w.u8(op::RESERVE).u32(*floats);
            }
            Command::Process { first_sample, num_samples } => {
                // Aligned 8-byte words: the guest reads them as ints without unpacking.
                w.u8(op::PROCESS).bytes(&[0; 7]).i64(*first_sample).u32(*num_samples).u32(0);
            }
            Command::Ttl { source_node, channel, sample_number, line, state } => {
                w.u8(op::TTL).i64(*source_node).i64(*sample_number).u8(*line).u8(*state as u8).str(channel);
            }
            Command::Spike { source_node, electrode_name, sample_number, sorted_id, num_channels, num_samples, waveform } => {
                w.u8(op::SPIKE)
                    .i64(*source_node)
                    .i64(*sample_number)
                    .i64(*sorted_id)
                    .u32(*num_channels)
                    .u32(*num_samples)
                    .str(electrode_name)
                    .bytes(bytemuck::cast_slice(waveform));
            }
            Command::Call(callback) => {
                w.u8(op::CALL).u8(*callback as u8);
            }
            Command::StartRecording { dir } => {
                w.u8(op::START_RECORDING).str(dir);
            }
            Command::Quit => {
                w.u8(op::QUIT);
            }
        }
        debug_assert_eq!(w.at, self.encoded_len());
    }
}

struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.out[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
        self
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes(&[v])
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn i64(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn str(&mut self, s: &str) -> &mut Self {
        let len = u32::try_from(s.len()).expect("strings crossing the door are < 4 GiB");
        self.u32(len).bytes(s.as_bytes())
    }
}

/// A message from the guest, borrowing the frame's bytes.
#[derive(Debug, PartialEq)]
pub(crate) enum Request<'a> {
    /// The dispatch loop is up; its command area is `len` bytes at `addr`.
    Hello { mailbox_addr: u32, mailbox_len: u32 },
    /// The last command succeeded; `events` and `spikes` hold what the script emitted.
    Done { events: EventsFrame<'a>, spikes: SpikesFrame<'a> },
    /// A `Reserve` succeeded: the float32 buffer is at `addr`.
    Buffer { addr: u32, capacity: u32 },
    /// The last command raised a Python exception.
    Failed { callback: Callback, line: Option<u32>, summary: &'a str, traceback: &'a str },
    /// A line (or partial line) the script printed; `stream` 1 = stdout, 2 = stderr.
    Log { stream: u8, text: &'a [u8] },
    /// The command has moved on to another of the script's entry points (import ->
    /// `__init__`), so a deadline or trap is blamed on the right one.
    Stage { callback: Callback },
    /// The new `PyProcessor` defines these optional callbacks (bit n: callback code n), so
    /// the host need not knock for the others.
    Handles { mask: u16 },
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
            let waveform = (len > 0).then(|| {
                field(SPIKE_HEADER_BYTES, len * 4).chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
            });
            rest = &rest[SPIKE_HEADER_BYTES + len * 4..];
            Some(SpikeOut { sample_number, channel, sorted_id: sorted_id as u16, waveform })
        })
    }
}

/// Why a frame from the guest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
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
    #[error("a spike has a waveform of {0} samples; it must have 0 or {SPIKE_SAMPLES}")]
    BadWaveform(usize),
    #[error("a spike has sorted id {0}; ids are 0-65535")]
    BadSortedId(i64),
}

impl<'a> Request<'a> {
    pub fn decode(frame: &'a [u8]) -> Result<Request<'a>, FrameError> {
        let (&op, body) = frame.split_first().ok_or(FrameError::Empty)?;
        let mut r = Reader { rest: body, op, len: frame.len() };
        let request = match op {
            op::HELLO => Request::Hello { mailbox_addr: r.u32()?, mailbox_len: r.u32()? },
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
                let code = r.u8()?;
                let callback = Callback::from_wire(code).ok_or(FrameError::UnknownCallback(code))?;
                let line = r.u32()?;
                Request::Failed { callback, line: (line != 0).then_some(line), summary: r.str()?, traceback: r.str()? }
            }
            op::LOG => Request::Log { stream: r.u8()?, text: r.take(r.rest.len())? },
            op::STAGE => {
                let code = r.u8()?;
                Request::Stage { callback: Callback::from_wire(code).ok_or(FrameError::UnknownCallback(code))? }
            }
            op::HANDLES => Request::Handles { mask: u16::from_le_bytes([r.u8()?, r.u8()?]) },
            other => return Err(FrameError::UnknownOp(other)),
        };
        match r.rest.len() {
            0 => Ok(request),
            n => Err(FrameError::Trailing(n)),
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
    op: u8,
    len: usize,
}

impl<'a> Reader<'a> {
    fn truncated(&self) -> FrameError {
        FrameError::Truncated { op: self.op, len: self.len }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if n > self.rest.len() {
            return Err(self.truncated());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, FrameError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn str(&mut self) -> Result<&'a str, FrameError> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| FrameError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_encodes_to_exactly_its_stated_length() {
        let commands = [
            Command::Load { script_path: "/a/b.py".into(), source: "x = 1\n".into(), num_channels: 4, sample_rate: 3e4, seed: 9 },
            Command::SetStream { num_channels: 2, sample_rate: 1e3 },
            Command::Reserve { floats: 10 },
            Command::Process { first_sample: -5, num_samples: 1024 },
            Command::Ttl { source_node: 100, channel: "TTL".into(), sample_number: 7, line: 3, state: true },
            Command::Spike {
                source_node: 1,
                electrode_name: "Tetrode 1".into(),
                sample_number: 9,
                sorted_id: 2,
                num_channels: 2,
                num_samples: 3,
                waveform: vec![1.0; 6],
            },
            Command::Call(Callback::StopRecording),
            Command::StartRecording { dir: "/rec".into() },
            Command::Quit,
        ];
        for c in commands {
            let mut buf = vec![0u8; c.encoded_len()];
            c.encode(&mut buf);
        }
    }

    #[test]
    fn a_process_command_has_the_layout_the_guest_unpacks() {
        let mut buf = [0xffu8; 24];
        Command::Process { first_sample: 0x0102, num_samples: 5 }.encode(&mut buf);
        let words: Vec<i64> = buf.chunks(8).map(|w| i64::from_le_bytes(w.try_into().unwrap())).collect();
        assert_eq!(words, [4, 0x0102, 5]);
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
        assert_eq!(spikes[1].waveform.as_deref().unwrap()[39], 39.0);
        let got: Vec<_> = events.iter().collect();
        assert_eq!(
            got,
            [
                TtlEvent { sample_number: 10, line: 1, state: true },
                TtlEvent { sample_number: -3, line: 255, state: false }
            ]
        );
    }

    fn spike_header(sample: i64, channel: u32, sorted: i64, len: u32) -> Vec<u8> {
        [&sample.to_le_bytes()[..], &channel.to_le_bytes(), &sorted.to_le_bytes(), &len.to_le_bytes()].concat()
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
        assert_eq!(Request::decode(&[op::HANDLES, 0x10, 0x01]), Ok(Request::Handles { mask: 0x0110 }));
        assert!(matches!(Request::decode(&[op::HANDLES, 0x10]), Err(FrameError::Truncated { .. })));
        assert_eq!(Request::decode(&[op::HANDLES, 0, 0, 0]), Err(FrameError::Trailing(1)));
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
        assert_eq!(Request::decode(&[op::HELLO, 0, 0, 0, 0, 0, 0, 0, 0, 1]), Err(FrameError::Trailing(1)));
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
            let _ = Request::decode(&frame);
        }
    }
}
