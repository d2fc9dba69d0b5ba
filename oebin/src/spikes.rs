//! Spike channels: `spikes/<folder>/` with `waveforms.npy` (int16, spikes x channels x
//! samples), `sample_numbers.npy`, `timestamps.npy`, `electrode_indices.npy`, `clusters.npy`.

use ndarray::{Array2, ArrayView3, Ix1, Ix3};

use crate::containment::Root;
use crate::error::{OebinError, Result};
use crate::npy_file::NpyMap;
use crate::structure::{SpikeInfo, Structure};

pub struct SpikeChannel {
    pub info: SpikeInfo,
    waveforms: NpyMap,
    sample_numbers: Vec<i64>,
    clusters: Vec<i64>,
    bit_volts: f32,
}

impl SpikeChannel {
    pub fn len(&self) -> usize {
        self.sample_numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sample_numbers.is_empty()
    }

    pub fn sample_number(&self, i: usize) -> i64 {
        self.sample_numbers[i]
    }

    pub fn cluster(&self, i: usize) -> i64 {
        self.clusters[i]
    }

    fn waveforms(&self) -> Result<ArrayView3<'_, i16>> {
        self.waveforms.view::<i16, Ix3>()
    }

    /// Spike `i`'s waveform (channels x samples) in physical units.
    pub fn waveform(&self, i: usize) -> Result<Array2<f32>> {
        Ok(self.waveforms()?.index_axis(ndarray::Axis(0), i).mapv(|v| v as f32 * self.bit_volts))
    }
}

/// The spike channels recorded from `stream_name`.
pub(crate) fn read_spikes(root: &Root, structure: &Structure, stream_name: &str) -> Result<Vec<SpikeChannel>> {
    let mut channels = Vec::new();
    for (i, info) in structure.spikes.iter().enumerate().filter(|(_, s)| s.stream_name == stream_name) {
        let folder = root.metadata_folder(&structure.path, format!("spikes[{i}].folder"), "spikes", &info.folder)?;
        let waveforms = NpyMap::open(&folder, "waveforms.npy")?;
        let samples_map = NpyMap::open(&folder, "sample_numbers.npy")?;
        let sample_numbers = samples_map.view::<i64, Ix1>()?.to_vec();
        let clusters = read_integers(&NpyMap::open(&folder, "clusters.npy")?)?;
        let count = waveforms.view::<i16, Ix3>()?.len_of(ndarray::Axis(0));
        for (map_path, got) in [(waveforms.path(), count), (&*folder.dir().join("clusters.npy"), clusters.len())] {
            if got != sample_numbers.len() {
                return Err(OebinError::LengthMismatch {
                    path: map_path.to_path_buf(),
                    got,
                    other: samples_map.path().to_path_buf(),
                    expected: sample_numbers.len(),
                });
            }
        }
        let bit_volts = info.source_channels.last().map_or(1.0, |c| c.bit_volts) as f32;
        channels.push(SpikeChannel { info: info.clone(), waveforms, sample_numbers, clusters, bit_volts });
    }
    Ok(channels)
}

/// A 1-D integer array of any of the widths the GUI's versions have used.
fn read_integers(map: &NpyMap) -> Result<Vec<i64>> {
    if let Ok(v) = map.view::<u16, Ix1>() {
        return Ok(v.iter().map(|&x| x as i64).collect());
    }
    if let Ok(v) = map.view::<i16, Ix1>() {
        return Ok(v.iter().map(|&x| x as i64).collect());
    }
    if let Ok(v) = map.view::<i32, Ix1>() {
        return Ok(v.iter().map(|&x| x as i64).collect());
    }
    if let Ok(v) = map.view::<u32, Ix1>() {
        return Ok(v.iter().map(|&x| x as i64).collect());
    }
    map.view::<i64, Ix1>().map(|v| v.to_vec())
}
