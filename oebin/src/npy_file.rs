//! `.npy` files: mapped for reading (never read whole into memory), written whole for the
//! small arrays (events, spike metadata).

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use ndarray::{ArrayView, Dimension};
use ndarray_npy::{ViewElement, ViewNpyExt, WritableElement, WriteNpyExt};

use crate::error::{io, OebinError, Result};

/// A memory-mapped `.npy` file.
pub struct NpyMap {
    path: PathBuf,
    map: Mmap,
}

impl NpyMap {
    pub fn open(path: &Path) -> Result<NpyMap> {
        let file = File::open(path).map_err(io("open", path))?;
        // SAFETY: the file is only read; pyproc never maps a file it is writing.
        let map = unsafe { Mmap::map(&file) }.map_err(io("map", path))?;
        Ok(NpyMap { path: path.to_path_buf(), map })
    }

    /// The array, with its element type and dimensionality checked.
    pub fn view<'a, T: ViewElement, D: Dimension>(&'a self) -> Result<ArrayView<'a, T, D>> {
        ArrayView::<T, D>::view_npy(&self.map)
            .map_err(|e| OebinError::BadNpy { path: self.path.clone(), problem: e.to_string() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

pub fn write<T: WritableElement, D: Dimension>(path: &Path, array: ArrayView<'_, T, D>) -> Result<()> {
    let file = std::io::BufWriter::new(File::create(path).map_err(io("create", path))?);
    array.write_npy(file).map_err(|e| OebinError::BadNpy { path: path.to_path_buf(), problem: e.to_string() })
}
