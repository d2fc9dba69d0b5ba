//! Recordings for tests that damage them: the `structure.oebin` of a small two-channel
//! stream `s` with a TTL channel and a spike channel, and that recording written whole.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Array3};
use pyproc_oebin::{RecordingWriter, SpikesOut, TtlOut};
use serde_json::{json, Value};

/// The stream's folder below `continuous/`; its TTL channel is `<it>TTL/` below `events/`
/// and its spike channel `<it>T1/` below `spikes/`.
pub const STREAM_FOLDER: &str = "S-100.s/";
pub const SAMPLES: usize = 300;
pub const FIRST_SAMPLE: i64 = 1000;

/// `structure.oebin` for the stream, declaring `declared` channels and listing `listed`.
pub fn structure_json(declared: usize, listed: usize) -> Value {
    let channel = |i: usize| json!({"channel_name": format!("CH{}", i + 1), "bit_volts": 0.195});
    json!({
        "GUI version": "1.0.1",
        "continuous": [{"folder_name": STREAM_FOLDER, "sample_rate": 30000.0, "stream_name": "s",
                        "num_channels": declared, "channels": (0..listed).map(channel).collect::<Vec<_>>()}],
        "events": [{"folder_name": format!("{STREAM_FOLDER}TTL/"), "channel_name": "TTL", "stream_name": "s"}],
        "spikes": [{"name": "T1", "folder": format!("{STREAM_FOLDER}T1/"), "stream_name": "s", "num_channels": 1,
                    "source_channels": [channel(0)]}],
    })
}

/// The complete recording (2 channels, [`SAMPLES`] samples from [`FIRST_SAMPLE`], 4 TTL
/// edges, 3 spikes) as `destination/experiment1/recording1`; returns that folder.
pub fn write_recording(destination: &Path) -> PathBuf {
    let writer = RecordingWriter::create(destination, Path::new("experiment1/recording1")).unwrap();
    let mut continuous = writer.continuous(STREAM_FOLDER, &[0.195; 2]).unwrap();
    continuous.write_block(Array2::from_shape_fn((2, SAMPLES), |(c, s)| (c * 100 + s) as f32 * 0.195).view()).unwrap();
    continuous.finish().unwrap();
    writer.sample_index(STREAM_FOLDER, SAMPLES, |i| FIRST_SAMPLE + i as i64, |i| i as f64 / 30_000.0).unwrap();
    let edge = |sample_number: i64, state| TtlOut { sample_number, timestamp: 0.0, line: 0, state };
    writer.ttl_channel(&format!("{STREAM_FOLDER}TTL/"), &[edge(1010, true), edge(1020, false), edge(1100, true), edge(1200, false)]).unwrap();
    let spikes = SpikesOut {
        waveforms: Array3::from_elem((3, 1, 40), -100),
        sample_numbers: Array1::from(vec![1050, 1150, 1250]),
        timestamps: Array1::zeros(3),
        electrode_indices: Array1::zeros(3),
        clusters: Array1::from(vec![1, 2, 1]),
    };
    writer.spike_channel(&format!("{STREAM_FOLDER}T1/"), &spikes).unwrap();
    writer.finish(&structure_json(2, 2)).unwrap()
}
