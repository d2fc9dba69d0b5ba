//! Baselines for pyproc's benchmarks, measured in the same run as pyproc itself.
//!
//! [`native`]: the approach of the original Open Ephys Python Processor — CPython embedded
//! in the host process (here through pyo3; the plugin uses pybind11), numpy and scipy from
//! a virtual environment, one `PyProcessor.process(data)` call per block on a fresh numpy
//! array, with the block copied in and out.
//!
//! The bench's own setup makes the environment: on first use `native::ensure_venv` runs
//! `python3 -m venv target/native-baseline-venv` and `pip install numpy scipy` there.

pub mod native;

use std::time::{Duration, Instant};

/// Times `iters` calls of `step` for criterion's `iter_custom`, and keeps the mean per call
/// in `mean` for the ratio table each bench prints.
pub fn timed(iters: u64, mean: &mut Duration, mut step: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        step();
    }
    let elapsed = start.elapsed();
    *mean = elapsed / iters.max(1) as u32;
    elapsed
}

/// Microseconds, for the tables.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
