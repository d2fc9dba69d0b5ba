//! What flows besides the continuous data: TTL events in ([`TtlEventIn`]) and out
//! ([`TtlEvent`]), spikes in ([`SpikeIn`]) and out ([`SpikeOut`]).

use ndarray::ArrayView2;

/// A TTL event emitted by the script with `processor.add_python_event(line, state)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlEvent {
    /// Where the event belongs: the block's first sample unless the script passed
    /// `sample_number=`.
    pub sample_number: i64,
    /// TTL line, 0–255.
    pub line: u8,
    pub state: bool,
}

/// A TTL event delivered to the script's `handle_ttl_event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtlEventIn<'a> {
    /// Id of the processor that generated the event.
    pub source_node: i64,
    /// Name of the event channel.
    pub channel: &'a str,
    pub sample_number: i64,
    pub line: u8,
    pub state: bool,
}

/// A spike delivered to the script's `handle_spike`.
#[derive(Debug, Clone)]
pub struct SpikeIn<'a> {
    pub source_node: i64,
    pub electrode_name: &'a str,
    pub sample_number: i64,
    pub sorted_id: i64,
    /// Waveform, channels x samples, in the stream's units (µV). Read-only for the script.
    pub waveform: ArrayView2<'a, f32>,
}

/// Samples in a spike waveform: [`SPIKE_PRE_SAMPLES`] before the peak, the rest from it on
/// (as the GUI's spike detector).
pub const SPIKE_SAMPLES: usize = 40;
pub const SPIKE_PRE_SAMPLES: usize = 8;

/// A spike emitted by the script with `processor.add_python_spike(...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeOut {
    pub sample_number: i64,
    /// Index of the channel in the stream.
    pub channel: u32,
    pub sorted_id: u16,
    /// The script's own waveform ([`SPIKE_SAMPLES`] values), or None: the caller cuts it
    /// from the processed data ([`SPIKE_PRE_SAMPLES`] before `sample_number`). Held in
    /// place, so emitting spikes allocates nothing.
    pub waveform: Option<[f32; SPIKE_SAMPLES]>,
}

/// What the script emitted since the previous block (borrowed from the processor until its
/// next call).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Emitted<'a> {
    pub events: &'a [TtlEvent],
    pub spikes: &'a [SpikeOut],
}
