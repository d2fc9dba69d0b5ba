//! The recording a run reads: its continuous stream, and its TTL events and spikes in
//! sample order, handed out block by block.

use std::path::Path;

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
}
