//! The recording a run writes: the input copied, the processed stream's samples replaced,
//! the script's TTL events as a new event channel and its spikes as new spike channels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array3, ArrayView2};
use pyproc_host::{Emitted, TtlEvent, SPIKE_PRE_SAMPLES, SPIKE_SAMPLES};
use pyproc_oebin::{processor_id, to_int16, ContinuousWriter, RecordingWriter, SpikesOut, TtlOut};
use serde_json::{json, Value};

use crate::input::Input;
use crate::spike_cut::{CutSpike, SpikeCutter};

/// Name of the event channel that holds what the script emitted.
pub const EVENT_CHANNEL_NAME: &str = "Python Processor Output";

pub struct OutputRecording {
    writer: RecordingWriter,
    continuous: ContinuousWriter,
    cutter: SpikeCutter,
    events: Vec<TtlEvent>,
    spikes: Vec<CutSpike>,
    structure: Value,
    stream: usize,
    node: String,
    script_name: String,
    time: TimeBase,
    sample_rate: f64,
    bit_volts: Vec<f64>,
}

/// Timestamps of sample numbers, from the stream's first sample and timestamp.
#[derive(Debug, Clone, Copy)]
struct TimeBase {
    first_sample: i64,
    first_timestamp: f64,
    sample_rate: f64,
}

impl TimeBase {
    fn at(self, sample_number: i64) -> f64 {
        self.first_timestamp + (sample_number - self.first_sample) as f64 / self.sample_rate
    }
}

/// What finishing the output produced.
pub struct Written {
    pub recording_dir: PathBuf,
    pub samples: u64,
    pub clipped: u64,
    pub events: usize,
    pub spikes: usize,
}

impl OutputRecording {
    pub fn create(destination: &Path, input: &Input, script: &Path) -> anyhow::Result<OutputRecording> {
        let mut writer = RecordingWriter::for_input(destination, &input.recording)?;
        for dir in writer.removed_leftovers() {
            eprintln!("pyproc: removed {}, left by a run into {} that did not finish", dir.display(), destination.display());
        }
        let info = input.info();
        let folder = info.folder_name.trim_end_matches('/');
        let dat = Path::new("continuous").join(folder).join("continuous.dat");
        writer.copy_recording(&input.recording.dir, &[dat])?;
        let bit_volts: Vec<f64> = info.channels.iter().map(|c| c.bit_volts).collect();
        let continuous = writer.continuous(folder, &bit_volts)?;
        let id = unused_processor_id(&input.recording.structure.json);
        let sample_numbers = input.continuous.sample_numbers()?;
        let timestamps = input.continuous.timestamps()?;
        Ok(OutputRecording {
            continuous,
            cutter: SpikeCutter::new(info.num_channels),
            events: Vec::new(),
            spikes: Vec::new(),
            structure: input.recording.structure.json.clone(),
            stream: input.stream,
            node: format!("Python_Processor-{id}.{}", info.stream_name),
            script_name: script.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            time: TimeBase {
                first_sample: sample_numbers.first().copied().unwrap_or(0),
                first_timestamp: timestamps.first().copied().unwrap_or(0.0),
                sample_rate: info.sample_rate,
            },
            sample_rate: info.sample_rate,
            bit_volts,
            writer,
        })
    }

    /// The folder the script may write into during the run (it moves with the output).
    pub fn recording_dir(&self) -> &Path {
        self.writer.recording_dir()
    }

    pub fn push(&mut self, block: ArrayView2<'_, f32>, first_sample: i64, emitted: Option<Emitted<'_>>) -> anyhow::Result<()> {
        self.continuous.write_block(block)?;
        let spikes = emitted.map_or(&[][..], |e| e.spikes);
        self.spikes.extend(self.cutter.push(block, first_sample, spikes));
        if let Some(e) = emitted {
            self.events.extend_from_slice(e.events);
        }
        Ok(())
    }

    /// Writes everything else and moves the recording into place. `input` is needed when
    /// the run stopped early, to cut the sample index to what was written.
    pub fn finish(mut self, input: &Input) -> anyhow::Result<Written> {
        self.spikes.extend(std::mem::replace(&mut self.cutter, SpikeCutter::new(0)).finish());
        let (samples, clipped) = self.continuous.finish()?;
        if (samples as usize) < input.continuous.len() {
            let numbers = input.continuous.sample_numbers()?;
            let times = input.continuous.timestamps()?;
            self.writer.sample_index(&input.info().folder_name, samples as usize, |i| numbers[i], |i| times[i])?;
        }
        self.events.sort_by_key(|e| e.sample_number);
        let time = self.time;
        let ttl: Vec<TtlOut> = self
            .events
            .iter()
            .map(|e| TtlOut { sample_number: e.sample_number, timestamp: time.at(e.sample_number), line: e.line, state: e.state })
            .collect();
        let ttl_folder = format!("{}/TTL/", self.node);
        self.writer.ttl_channel(&ttl_folder, &ttl)?;
        let spike_entries = self.write_spikes()?;
        self.patch_structure(&ttl_folder, spike_entries);
        let (events, spikes) = (self.events.len(), self.spikes.len());
        let recording_dir = self.writer.finish(&self.structure)?;
        Ok(Written { recording_dir, samples, clipped, events, spikes })
    }

