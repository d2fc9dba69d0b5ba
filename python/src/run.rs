//! `pyproc.run`: `pyproc run`'s pipeline (`pyproc_cli::run::run`) called from Python, the
//! report returned as the JSON `pyproc run --json` prints, plus its text.
//!
//! The run goes on a thread of its own while the calling thread, without the GIL, wakes
//! every 100 ms to hand the progress to a Python callback (tqdm) and to look for Ctrl-C,
//! which stops the run after the current block as in the CLI.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pyo3::prelude::*;
use pyproc_cli::run::{RunOptions, RunProgress};
use pyproc_cli::synthetic::Settings;
use pyproc_host::Grants;

use crate::{engine, errors};

/// Returns (report as JSON text, report as the CLI prints it, exit status the CLI would
/// give). `progress(done, total)` is called with samples per channel; None: the CLI's
/// own bar, on a terminal.
#[pyfunction]
#[pyo3(signature = (script, input, output, stream, block_size, random_seed, deadline_ms, shards, assume_channel_independent, allow_read, allow_write, allow_net, allow_listen, script_folder, channels, sample_rate, seconds, seed, save_input, progress))]
#[allow(clippy::too_many_arguments)]
pub fn run(
    py: Python<'_>,
    script: PathBuf,
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    stream: Option<String>,
    block_size: usize,
    random_seed: u64,
    deadline_ms: u64,
    shards: Option<usize>,
    assume_channel_independent: bool,
    allow_read: Vec<String>,
    allow_write: Vec<String>,
    allow_net: Vec<String>,
    allow_listen: Vec<u16>,
    script_folder: bool,
    channels: usize,
    sample_rate: f64,
    seconds: f64,
    seed: u64,
    save_input: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(String, String, u8)> {
    if block_size == 0 || deadline_ms == 0 || shards == Some(0) {
        return Err(errors::pyproc_error(py, "block_size, deadline_ms and shards must be at least 1".into()));
    }
    let grants = Grants::from_flags(script_folder, &allow_read, &allow_write, &allow_net, &allow_listen).map_err(|e| errors::host_error(py, e))?;
    let (input, _scratch) = match input {
        Some(dir) => (dir, None),
        None => {
            let settings = Settings { channels, sample_rate, seconds, block_size, seed };
            py.detach(|| pyproc_cli::synthetic_input(settings, save_input.as_deref(), progress.is_none())).map_err(|e| errors::run_error(py, e))?
        }
    };
    let engine = engine::engine(py)?;
    let counts = Arc::new(RunProgress::default());
    let options = RunOptions {
        script,
        input,
        stream,
        block_size,
        output,
        random_seed,
        deadline: Duration::from_millis(deadline_ms),
        grants,
        shards,
        assume_channel_independent,
        progress: progress.is_some().then(|| counts.clone()),
        plots: None,
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel();
    {
        let interrupted = interrupted.clone();
        std::thread::Builder::new()
            .name("pyproc-run".into())
            .spawn(move || {
                let _ = done.send(pyproc_cli::run::run(move || Ok(engine), options, interrupted));
            })
            .map_err(|e| errors::pyproc_error(py, format!("cannot start the run's thread: {e}")))?;
    }
    let mut finished = finished;
    let result = loop {
        // The receiver is not Sync: it goes into the GIL-free closure and comes back.
        let (received, back) = py.detach(move || (finished.recv_timeout(Duration::from_millis(100)), finished));
        finished = back;
        match received {
            Ok(result) => break result,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(errors::pyproc_error(py, "the run's thread stopped without a report (it panicked; see stderr)".into())),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if py.check_signals().is_err() {
            if !interrupted.swap(true, Ordering::Relaxed) {
                eprintln!("\npyproc: stopping after this block");
            }
        }
        if let Some(callback) = &progress {
            callback.call1(py, (counts.samples_done.load(Ordering::Relaxed), counts.total_samples.load(Ordering::Relaxed)))?;
        }
    };
    let report = result.map_err(|e| errors::run_error(py, e))?;
    if let Some(callback) = &progress {
        callback.call1(py, (counts.samples_done.load(Ordering::Relaxed), counts.total_samples.load(Ordering::Relaxed)))?;
    }
    let status = report.exit_status();
    let json = serde_json::to_string(&report.to_json()).map_err(|e| errors::pyproc_error(py, format!("cannot write the report as JSON: {e}")))?;
    Ok((json, report.to_string(), status))
}
