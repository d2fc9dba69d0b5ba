//! The `pyproc` command the wheel installs: the CLI's own entry point, called with
//! `sys.argv`, so `pip install` gives the same command as `cargo install`.

use std::ffi::OsString;

use pyo3::prelude::*;

/// Runs the `pyproc` command with `args` (program name first) and returns its exit
/// status. The GIL is released for the whole command; the command handles Ctrl-C itself.
#[pyfunction]
pub fn main(py: Python<'_>, args: Vec<OsString>) -> u8 {
    py.detach(|| pyproc_cli::exit_status_from_args(args))
}
