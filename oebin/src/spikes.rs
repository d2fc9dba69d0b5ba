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
    /// Where spike 0's waveform starts in the file, and how many values each one has, when
    /// the waveforms lie one after the other (as the GUI writes them): then a waveform is
    /// read without parsing the file's header again.
    in_order: Option<(usize, (usize, usize))>,
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
        if let Some((start, (channels, samples))) = self.in_order {
            let values = channels * samples;
            let bytes = &self.waveforms.bytes()[start + i * values * 2..][..values * 2];
            // Native byte order, as the checked view of the same file reads it.
            let scaled = bytes.chunks_exact(2).map(|v| i16::from_ne_bytes([v[0], v[1]]) as f32 * self.bit_volts).collect();
            return Ok(Array2::from_shape_vec((channels, samples), scaled).expect("channels x samples values"));
        }
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
        let view = waveforms.view::<i16, Ix3>()?;
        let count = view.len_of(ndarray::Axis(0));
        let (_, channels_per_spike, samples) = view.dim();
        let in_order = view.is_standard_layout().then(|| (view.as_ptr() as usize - waveforms.bytes().as_ptr() as usize, (channels_per_spike, samples)));
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
        channels.push(SpikeChannel { info: info.clone(), waveforms, in_order, sample_numbers, clusters, bit_volts });
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