    /// One spike channel per source channel the script used.
    fn write_spikes(&mut self) -> anyhow::Result<Vec<Value>> {
        let mut by_channel: BTreeMap<u32, Vec<&CutSpike>> = BTreeMap::new();
        for s in &self.spikes {
            by_channel.entry(s.channel).or_default().push(s);
        }
        let info = self.structure["continuous"][self.stream].clone();
        let mut entries = Vec::new();
        for (channel, mut list) in by_channel {
            list.sort_by_key(|s| s.sample_number);
            let c = channel as usize;
            let folder = format!("{}/pyproc_CH{}/", self.node, c + 1);
            let out = SpikesOut {
                waveforms: Array3::from_shape_fn((list.len(), 1, SPIKE_SAMPLES), |(i, _, s)| to_int16(list[i].waveform[s] as f64 / self.bit_volts[c]).0),
                sample_numbers: list.iter().map(|s| s.sample_number).collect(),
                timestamps: list.iter().map(|s| self.time.at(s.sample_number)).collect(),
                electrode_indices: Array1::from_elem(list.len(), c as i16),
                clusters: list.iter().map(|s| s.sorted_id).collect(),
            };
            self.writer.spike_channel(&folder, &out)?;
            let source = info["channels"][c].clone();
            entries.push(json!({
                "name": format!("pyproc {}", source["channel_name"].as_str().unwrap_or("channel")),
                "description": format!("Spikes emitted by {}", self.script_name),
                "identifier": "pyproc.spikes",
                "source_processor_id": processor_id(&format!("{}/", self.node)),
                "stream_name": info["stream_name"], "sample_rate": self.sample_rate, "num_channels": 1,
                "pre_peak_samples": SPIKE_PRE_SAMPLES, "post_peak_samples": SPIKE_SAMPLES - SPIKE_PRE_SAMPLES,
                "folder": folder, "source_channels": [source],
            }));
        }
        Ok(entries)
    }

    fn patch_structure(&mut self, ttl_folder: &str, spike_entries: Vec<Value>) {
        let note = format!("pyproc ({})", self.script_name);
        let stream_name = self.structure["continuous"][self.stream]["stream_name"].clone();
        if let Some(channels) = self.structure["continuous"][self.stream]["channels"].as_array_mut() {
            for ch in channels {
                let history = ch["history"].as_str().unwrap_or("").to_owned();
                ch["history"] = Value::String(if history.is_empty() { note.clone() } else { format!("{history} -> {note}") });
            }
        }
        let entry = json!({
            "folder_name": ttl_folder, "channel_name": EVENT_CHANNEL_NAME,
            "description": format!("TTL events emitted by {}", self.script_name), "identifier": "pyproc.ttl",
            "sample_rate": self.sample_rate, "type": "int16", "source_processor": "Python Processor",
            "stream_name": stream_name, "initial_state": 0,
        });
        push_to(&mut self.structure, "events", entry);
        for e in spike_entries {
            push_to(&mut self.structure, "spikes", e);
        }
    }
}

fn push_to(structure: &mut Value, key: &str, entry: Value) {
    if !structure[key].is_array() {
        structure[key] = Value::Array(Vec::new());
    }
    structure[key].as_array_mut().expect("just made an array").push(entry);
}

/// A processor id nobody in the recording uses (one above the largest).
fn unused_processor_id(structure: &Value) -> i64 {
    let mut ids = Vec::new();
    for c in structure["continuous"].as_array().into_iter().flatten() {
        ids.extend(["source_processor_id", "recorded_processor_id"].iter().filter_map(|k| c[*k].as_i64()));
        ids.push(processor_id(c["folder_name"].as_str().unwrap_or("")));
    }
    for e in structure["events"].as_array().into_iter().flatten() {
        ids.push(processor_id(e["folder_name"].as_str().unwrap_or("")));
    }
    for s in structure["spikes"].as_array().into_iter().flatten() {
        ids.extend(s["source_processor_id"].as_i64());
    }
    ids.into_iter().max().unwrap_or(99) + 1
}

