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
