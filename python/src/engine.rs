//! The process's one [`Engine`], prepared on first use as the CLI prepares it: the
//! interpreter fetched, verified and compiled into `PYPROC_CACHE_DIR` (else
//! `~/.cache/pyproc`), each step printed on Python's `sys.stderr` (so a notebook shows it).

use std::sync::Mutex;

use pyo3::prelude::*;
use pyproc_host::{Engine, Progress};

use crate::errors;

static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

/// The engine, prepared (installed and compiled) if this is the first use in this process.
/// Waits without the GIL, so another thread's first use can print its progress.
pub fn engine(py: Python<'_>) -> PyResult<Engine> {
    py.detach(|| {
        let mut slot = ENGINE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = Engine::builder().progress(python_progress()).prepare()?;
        *slot = Some(engine.clone());
        Ok(engine)
    })
    .map_err(|e| errors::host_error(py, e))
}

/// `pyproc.prepare()`: installs and compiles the interpreter now (first use does it anyway).
#[pyfunction]
pub fn prepare(py: Python<'_>) -> PyResult<String> {
    Ok(engine(py)?.interpreter_dir().display().to_string())
}

/// Each set-up step as a line `pyproc: ...` on `sys.stderr`, as the CLI prints them.
fn python_progress() -> Progress {
    Progress::new(|event| {
        let line = format!("pyproc: {event}\n");
        Python::attach(|py| {
            if let Ok(stderr) = py.import("sys").and_then(|sys| sys.getattr("stderr")) {
                let _ = stderr.call_method1("write", (line,));
                let _ = stderr.call_method0("flush");
            }
        });
    })
}
