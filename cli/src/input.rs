//! The recording a run reads: its continuous stream, and its TTL events and spikes in
//! sample order, handed out block by block.

use std::path::Path;

use ndarray::ArrayView2;
use pyproc_host::{SpikeIn, TtlEventIn};
use pyproc_oebin::{Continuous, ContinuousInfo, Recording, SpikeChannel, TtlRecord};

pub struct Input {
    pub recording: Recording,
    pub stream: usize,
    pub continuous: Continuous,
    pub ttl: Vec<TtlRecord>,
    pub spike_channels: Vec<SpikeChannel>,
    /// (sample number, channel, index in channel), sorted: every spike, no waveforms.
    pub spike_order: Vec<(i64, usize, usize)>,
}

impl Input {
    pub fn open(path: &Path, stream_name: Option<&str>) -> anyhow::Result<Input> {
        let recording = Recording::open(path)?;
        let stream = recording.structure.stream_index(stream_name)?;
        let continuous = recording.continuous(stream)?;
        let ttl = recording.ttl_events(stream)?;
        let spike_channels = recording.spikes(stream)?;
        let mut spike_order: Vec<(i64, usize, usize)> = spike_channels
            .iter()
            .enumerate()
            .flat_map(|(c, ch)| (0..ch.len()).map(move |i| (ch.sample_number(i), c, i)))
            .collect();
        spike_order.sort();
        Ok(Input { recording, stream, continuous, ttl, spike_channels, spike_order })
    }

    pub fn info(&self) -> &ContinuousInfo {
        &self.continuous.info
    }

    /// The TTL events and spikes (sample number, channel, index) before sample number `end`
    /// that `cursor` has not handed out yet, in sample order; moves `cursor` past them.
    pub fn until(&self, cursor: &mut Cursor, end: i64) -> (&[TtlRecord], &[(i64, usize, usize)]) {
        let ttl_end = cursor.ttl + self.ttl[cursor.ttl..].partition_point(|e| e.sample_number < end);
        let spike_end = cursor.spikes + self.spike_order[cursor.spikes..].partition_point(|s| s.0 < end);
        let taken = (&self.ttl[cursor.ttl..ttl_end], &self.spike_order[cursor.spikes..spike_end]);
        (cursor.ttl, cursor.spikes) = (ttl_end, spike_end);
        taken
    }

    /// Spike `i` of spike channel `c`, with its waveform, as a script's handler gets it.
    pub fn spike_in<'a>(&'a self, sample_number: i64, c: usize, i: usize, waveform: ArrayView2<'a, f32>) -> SpikeIn<'a> {
        let channel = &self.spike_channels[c];
        SpikeIn { source_node: channel.info.source_processor_id, electrode_name: &channel.info.name, sample_number, sorted_id: channel.cluster(i), waveform }
    }
}

/// A recorded TTL event as a script's handler gets it.
pub trait AsEventIn {
    fn as_event_in(&self) -> TtlEventIn<'_>;
}

impl AsEventIn for TtlRecord {
    fn as_event_in(&self) -> TtlEventIn<'_> {
        TtlEventIn { source_node: self.source_processor_id, channel: &self.channel, sample_number: self.sample_number, line: self.line, state: self.state }
    }
}

/// How far [`Input::until`] has handed out the events and spikes.
#[derive(Debug, Default)]
pub struct Cursor {
    ttl: usize,
    spikes: usize,
}
