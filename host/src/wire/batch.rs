//! TTL events and spikes on their way to the script's handlers: encoded as they arrive into
//! reused buffers (the records, and the spikes' waveforms apart), and carried by the next
//! command that reaches the guest (a block's PROCESS, or an EVENTS of their own). Layouts
//! are in `layout.rs`.
//!
//! The buffers are allocated once, with room for what fits the guest's command area beside
//! a PROCESS header, and never grow past that except for one spike that alone is larger
//! (thousands of samples): that one goes out by itself and the buffers shrink back.

use crate::callback::Callback;
use crate::events::{SpikeIn, TtlEventIn};
use crate::wire::layout::{op, COMMAND_AREA_BYTES, PROCESS_BYTES, SAME_NAME, SPIKE_RECORD_BYTES, TTL_RECORD_BYTES};

/// Bytes of records and waveforms that fit the command area after a PROCESS header.
pub(crate) const BATCH_BYTES: usize = COMMAND_AREA_BYTES - PROCESS_BYTES;

/// Queued records, in arrival order.
#[derive(Debug)]
pub(crate) struct Batch {
    records: Vec<u8>,
    waveforms: Vec<f32>,
    count: u32,
    /// The handler of the first record: what a command carrying the batch runs first.
    first: Option<Callback>,
    /// The shape every spike so far has (None before the first spike); `Mixed` once two
    /// differ.
    shape: Shape,
    /// Where the last TTL record's channel name and the last spike's electrode name sit
    /// in `records`, so a repeat is sent as [`SAME_NAME`].
    last_channel: Option<(usize, usize)>,
    last_electrode: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    None,
    Uniform(u32, u32),
    Mixed,
}

/// What the header of a command carrying the batch says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct BatchSummary {
    pub records: u32,
    /// Bytes of the records, padded to a multiple of 4 so the waveforms that follow are
    /// aligned float32.
    pub record_bytes: u32,
    pub floats: u32,
    /// Every spike's (channels, samples), when they all have the same; else (0, 0).
    pub shape: (u32, u32),
    /// The handler of the first record (None: the batch is empty).
    pub first: Option<Callback>,
}

impl BatchSummary {
    /// Bytes after the command's header.
    pub fn encoded_len(&self) -> usize {
        self.record_bytes as usize + 4 * self.floats as usize
    }
}

