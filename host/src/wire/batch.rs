//! TTL events and spikes on their way to the script's handlers: encoded as they arrive into
//! one reused byte buffer, and carried by the next command that reaches the guest (a block's
//! PROCESS, or an EVENTS of their own). Record layouts are in `layout.rs`.
//!
//! The buffer is allocated once, with room for what fits the guest's command area beside a
//! PROCESS header, and never grows past that except for one record that alone is larger
//! (a spike of thousands of samples): that one goes out by itself and the buffer is
//! shrunk back.

use crate::callback::Callback;
use crate::events::{SpikeIn, TtlEventIn};
use crate::wire::layout::{op, COMMAND_AREA_BYTES, PROCESS_BYTES, SAME_CHANNEL, SPIKE_RECORD_BYTES, TTL_RECORD_BYTES};

/// Records that fit the command area after a PROCESS header.
pub(crate) const BATCH_BYTES: usize = COMMAND_AREA_BYTES - PROCESS_BYTES;

/// Queued records, in arrival order.
#[derive(Debug)]
pub(crate) struct Batch {
    bytes: Vec<u8>,
    count: u32,
    /// The handler of the first record: what a command carrying the batch runs first.
    first: Option<Callback>,
    /// Where the last TTL record's channel name sits in `bytes`, to send a repeat as
    /// [`SAME_CHANNEL`].
    last_channel: Option<(usize, usize)>,
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
        Batch { bytes: Vec::with_capacity(BATCH_BYTES), count: 0, first: None, last_channel: None }
    }
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The handler the batch starts with (None when empty).
    pub fn first(&self) -> Option<Callback> {
        self.first
    }

    /// Empties the batch after it was handed to the guest; a buffer grown for one large
    /// record goes back to its usual size.
    pub fn clear(&mut self) {
        self.bytes.clear();
        if self.bytes.capacity() > BATCH_BYTES {
            self.bytes.shrink_to(BATCH_BYTES);
        }
        self.count = 0;
        self.first = None;
        self.last_channel = None;
    }

    pub fn push_ttl(&mut self, event: &TtlEventIn<'_>) -> Queued {
        let channel = event.channel.as_bytes();
        let same = self.last_channel.is_some_and(|(at, len)| &self.bytes[at..at + len] == channel);
        let name_len = if same { 0 } else { channel.len() };
        if !self.room_for(TTL_RECORD_BYTES + name_len) || u32::try_from(name_len).is_err() {
            return Queued::Full;
        }
        let length = if same { SAME_CHANNEL } else { name_len as u32 };
        let b = &mut self.bytes;
        b.extend_from_slice(&[op::TTL, event.line, event.state as u8]);
        b.extend_from_slice(&length.to_le_bytes());
        b.extend_from_slice(&event.source_node.to_le_bytes());
        b.extend_from_slice(&event.sample_number.to_le_bytes());
        if !same {
            self.last_channel = Some((b.len(), channel.len()));
            b.extend_from_slice(channel);
        }
        self.counted(Callback::HandleTtlEvent);
        Queued::Yes
    }

    pub fn push_spike(&mut self, spike: &SpikeIn<'_>) -> Queued {
        let (channels, samples) = spike.waveform.dim();
        let name = spike.electrode_name.as_bytes();
        let floats = channels * samples;
        if !self.room_for(SPIKE_RECORD_BYTES + name.len() + 4 * floats) {
            return Queued::Full;
        }
        let b = &mut self.bytes;
        b.push(op::SPIKE);
        for n in [name.len(), channels, samples] {
            b.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for n in [spike.source_node, spike.sample_number, spike.sorted_id] {
            b.extend_from_slice(&n.to_le_bytes());
        }
        b.extend_from_slice(name);
        match spike.waveform.as_slice() {
            Some(contiguous) => b.extend_from_slice(bytemuck::cast_slice(contiguous)),
            None => spike.waveform.iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes())),
        }
        self.counted(Callback::HandleSpike);
        Queued::Yes
    }

    /// A record fits if the batch stays within [`BATCH_BYTES`], or if it is the only one
    /// (then it is larger than any command area and goes out alone).
    fn room_for(&self, record: usize) -> bool {
        let fits = self.bytes.len() + record <= BATCH_BYTES || self.is_empty();
        // Counts and lengths are u32 on the wire: a record of 4 GiB cannot be described.
        fits && record < u32::MAX as usize
    }

    fn counted(&mut self, handler: Callback) {
        self.count += 1;
        self.first.get_or_insert(handler);
    }

    /// Whether the batch must go out before anything else is queued: it holds one record
    /// larger than a command area may carry with a block.
    pub fn oversized(&self) -> bool {
        self.bytes.len() > BATCH_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn ttl(channel: &str, sample_number: i64) -> TtlEventIn<'_> {
        TtlEventIn { source_node: 7, channel, sample_number, line: 3, state: true }
    }

    #[test]
    fn a_ttl_record_has_the_layout_the_guest_unpacks() {
        let mut batch = Batch::default();
        assert_eq!(batch.push_ttl(&ttl("TTL", -2)), Queued::Yes);
        let b = batch.bytes();
        assert_eq!(&b[..3], &[op::TTL, 3, 1]);
        assert_eq!(u32::from_le_bytes(b[3..7].try_into().unwrap()), 3);
        assert_eq!(i64::from_le_bytes(b[7..15].try_into().unwrap()), 7);
        assert_eq!(i64::from_le_bytes(b[15..23].try_into().unwrap()), -2);
        assert_eq!(&b[23..], b"TTL");
        assert_eq!((batch.count(), batch.first()), (1, Some(Callback::HandleTtlEvent)));
    }

    #[test]
    fn a_repeated_channel_is_sent_once() {
        let mut batch = Batch::default();
        batch.push_ttl(&ttl("TTL", 1));
        batch.push_ttl(&ttl("TTL", 2));
        batch.push_ttl(&ttl("Other", 3));
        let second = &batch.bytes()[TTL_RECORD_BYTES + 3..];
        assert_eq!(u32::from_le_bytes(second[3..7].try_into().unwrap()), SAME_CHANNEL);
        assert_eq!(batch.bytes().len(), 3 * TTL_RECORD_BYTES + 3 + 5);
    }

    #[test]
    fn a_spike_record_carries_its_waveform_in_channel_major_order() {
        let waveform = Array2::from_shape_fn((2, 3), |(c, s)| (c * 10 + s) as f32);
        let mut batch = Batch::default();
        let spike = SpikeIn { source_node: 1, electrode_name: "E", sample_number: 9, sorted_id: 4, waveform: waveform.t().t() };
        assert_eq!(batch.push_spike(&spike), Queued::Yes);
        let transposed = waveform.t().to_owned();
        let strided = SpikeIn { waveform: transposed.t(), ..spike.clone() };
        assert_eq!(batch.push_spike(&strided), Queued::Yes);
        let record = SPIKE_RECORD_BYTES + 1 + 6 * 4;
        let (a, b) = batch.bytes().split_at(record);
        assert_eq!(a, b, "a strided view encodes like a contiguous one");
        let floats: Vec<f32> = a[SPIKE_RECORD_BYTES + 1..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(floats, [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    }

    #[test]
    fn a_full_batch_refuses_and_never_reallocates() {
        let mut batch = Batch::default();
        let capacity = batch.bytes.capacity();
        let mut n = 0;
        while batch.push_ttl(&ttl("TTL", n)) == Queued::Yes {
            n += 1;
        }
        assert!(batch.bytes().len() <= BATCH_BYTES && batch.bytes.capacity() == capacity);
        assert_eq!(batch.count() as i64, n);
        batch.clear();
        assert_eq!(batch.push_ttl(&ttl("TTL", 0)), Queued::Yes);
    }

    #[test]
    fn one_record_larger_than_the_area_is_taken_alone_and_the_buffer_shrinks_after() {
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
        assert!(batch.bytes.capacity() <= BATCH_BYTES);
    }
}
