//! TTL events: `events/<processor>-<id>.<stream>/TTL*/` with `states.npy` (±(line+1)),
//! `sample_numbers.npy`, `timestamps.npy` and `full_words.npy`.

use ndarray::Ix1;

use crate::containment::Root;
use crate::error::{OebinError, Result};
use crate::npy_file::NpyMap;
use crate::structure::Structure;

/// One TTL edge read from a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct TtlRecord {
    pub sample_number: i64,
    pub line: u8,
    pub state: bool,
    /// The event channel's name.
    pub channel: String,
    /// Id of the processor that produced it (from the folder name), 0 if unknown.
    pub source_processor_id: i64,
}

/// Every TTL edge of `stream_name`, ordered by sample number.
pub(crate) fn read_ttl(root: &Root, structure: &Structure, stream_name: &str) -> Result<Vec<TtlRecord>> {
    let mut all = Vec::new();
    for (i, info) in structure.events.iter().enumerate().filter(|(_, e)| e.stream_name == stream_name && is_ttl(&e.folder_name)) {
        let folder = root.metadata_folder(&structure.path, format!("events[{i}].folder_name"), "events", &info.folder_name)?;
        let states_map = NpyMap::open(&folder, "states.npy")?;
        let samples_map = NpyMap::open(&folder, "sample_numbers.npy")?;
        let states = states_map.view::<i16, Ix1>()?;
        let samples = samples_map.view::<i64, Ix1>()?;
        if states.len() != samples.len() {
            return Err(OebinError::LengthMismatch {
                path: samples_map.path().to_path_buf(),
                got: samples.len(),
                other: states_map.path().to_path_buf(),
                expected: states.len(),
            });
        }
        let source = processor_id(&info.folder_name);
        for (&state, &sample_number) in states.iter().zip(samples.iter()) {
            if state == 0 || state.unsigned_abs() > 256 {
                return Err(OebinError::BadNpy {
                    path: states_map.path().to_path_buf(),
                    problem: format!("state {state} is not ±(line + 1) for a line 0-255"),
                });
            }
            all.push(TtlRecord {
                sample_number,
                line: (state.unsigned_abs() - 1) as u8,
                state: state > 0,
                channel: info.channel_name.clone(),
                source_processor_id: source,
            });
        }
    }
    all.sort_by_key(|e| e.sample_number);
    Ok(all)
}

fn is_ttl(folder_name: &str) -> bool {
    folder_name.trim_end_matches('/').rsplit('/').next().is_some_and(|last| last.starts_with("TTL"))
}

/// `Acquisition_Board-100.Rhythm Data/TTL/` -> 100.
pub fn processor_id(folder_name: &str) -> i64 {
    let node = folder_name.split('/').next().unwrap_or("");
    let before_stream = node.split('.').next().unwrap_or("");
    before_stream.rsplit('-').next().and_then(|id| id.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn processor_ids_come_from_the_folder_name() {
        assert_eq!(super::processor_id("Acquisition_Board-100.Rhythm Data/TTL/"), 100);
        assert_eq!(super::processor_id("File_Reader-104.example_data/TTL/"), 104);
        assert_eq!(super::processor_id("weird/TTL"), 0);
        assert!(super::is_ttl("File_Reader-104.example_data/TTL/"));
        assert!(!super::is_ttl("File_Reader-104.example_data/TEXT/"));
    }
}