/// Where a record went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queued {
    /// Into the batch.
    Yes,
    /// Not: the batch is too full for it. Deliver the batch, then queue it again.
    Full,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            records: Vec::with_capacity(BATCH_BYTES),
            waveforms: Vec::with_capacity(BATCH_BYTES / 4),
            count: 0,
            first: None,
            shape: Shape::None,
            last_channel: None,
            last_electrode: None,
        }
    }
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn summary(&self) -> BatchSummary {
        BatchSummary {
            records: self.count,
            record_bytes: padded(self.records.len()) as u32,
            floats: self.waveforms.len() as u32,
            shape: match self.shape {
                Shape::Uniform(channels, samples) => (channels, samples),
                Shape::None | Shape::Mixed => (0, 0),
            },
            first: self.first,
        }
    }

    /// Writes the records, their padding and the waveforms into `out`, which holds exactly
    /// `summary().encoded_len()` bytes.
    pub fn encode(&self, out: &mut [u8]) {
        let (records, waveforms) = out.split_at_mut(padded(self.records.len()));
        records[..self.records.len()].copy_from_slice(&self.records);
        records[self.records.len()..].fill(0);
        waveforms.copy_from_slice(bytemuck::cast_slice(&self.waveforms));
    }

    /// Empties the batch after it was handed to the guest; buffers grown for one large
    /// spike go back to their usual size.
    pub fn clear(&mut self) {
        self.records.clear();
        self.waveforms.clear();
        if self.waveforms.capacity() > BATCH_BYTES / 4 {
            self.waveforms.shrink_to(BATCH_BYTES / 4);
        }
        self.count = 0;
        self.first = None;
        self.shape = Shape::None;
        self.last_channel = None;
        self.last_electrode = None;
    }

    pub fn push_ttl(&mut self, event: &TtlEventIn<'_>) -> Queued {
        let (length, name) = self.name(event.channel, self.last_channel);
        if !self.room_for(TTL_RECORD_BYTES + name.len(), 0) {
            return Queued::Full;
        }
        let r = &mut self.records;
        r.extend_from_slice(&[op::TTL, event.line, event.state as u8]);
        r.extend_from_slice(&length.to_le_bytes());
        r.extend_from_slice(&event.source_node.to_le_bytes());
        r.extend_from_slice(&event.sample_number.to_le_bytes());
        if !name.is_empty() {
            self.last_channel = Some((r.len(), name.len()));
            r.extend_from_slice(name);
        }
        self.counted(Callback::HandleTtlEvent);
        Queued::Yes
    }

    pub fn push_spike(&mut self, spike: &SpikeIn<'_>) -> Queued {
        let (channels, samples) = spike.waveform.dim();
        let (length, name) = self.name(spike.electrode_name, self.last_electrode);
        let (Ok(channels32), Ok(samples32)) = (u32::try_from(channels), u32::try_from(samples)) else { return Queued::Full };
        if !self.room_for(SPIKE_RECORD_BYTES + name.len(), channels * samples) {
            return Queued::Full;
        }
        let r = &mut self.records;
        r.push(op::SPIKE);
        for n in [length, channels32, samples32] {
            r.extend_from_slice(&n.to_le_bytes());
        }
        for n in [spike.source_node, spike.sample_number, spike.sorted_id] {
            r.extend_from_slice(&n.to_le_bytes());
        }
        if !name.is_empty() {
            self.last_electrode = Some((r.len(), name.len()));
            r.extend_from_slice(name);
        }
        match spike.waveform.as_slice() {
            Some(contiguous) => self.waveforms.extend_from_slice(contiguous),
            None => self.waveforms.extend(spike.waveform.iter()),
        }
        self.shape = match self.shape {
            Shape::None => Shape::Uniform(channels32, samples32),
            Shape::Uniform(c, s) if (c, s) == (channels32, samples32) => self.shape,
            _ => Shape::Mixed,
        };
        self.counted(Callback::HandleSpike);
        Queued::Yes
    }

    /// The length field and the bytes to send for `name`: [`SAME_NAME`] and none when it
    /// repeats the name at `last` (a `memcmp`, cheaper than the guest decoding it again).
    fn name<'n>(&self, name: &'n str, last: Option<(usize, usize)>) -> (u32, &'n [u8]) {
        let bytes = name.as_bytes();
        match last {
            Some((at, len)) if &self.records[at..at + len] == bytes => (SAME_NAME, &[]),
            // `room_for` refuses a record whose length does not fit a u32.
            _ => (bytes.len() as u32, bytes),
        }
    }

    /// A record fits if the batch stays within [`BATCH_BYTES`], or if it is the only one
    /// (then it is larger than any command area and goes out alone).
    fn room_for(&self, record_bytes: usize, floats: usize) -> bool {
        let total = padded(self.records.len() + record_bytes).saturating_add(4 * (self.waveforms.len() + floats));
        // Counts and lengths are u32 on the wire.
        (total <= BATCH_BYTES || self.is_empty()) && total < u32::MAX as usize
    }

    fn counted(&mut self, handler: Callback) {
        self.count += 1;
        self.first.get_or_insert(handler);
    }

    /// Whether the batch must go out before anything else is queued: it holds one spike
    /// larger than a command area may carry with a block.
    pub fn oversized(&self) -> bool {
        self.summary().encoded_len() > BATCH_BYTES
    }
}

