//! `structure.oebin`: the JSON that describes a recording. Kept whole as JSON (so
//! everything it says is carried into an output recording), with typed views of the parts
//! pyproc reads.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{io, OebinError, Result};
use crate::validate::validate;

pub const FILE_NAME: &str = "structure.oebin";

#[derive(Debug, Clone)]
pub struct Structure {
    pub path: PathBuf,
    pub json: Value,
    pub continuous: Vec<ContinuousInfo>,
    pub events: Vec<EventInfo>,
    pub spikes: Vec<SpikeInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ContinuousInfo {
    pub folder_name: String,
    pub sample_rate: f64,
    #[serde(default)]
    pub source_processor_name: String,
    #[serde(default)]
    pub source_processor_id: i64,
    pub stream_name: String,
    pub num_channels: usize,
    pub channels: Vec<ChannelInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChannelInfo {
    pub channel_name: String,
    pub bit_volts: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventInfo {
    pub folder_name: String,
    #[serde(default)]
    pub channel_name: String,
    #[serde(default)]
    pub stream_name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub source_processor: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SpikeInfo {
    pub name: String,
    #[serde(default)]
    pub source_processor_id: i64,
    #[serde(default)]
    pub stream_name: String,
    pub num_channels: usize,
    pub folder: String,
    pub source_channels: Vec<ChannelInfo>,
}

impl Structure {
    pub fn read(recording_dir: &Path) -> Result<Structure> {
        let path = recording_dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
        let json: Value = serde_json::from_str(&text).map_err(|cause| OebinError::BadJson { path: path.clone(), cause })?;
        Structure::from_json(path, json)
    }

    /// The structure described by `json` (read from `path`), validated before anything
    /// else is read: folder names, stream names, sample rates, `bit_volts` and channel
    /// counts.
    pub fn from_json(path: PathBuf, json: Value) -> Result<Structure> {
        let section = |key: &str| json.get(key).cloned().unwrap_or(Value::Array(Vec::new()));
        let continuous = typed(&path, "continuous", section("continuous"))?;
        let events = typed(&path, "events", section("events"))?;
        let spikes = typed(&path, "spikes", section("spikes"))?;
        let structure = Structure { path, json, continuous, events, spikes };
        validate(&structure)?;
        Ok(structure)
    }

    /// The stream called `name`, or the only one when `name` is None.
    pub fn stream_index(&self, name: Option<&str>) -> Result<usize> {
        let names: Vec<String> = self.continuous.iter().map(|c| c.stream_name.clone()).collect();
        match name {
            Some(name) => names.iter().position(|n| n == name).ok_or(OebinError::NoSuchStream { name: name.to_owned(), available: names }),
            None if names.len() == 1 => Ok(0),
            None if names.is_empty() => Err(OebinError::BadStructure { path: self.path.clone(), problem: "no continuous streams".into() }),
            None => Err(OebinError::AmbiguousStream { available: names }),
        }
    }
}

/// A section of the JSON as its typed view; a value of the wrong type is named by where it
/// sits (`continuous[0].sample_rate: invalid type: string "fast", expected f64`).
fn typed<T: serde::de::DeserializeOwned>(path: &Path, key: &str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let field = if at == "." { key.to_owned() } else if at.starts_with('[') { format!("{key}{at}") } else { format!("{key}.{at}") };
        OebinError::BadStructure { path: path.to_path_buf(), problem: format!("{field}: {}", e.into_inner()) }
    })
}
