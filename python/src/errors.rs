//! Host errors as Python exceptions. The exception classes live in `pyproc/_errors.py`:
//! `ScriptError` (the script raised) carries the exception's type, message, callback, line
//! and traceback frames; every other failure is a `PyprocError` (a wrong block shape is a
//! `ValueError`). Each message is the one the CLI prints.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyproc_host::Error;

/// `err` as the Python exception a caller should see.
pub fn host_error(py: Python<'_>, err: Error) -> PyErr {
    match &err {
        Error::Python { script, exception } => {
            let frames: Vec<(String, u32, String)> = exception.frames.iter().map(|f| (f.file.clone(), f.line, f.function.clone())).collect();
            let made = py.import("pyproc._errors").and_then(|m| m.getattr("ScriptError")).and_then(|class| {
                class.call1((
                    err.to_string(),
                    script.display().to_string(),
                    exception.callback.python_name(),
                    exception.type_name.clone(),
                    exception.message.clone(),
                    exception.line,
                    frames,
                    exception.traceback.clone(),
                ))
            });
            match made {
                Ok(value) => PyErr::from_value(value),
                Err(e) => e,
            }
        }
        Error::ChannelMismatch { .. } | Error::BlockTooLarge { .. } => PyValueError::new_err(err.to_string()),
        // The host's message names the Rust builder; say it in Python's words.
        Error::RecordingNotGranted { dir, roots } => pyproc_error(
            py,
            format!(
                "start_recording({}): that folder is not inside the processor's recording_root {}\nfix: make the Processor with recording_root= a folder that holds it",
                dir.display(),
                roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        ),
        _ => pyproc_error(py, err.to_string()),
    }
}

/// `pyproc.PyprocError(message)`.
pub fn pyproc_error(py: Python<'_>, message: String) -> PyErr {
    match py.import("pyproc._errors").and_then(|m| m.getattr("PyprocError")).and_then(|class| class.call1((message,))) {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

/// An error of the CLI's pipeline (`pyproc run`), with its causes, as the CLI prints it
/// after `pyproc: error: `.
pub fn run_error(py: Python<'_>, err: anyhow::Error) -> PyErr {
    match err.downcast::<Error>() {
        Ok(host) if matches!(host, Error::Python { .. }) => host_error(py, host),
        Ok(host) => pyproc_error(py, format!("{:#}", anyhow::Error::from(host))),
        Err(other) => pyproc_error(py, format!("{other:#}")),
    }
}