/// `n` rounded up to a multiple of 4.
fn padded(n: usize) -> usize {
    n.div_ceil(4) * 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn ttl(channel: &str, sample_number: i64) -> TtlEventIn<'_> {
        TtlEventIn { source_node: 7, channel, sample_number, line: 3, state: true }
    }

    fn encoded(batch: &Batch) -> Vec<u8> {
        let mut out = vec![0xff; batch.summary().encoded_len()];
        batch.encode(&mut out);
        out
    }

    #[test]
    fn a_ttl_record_has_the_layout_the_guest_unpacks() {
        let mut batch = Batch::default();
        assert_eq!(batch.push_ttl(&ttl("TTL", -2)), Queued::Yes);
        let b = encoded(&batch);
        assert_eq!(&b[..3], &[op::TTL, 3, 1]);
        assert_eq!(u32::from_le_bytes(b[3..7].try_into().unwrap()), 3);
        assert_eq!(i64::from_le_bytes(b[7..15].try_into().unwrap()), 7);
        assert_eq!(i64::from_le_bytes(b[15..23].try_into().unwrap()), -2);
        assert_eq!(&b[23..26], b"TTL");
        assert_eq!(&b[26..], &[0, 0], "padded to a multiple of 4");
        assert_eq!(batch.summary(), BatchSummary { records: 1, record_bytes: 28, floats: 0, shape: (0, 0), first: Some(Callback::HandleTtlEvent) });
    }

    #[test]
    fn a_repeated_name_is_sent_once() {
        let mut batch = Batch::default();
        batch.push_ttl(&ttl("TTL", 1));
        batch.push_ttl(&ttl("TTL", 2));
        batch.push_ttl(&ttl("Other", 3));
        let second = &batch.records[TTL_RECORD_BYTES + 3..];
        assert_eq!(u32::from_le_bytes(second[3..7].try_into().unwrap()), SAME_NAME);
        assert_eq!(batch.records.len(), 3 * TTL_RECORD_BYTES + 3 + 5);
    }

    #[test]
    fn spike_waveforms_follow_the_records_in_channel_major_order_whatever_the_view() {
        let waveform = Array2::from_shape_fn((2, 3), |(c, s)| (c * 10 + s) as f32);
        let transposed = waveform.t().to_owned();
        let mut batch = Batch::default();
        let spike = SpikeIn { source_node: 1, electrode_name: "E", sample_number: 9, sorted_id: 4, waveform: waveform.view() };
        assert_eq!(batch.push_spike(&spike), Queued::Yes);
        assert_eq!(batch.push_spike(&SpikeIn { waveform: transposed.t(), ..spike.clone() }), Queued::Yes);
        let summary = batch.summary();
        assert_eq!((summary.records, summary.floats, summary.shape), (2, 12, (2, 3)));
        let b = encoded(&batch);
        let floats: Vec<f32> = b[summary.record_bytes as usize..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(floats, [0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
        let other = Array2::<f32>::zeros((1, 3));
        batch.push_spike(&SpikeIn { waveform: other.view(), ..spike });
        assert_eq!(batch.summary().shape, (0, 0), "shapes differ");
    }

    #[test]
    fn a_full_batch_refuses_and_never_reallocates() {
        let mut batch = Batch::default();
        let capacity = (batch.records.capacity(), batch.waveforms.capacity());
        let mut n = 0;
        while batch.push_ttl(&ttl("TTL", n)) == Queued::Yes {
            n += 1;
        }
        assert!(batch.summary().encoded_len() <= BATCH_BYTES);
        assert_eq!((batch.records.capacity(), batch.waveforms.capacity()), capacity);
        assert_eq!(batch.summary().records as i64, n);
        batch.clear();
        assert_eq!(batch.push_ttl(&ttl("TTL", 0)), Queued::Yes);
    }

    #[test]
    fn one_spike_larger_than_the_area_is_taken_alone_and_the_buffers_shrink_after() {
        let big = Array2::<f32>::zeros((64, BATCH_BYTES / 64));
        let spike = SpikeIn { source_node: 1, electrode_name: "E", sample_number: 0, sorted_id: 0, waveform: big.view() };
        let mut batch = Batch::default();
        batch.push_ttl(&ttl("TTL", 0));
        assert_eq!(batch.push_spike(&spike), Queued::Full);
        batch.clear();
        assert_eq!(batch.push_spike(&spike), Queued::Yes);
        assert!(batch.oversized());
        assert_eq!(batch.push_ttl(&ttl("TTL", 0)), Queued::Full);
        batch.clear();
        assert!(batch.waveforms.capacity() <= BATCH_BYTES / 4);
    }
}
