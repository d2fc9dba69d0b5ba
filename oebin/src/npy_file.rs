//! `.npy` files: mapped for reading (never read whole into memory), written whole for the
//! small arrays (events, spike metadata).

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapMut};
use ndarray::{ArrayView, ArrayViewMut1, Dimension, Ix1};
use ndarray_npy::{ViewElement, ViewMutElement, ViewMutNpyExt, ViewNpyExt, WritableElement, WriteNpyExt};

use crate::containment::DataFolder;
use crate::error::{io, OebinError, Result};

/// A memory-mapped `.npy` file.
pub struct NpyMap {
    path: PathBuf,
    map: Mmap,
}

impl NpyMap {
    /// Maps the file `name` of `folder`.
    pub fn open(folder: &DataFolder<'_>, name: &str) -> Result<NpyMap> {
        let (file, path) = folder.open(name)?;
        // SAFETY: the file is only read; pyproc never maps a file it is writing.
        let map = unsafe { Mmap::map(&file) }.map_err(io("map", &path))?;
        Ok(NpyMap { path, map })
    }

    /// The array, with its element type and dimensionality checked.
    pub fn view<'a, T: ViewElement, D: Dimension>(&'a self) -> Result<ArrayView<'a, T, D>> {
        ArrayView::<T, D>::view_npy(&self.map)
            .map_err(|e| OebinError::BadNpy { path: self.path.clone(), problem: e.to_string() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file, header included.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// Writes `array` into `file` (created for it at `path`).
pub fn write<T: WritableElement, D: Dimension>(file: File, path: &Path, array: ArrayView<'_, T, D>) -> Result<()> {
    let file = std::io::BufWriter::new(file);
    array.write_npy(file).map_err(|e| OebinError::BadNpy { path: path.to_path_buf(), problem: e.to_string() })
}

/// Writes a 1-D array of `len` values from `value(i)`, through a memory map, so arrays
/// longer than memory (hours of sample numbers) are fine.
/// `file` was created for it at `path`, open for reading and writing.
pub fn write_1d_with<T: WritableElement + ViewMutElement>(file: File, path: &Path, len: usize, mut value: impl FnMut(usize) -> T) -> Result<()> {
    let bad = |e: &dyn std::fmt::Display| OebinError::BadNpy { path: path.to_path_buf(), problem: e.to_string() };
    ndarray_npy::write_zeroed_npy::<T, Ix1>(&file, ndarray::Ix1(len)).map_err(|e| bad(&e))?;
    if len == 0 {
        return Ok(());
    }
    // SAFETY: the file was just created by us and nothing else maps it.
    let mut map = unsafe { MmapMut::map_mut(&file) }.map_err(io("map", path))?;
    let mut view = ArrayViewMut1::<T>::view_mut_npy(&mut map).map_err(|e| bad(&e))?;
    for (i, v) in view.iter_mut().enumerate() {
        *v = value(i);
    }
    map.flush().map_err(io("write", path))
}
