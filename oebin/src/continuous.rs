//! A continuous stream: `continuous.dat` (int16, interleaved by sample), read block by
//! block, plus its `sample_numbers.npy` and `timestamps.npy`, mapped.
//!
//! `continuous.dat` is read with positioned reads into one reused buffer rather than
//! through a memory map: the kernel copies whole runs of pages at once instead of faulting
//! them in one by one (a pass-through run over a large recording measured about a sixth
//! faster), and a file cut short while it is read gives an error, not a crash.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ndarray::{ArrayView1, ArrayViewMut2, Ix1};

use crate::error::{io, OebinError, Result};
use crate::containment::Root;
use crate::frames::frames_to_block;
use crate::npy_file::NpyMap;
use crate::structure::{ContinuousInfo, Structure};

pub struct Continuous {
    pub info: ContinuousInfo,
    dir: PathBuf,
    data: File,
    data_path: PathBuf,
    /// The last block's bytes, kept for the next (a run reads from one thread at a time).
    frames: Mutex<Vec<u8>>,
    samples: usize,
    sample_numbers: NpyMap,
    timestamps: NpyMap,
    bit_volts: Vec<f32>,
    jumps: Option<SampleJumps>,
}

impl Continuous {
    /// Opens continuous stream `stream` of `structure`, whose folder and files must lie
    /// inside `root`.
    pub(crate) fn open(root: &Root, structure: &Structure, stream: usize) -> Result<Continuous> {
        let info = &structure.continuous[stream];
        let folder = root.metadata_folder(&structure.path, format!("continuous[{stream}].folder_name"), "continuous", &info.folder_name)?;
        let (file, dat) = folder.open("continuous.dat")?;
        let bytes = file.metadata().map_err(io("read the size of", &dat))?.len();
        let frame = info.num_channels as u64 * 2;
        if bytes % frame != 0 {
            return Err(OebinError::TruncatedData { path: dat, bytes, channels: info.num_channels });
        }
        let samples = (bytes / frame) as usize;
        let sample_numbers = NpyMap::open(&folder, "sample_numbers.npy")?;
        let timestamps = NpyMap::open(&folder, "timestamps.npy")?;
        let mut this = Continuous {
            info: info.clone(),
            bit_volts: info.channels.iter().map(|c| c.bit_volts as f32).collect(),
            dir: folder.dir().to_path_buf(),
            data: file,
            data_path: dat.clone(),
            frames: Mutex::new(Vec::new()),
            samples,
            sample_numbers,
            timestamps,
            jumps: None,
        };
        for (map, len) in [(&this.sample_numbers, this.sample_numbers()?.len()), (&this.timestamps, this.timestamps()?.len())] {
            if len != samples {
                return Err(OebinError::SampleCountMismatch { path: map.path().to_path_buf(), got: len, dat, expected: samples, channels: info.num_channels });
            }
        }
        this.jumps = SampleJumps::find(this.sample_numbers.path(), this.sample_numbers()?);
        Ok(this)
    }

    /// Samples per channel.
    pub fn len(&self) -> usize {
        self.samples
    }

    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the sample numbers do not go up by one, if anywhere.
    pub fn sample_jumps(&self) -> Option<&SampleJumps> {
        self.jumps.as_ref()
    }

    pub fn sample_numbers(&self) -> Result<ArrayView1<'_, i64>> {
        self.sample_numbers.view::<i64, Ix1>()
    }

    pub fn timestamps(&self) -> Result<ArrayView1<'_, f64>> {
        self.timestamps.view::<f64, Ix1>()
    }

    /// Reads samples `[start, start + out.ncols())` into `out` (channels x samples), scaled
    /// to physical units (int16 x bit_volts).
    pub fn read_block(&self, start: usize, out: &mut ArrayViewMut2<'_, f32>) -> Result<()> {
        let channels = self.info.num_channels;
        let n = out.ncols();
        assert!(start + n <= self.samples && out.nrows() == channels, "block inside the recording");
        let mut frames = self.frames.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        frames.resize(n * channels * 2, 0);
        self.data.read_exact_at(&mut frames, (start * channels * 2) as u64).map_err(io("read", &self.data_path))?;
        frames_to_block(&frames, &self.bit_volts, out);
        Ok(())
    }
}

/// Where a stream's sample numbers do not go up by one from a sample to the next. The
/// Record Node writes such jumps itself (samples dropped by the source; a source that
/// restarted its count just after recording began), so they are reported, not refused.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleJumps {
    /// The `sample_numbers.npy` they are in.
    pub path: PathBuf,
    /// How many there are.
    pub count: usize,
    /// The first few, as (index of the sample after the jump, sample number before it,
    /// sample number at it).
    pub first: Vec<(usize, i64, i64)>,
}

impl SampleJumps {
    const SHOWN: usize = 3;

    fn find(path: &Path, numbers: ArrayView1<'_, i64>) -> Option<SampleJumps> {
        let mut jumps = SampleJumps { path: path.to_path_buf(), count: 0, first: Vec::new() };
        for (i, pair) in numbers.windows(2).into_iter().enumerate() {
            let (before, at) = (pair[0], pair[1]);
            if before.checked_add(1) != Some(at) {
                jumps.count += 1;
                if jumps.first.len() < Self::SHOWN {
                    jumps.first.push((i + 1, before, at));
                }
            }
        }
        (jumps.count > 0).then_some(jumps)
    }
}

impl std::fmt::Display for SampleJumps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let places = if self.count == 1 { "1 place".to_owned() } else { format!("{} places", self.count) };
        write!(f, "{}: sample numbers jump at {places}: ", self.path.display())?;
        let shown: Vec<String> = self.first.iter().map(|(i, before, at)| format!("from {before} to {at} at index {i}")).collect();
        write!(f, "{}", shown.join(", "))?;
        if self.count > self.first.len() {
            write!(f, ", and {} more", self.count - self.first.len())?;
        }
        write!(f, "; the script gets the sample numbers as recorded")
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::SampleJumps;

    #[test]
    fn sample_numbers_going_up_by_one_have_no_jumps() {
        assert_eq!(SampleJumps::find("s.npy".as_ref(), array![5i64, 6, 7, 8].view()), None);
    }

    #[test]
    fn gaps_and_steps_back_are_jumps_named_by_index() {
        let jumps = SampleJumps::find("s.npy".as_ref(), array![7i64, 8, 0, 1, 10, 11, 12, 12, 20].view()).unwrap();
        assert_eq!(jumps.count, 4);
        assert_eq!(jumps.first, [(2, 8, 0), (4, 1, 10), (7, 12, 12)]);
        assert_eq!(jumps.to_string(), "s.npy: sample numbers jump at 4 places: from 8 to 0 at index 2, from 1 to 10 at index 4, from 12 to 12 at index 7, and 1 more; the script gets the sample numbers as recorded");
    }
}
