//! The synthetic stream written as an Open Ephys Binary recording, so that `pyproc run`
//! has one pipeline (recording in, recording out) and `--save-input` gives the same data
//! to any other tool.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use ndarray::{Array1, Array3};
use pyproc_oebin::{to_int16, RecordingWriter, SpikesOut, TtlOut};
use serde_json::{json, Value};

use crate::synthetic::{Settings, SyntheticStream, ELECTRODE_CHANNELS, POST_PEAK, PRE_PEAK};

/// µV per int16 step, as an Intan headstage.
const BIT_VOLTS: f64 = 0.195;
const SOURCE_ID: i64 = 100;
const STREAM: &str = "synthetic";
const SOURCE_NAME: &str = "pyproc synthetic";

fn node() -> String {
    format!("Synthetic_Source-{SOURCE_ID}.{STREAM}")
}

/// Writes the stream for `settings` as a recording under `destination`
/// (`destination/experiment1/recording1`), counting the samples written on `bar`; returns
/// the recording folder.
pub fn write(settings: Settings, destination: &Path, bar: &ProgressBar) -> anyhow::Result<PathBuf> {
    let writer = RecordingWriter::create(destination, Path::new("experiment1/recording1"))?;
    let folder = format!("{}/", node());
    let mut continuous = writer.continuous(&folder, &vec![BIT_VOLTS; settings.channels])?;
    let mut ttl = Vec::new();
    let mut spikes: Vec<Vec<crate::synthetic::Spike>> = vec![Vec::new(); settings.channels / ELECTRODE_CHANNELS];
    let stream = SyntheticStream::new(settings);
    let total = stream.total_samples();
    let mut written = 0i64;
    for block in stream {
        anyhow::ensure!(block.first_sample == written, "synthetic blocks are contiguous");
        written += block.data.ncols() as i64;
        continuous.write_block(block.data.view())?;
        bar.inc(block.data.ncols() as u64);
        for edge in block.ttl {
            ttl.push(TtlOut { sample_number: edge.sample_number, timestamp: seconds(edge.sample_number, &settings), line: edge.line, state: edge.state });
        }
        for spike in block.spikes {
            spikes[spike.electrode].push(spike);
        }
    }
    continuous.finish()?;
    writer.sample_index(&folder, total, |i| i as i64, |i| seconds(i as i64, &settings))?;
    writer.ttl_channel(&format!("{}/TTL/", node()), &ttl)?;
    let mut spike_entries = Vec::new();
    for (electrode, list) in spikes.iter().enumerate() {
        let name = format!("Tetrode {}", electrode + 1);
        let folder = format!("{}/Tetrode_{}/", node(), electrode + 1);
        let waveforms = Array3::from_shape_fn((list.len(), ELECTRODE_CHANNELS, PRE_PEAK + POST_PEAK), |(i, c, s)| {
            to_int16(list[i].waveform[[c, s]] as f64 / BIT_VOLTS).0
        });
        let out = SpikesOut {
            waveforms,
            sample_numbers: list.iter().map(|s| s.sample_number).collect(),
            timestamps: list.iter().map(|s| seconds(s.sample_number, &settings)).collect(),
            electrode_indices: Array1::from_elem(list.len(), electrode as i16),
            clusters: list.iter().map(|s| s.unit as u16).collect(),
        };
        writer.spike_channel(&folder, &out)?;
        let channels: Vec<Value> = (0..ELECTRODE_CHANNELS).map(|c| channel_json(electrode * ELECTRODE_CHANNELS + c, &settings)).collect();
        spike_entries.push(json!({
            "name": name, "description": "Synthetic tetrode spikes", "identifier": "pyproc.synthetic.spikes",
            "source_processor_id": SOURCE_ID, "stream_name": STREAM, "sample_rate": settings.sample_rate,
            "num_channels": ELECTRODE_CHANNELS, "pre_peak_samples": PRE_PEAK, "post_peak_samples": POST_PEAK,
            "folder": folder, "source_channels": channels,
        }));
    }
    let structure = json!({
        "GUI version": "1.0.1",
        "continuous": [{
            "folder_name": format!("{}/", node()), "sample_rate": settings.sample_rate,
            "source_processor_name": SOURCE_NAME, "source_processor_id": SOURCE_ID, "stream_name": STREAM,
            "recorded_processor": "Record Node", "recorded_processor_id": 101, "num_channels": settings.channels,
            "channels": (0..settings.channels).map(|c| channel_json(c, &settings)).collect::<Vec<_>>(),
        }],
        "events": [{
            "folder_name": format!("{}/TTL/", node()), "channel_name": "Synthetic TTL",
            "description": "TTL pulses of the synthetic stream, line 0", "identifier": "pyproc.synthetic.ttl",
            "sample_rate": settings.sample_rate, "type": "int16", "source_processor": SOURCE_NAME,
            "stream_name": STREAM, "initial_state": 0,
        }],
        "spikes": spike_entries,
    });
    Ok(writer.finish(&structure)?)
}

fn channel_json(c: usize, settings: &Settings) -> Value {
    json!({
        "channel_name": format!("CH{}", c + 1), "description": "Synthetic headstage channel",
        "identifier": "pyproc.synthetic.continuous", "history": format!("pyproc synthetic (seed {})", settings.seed),
        "bit_volts": BIT_VOLTS, "units": "uV",
    })
}

fn seconds(sample_number: i64, settings: &Settings) -> f64 {
    sample_number as f64 / settings.sample_rate
}
