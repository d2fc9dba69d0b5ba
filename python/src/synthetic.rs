//! The CLI's synthetic stream (`pyproc_cli::synthetic`) for `pyproc.testing`: the same
//! samples, TTL pulses and spikes `pyproc run` generates for the same settings and seed.

use std::path::PathBuf;
use std::sync::Mutex;

use numpy::{IntoPyArray, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyproc_cli::synthetic::{self, Settings};

use crate::errors;

/// A block: (first sample number, data (channels, samples) float32, TTL edges as
/// (sample_number, line, state), spikes as (sample_number, electrode, unit, waveform)).
type BlockTuple<'py> = (i64, Bound<'py, PyArray2<f32>>, Vec<(i64, u8, bool)>, Vec<(i64, usize, i64, Bound<'py, PyArray2<f32>>)>);

#[pyclass(module = "pyproc._native")]
pub struct SyntheticStream {
    stream: Mutex<synthetic::SyntheticStream>,
    total: usize,
}

fn settings(channels: usize, sample_rate: f64, seconds: f64, block_size: usize, seed: u64) -> PyResult<Settings> {
    if channels == 0 || block_size == 0 || !(sample_rate.is_finite() && sample_rate > 0.0) || !(seconds.is_finite() && seconds > 0.0) {
        return Err(PyValueError::new_err("the synthetic stream needs channels, block_size, seconds and a sample rate above 0"));
    }
    Ok(Settings { channels, sample_rate, seconds, block_size, seed })
}

#[pymethods]
impl SyntheticStream {
    #[new]
    fn new(channels: usize, sample_rate: f64, seconds: f64, block_size: usize, seed: u64) -> PyResult<Self> {
        let stream = synthetic::SyntheticStream::new(settings(channels, sample_rate, seconds, block_size, seed)?);
        Ok(SyntheticStream { total: stream.total_samples(), stream: Mutex::new(stream) })
    }

    #[getter]
    fn total_samples(&self) -> usize {
        self.total
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> Option<BlockTuple<'py>> {
        let block = py.detach(|| self.stream.lock().unwrap_or_else(|p| p.into_inner()).next())?;
        let ttl = block.ttl.iter().map(|e| (e.sample_number, e.line, e.state)).collect();
        let spikes = block.spikes.into_iter().map(|s| (s.sample_number, s.electrode, s.unit, s.waveform.into_pyarray(py))).collect();
        Some((block.first_sample, block.data.into_pyarray(py), ttl, spikes))
    }
}

/// Writes the synthetic stream as an Open Ephys Binary recording under `folder`, as
/// `pyproc run --save-input` does; returns the recording folder.
#[pyfunction]
pub fn write_synthetic_recording(py: Python<'_>, folder: PathBuf, channels: usize, sample_rate: f64, seconds: f64, block_size: usize, seed: u64) -> PyResult<PathBuf> {
    let settings = settings(channels, sample_rate, seconds, block_size, seed)?;
    py.detach(|| pyproc_cli::synthetic_input(settings, Some(&folder), false)).map(|(dir, _)| dir).map_err(|e| errors::run_error(py, e))
}
