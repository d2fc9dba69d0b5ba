//! `pyproc._native`: the Rust half of the Python package `pyproc` (pip: `pyproc-oe`).
//!
//! Each function here is a thin binding; the Python half (`python/pyproc/`) gives them their
//! documented shape. What is here and why:
//! - [`processor`]: `pyproc_host::Processor` over numpy blocks, the GIL released while the
//!   script runs, so processors on several Python threads run at once;
//! - [`run`]: `pyproc run`'s pipeline (`pyproc_cli::run`), with the report as JSON;
//! - [`synthetic`]: the CLI's synthetic stream and recording, for `pyproc.testing`;
//! - [`cli`]: the `pyproc` command itself (`pyproc_cli::main_from_args`);
//! - [`engine`]: the one interpreter engine of the process, prepared on first use;
//! - [`errors`]: host errors as Python exceptions (`pyproc.ScriptError`, `pyproc.PyprocError`).

mod cli;
mod engine;
mod errors;
mod processor;
mod run;
mod synthetic;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<processor::NativeProcessor>()?;
    m.add_class::<synthetic::SyntheticStream>()?;
    m.add_function(wrap_pyfunction!(synthetic::write_synthetic_recording, m)?)?;
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(cli::main, m)?)?;
    m.add_function(wrap_pyfunction!(engine::prepare, m)?)?;
    Ok(())
}
