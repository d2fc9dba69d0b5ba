//! A continuous stream: `continuous.dat` (int16, interleaved by sample) mapped, plus its
//! `sample_numbers.npy` and `timestamps.npy`.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use ndarray::{ArrayView1, ArrayViewMut2, Ix1};

use crate::error::{io, OebinError, Result};
use crate::npy_file::NpyMap;
use crate::structure::ContinuousInfo;

pub struct Continuous {
    pub info: ContinuousInfo,
    dir: PathBuf,
    data: Mmap,
    samples: usize,
    sample_numbers: NpyMap,
    timestamps: NpyMap,
    bit_volts: Vec<f32>,
}

impl Continuous {
    pub fn open(recording_dir: &Path, info: &ContinuousInfo) -> Result<Continuous> {
        let dir = recording_dir.join("continuous").join(info.folder_name.trim_end_matches('/'));
        let dat = dir.join("continuous.dat");
        let file = File::open(&dat).map_err(io("open", &dat))?;
        let bytes = file.metadata().map_err(io("read the size of", &dat))?.len();
        let frame = info.num_channels as u64 * 2;
        if info.num_channels == 0 || bytes % frame != 0 {
            return Err(OebinError::TruncatedData { path: dat, bytes, channels: info.num_channels });
        }
        // SAFETY: the file is only read; pyproc never writes a recording it is reading.
        let data = unsafe { Mmap::map(&file) }.map_err(io("map", &dat))?;
        let samples = (bytes / frame) as usize;
        let sample_numbers = NpyMap::open(&dir.join("sample_numbers.npy"))?;
        let timestamps = NpyMap::open(&dir.join("timestamps.npy"))?;
        let this = Continuous {
            info: info.clone(),
            bit_volts: info.channels.iter().map(|c| c.bit_volts as f32).collect(),
            dir,
            data,
            samples,
            sample_numbers,
            timestamps,
        };
        for (map, len) in [(&this.sample_numbers, this.sample_numbers()?.len()), (&this.timestamps, this.timestamps()?.len())] {
            if len != samples {
                return Err(OebinError::LengthMismatch { path: map.path().to_path_buf(), got: len, other: dat, expected: samples });
            }
        }
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

    pub fn sample_numbers(&self) -> Result<ArrayView1<'_, i64>> {
        self.sample_numbers.view::<i64, Ix1>()
    }

    pub fn timestamps(&self) -> Result<ArrayView1<'_, f64>> {
        self.timestamps.view::<f64, Ix1>()
    }

    /// Reads samples `[start, start + out.ncols())` into `out` (channels x samples), scaled
    /// to physical units (int16 x bit_volts).
    pub fn read_block(&self, start: usize, out: &mut ArrayViewMut2<'_, f32>) {
        let channels = self.info.num_channels;
        let n = out.ncols();
        assert!(start + n <= self.samples && out.nrows() == channels, "block inside the recording");
        let bytes = &self.data[start * channels * 2..(start + n) * channels * 2];
        for (s, frame) in bytes.chunks_exact(channels * 2).enumerate() {
            for (c, v) in frame.chunks_exact(2).enumerate() {
                out[[c, s]] = i16::from_le_bytes([v[0], v[1]]) as f32 * self.bit_volts[c];
            }
        }
    }
}
