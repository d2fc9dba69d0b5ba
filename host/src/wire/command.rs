//! Host -> guest: the commands the door hands the guest, and their byte layout (fields in
//! `guest-runtime/README.md`; numbers in `layout.rs`). Integers are little-endian; a `str`
//! is a u32 byte length then UTF-8.

use std::sync::Arc;

use crate::callback::Callback;
use crate::published::{Dtype, Published};
use crate::wire::batch::BatchSummary;
use crate::wire::layout::{op, PROCESS_BYTES};

/// An order for the guest.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    /// Import the script and construct its `PyProcessor`, or with `viewer` its
    /// `PyVisualizer`.
    Load { script_path: String, source: String, num_channels: u32, sample_rate: f64, seed: u64, viewer: bool },
    SetStream { num_channels: u32, sample_rate: f64 },
    /// Allocate a float32 buffer of at least this many values and report it.
    Reserve { floats: u32 },
    /// The block is already in the buffer. The mailbox's batch (queued events and spikes,
    /// as `batch` sums it up) follows the header, for the handlers to see before `process`.
    Process { first_sample: i64, num_samples: u32, batch: BatchSummary },
    /// The mailbox's batch alone, without a block (`batch.first` is set).
    Events { batch: BatchSummary },
    /// A callback without arguments (start/stop acquisition, stop recording).
    Call(Callback),
    StartRecording { dir: String },
    /// A viewer's `update(published)` with these values.
    View(Arc<Published>),
    Quit,
}

impl Command {
    /// The script entry point this command runs (a load starts with the import; the
    /// guest announces `__init__` when it gets there).
    pub fn callback(&self) -> Option<Callback> {
        Some(match self {
            Command::Load { .. } => Callback::Import,
            Command::SetStream { .. } => Callback::Init,
            Command::Reserve { .. } => Callback::Process,
            Command::Process { batch, .. } => batch.first.unwrap_or(Callback::Process),
            Command::Events { batch } => batch.first.unwrap_or(Callback::HandleTtlEvent),
            Command::Call(callback) => *callback,
            Command::StartRecording { .. } => Callback::StartRecording,
            Command::View(_) => Callback::Update,
            Command::Quit => return None,
        })
    }

    /// Whether the mailbox's batch follows this command's header.
    pub fn carries_batch(&self) -> bool {
        matches!(self, Command::Process { .. } | Command::Events { .. })
    }

    /// Exact encoded size in bytes, without the batch a PROCESS or EVENTS carries.
    pub fn encoded_len(&self) -> usize {
        let s = |t: &str| 4 + t.len();
        match self {
            Command::Load { script_path, source, .. } => 1 + 4 + 8 + 8 + 1 + s(script_path) + s(source),
            Command::SetStream { .. } => 1 + 4 + 8,
            Command::Reserve { .. } => 1 + 4,
            Command::Process { .. } | Command::Events { .. } => PROCESS_BYTES,
            Command::Call(_) => 1 + 1,
            Command::StartRecording { dir } => 1 + s(dir),
            Command::View(published) => {
                1 + 4 + published.iter().map(|v| s(v.name()) + 1 + 1 + 4 * v.shape().len() + 8 + 4 + v.bytes().len()).sum::<usize>()
            }
            Command::Quit => 1,
        }
    }

    /// Writes the frame (without its batch) at the start of `out`, which must hold
    /// `encoded_len()` bytes, and returns the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> usize {
        let mut w = Writer { out, at: 0 };
        match self {
            Command::Load { script_path, source, num_channels, sample_rate, seed, viewer } => {
                w.u8(op::LOAD).u32(*num_channels).f64(*sample_rate).u64(*seed).u8(u8::from(*viewer)).str(script_path).str(source);
            }
            Command::SetStream { num_channels, sample_rate } => {
                w.u8(op::SET_STREAM).u32(*num_channels).f64(*sample_rate);
            }
            Command::Reserve { floats } => {
                w.u8(op::RESERVE).u32(*floats);
            }
            Command::Process { first_sample, num_samples, batch } => {
                w.u8(op::PROCESS).bytes(&[0; 7]).i64(*first_sample).u64(u64::from(*num_samples)).batch(batch);
            }
            Command::Events { batch } => {
                w.u8(op::EVENTS).bytes(&[0; 7]).i64(0).u64(0).batch(batch);
            }
            Command::Call(callback) => {
                w.u8(op::CALL).u8(callback.code());
            }
            Command::StartRecording { dir } => {
                w.u8(op::START_RECORDING).str(dir);
            }
            Command::View(published) => {
                w.u8(op::VIEW).u32(published.len() as u32);
                for v in published.iter() {
                    let code = Dtype::ALL.iter().position(|d| *d == v.dtype()).expect("every dtype is in ALL") as u8;
                    w.str(v.name()).u8(code).u8(v.shape().len() as u8);
                    for dim in v.shape() {
                        w.u32(*dim);
                    }
                    w.i64(v.sample_number()).u32(v.bytes().len() as u32).bytes(v.bytes());
                }
            }
            Command::Quit => {
                w.u8(op::QUIT);
            }
        }
        w.at
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
    /// The words of a PROCESS or EVENTS header that describe the batch after it.
    fn batch(&mut self, b: &BatchSummary) -> &mut Self {
        for word in [b.records, b.record_bytes, b.floats, b.shape.0, b.shape.1] {
            self.u64(u64::from(word));
        }
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        let len = u32::try_from(s.len()).expect("strings crossing the door are < 4 GiB");
        self.u32(len).bytes(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_encodes_to_exactly_its_stated_length() {
        let commands = [
            Command::Load { script_path: "/a/b.py".into(), source: "x = 1\n".into(), num_channels: 4, sample_rate: 3e4, seed: 9, viewer: true },
            Command::View(Arc::new(Published::default())),
            Command::SetStream { num_channels: 2, sample_rate: 1e3 },
            Command::Reserve { floats: 10 },
            Command::Process { first_sample: -5, num_samples: 1024, batch: BatchSummary::default() },
            Command::Events { batch: BatchSummary { records: 3, first: Some(Callback::HandleSpike), ..Default::default() } },
            Command::Call(Callback::StopRecording),
            Command::StartRecording { dir: "/rec".into() },
            Command::Quit,
        ];
        for c in commands {
            let mut buf = vec![0u8; c.encoded_len()];
            assert_eq!(c.encode(&mut buf), buf.len(), "{c:?}");
        }
    }

    #[test]
    fn a_process_command_has_the_layout_the_guest_unpacks() {
        let mut buf = [0xffu8; PROCESS_BYTES];
        let batch = BatchSummary { records: 2, record_bytes: 48, floats: 320, shape: (4, 40), first: Some(Callback::HandleSpike) };
        Command::Process { first_sample: 0x0102, num_samples: 5, batch }.encode(&mut buf);
        let words: Vec<i64> = buf.chunks(8).map(|w| i64::from_le_bytes(w.try_into().unwrap())).collect();
        assert_eq!(words, [op::PROCESS as i64, 0x0102, 5, 2, 48, 320, 4, 40]);
    }
}
