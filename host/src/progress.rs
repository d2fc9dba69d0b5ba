//! One-time set-up steps (download, unpack, compile) that take long enough for a user to
//! want to see them. The CLI draws them; a library user may log or ignore them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A step of the one-time set-up.
#[derive(Debug, Clone)]
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
            None => tracing::info!(?event, "pyproc set-up"),
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
