//! The clock compiled guest code watches: a thread that advances the engine's epoch every
//! [`TICK`] while a command runs, so a running guest comes back to its host about once per
//! tick, where the command's deadline and the cancel flag are checked.
//!
//! Between commands nobody needs the ticks: the thread parks until a command starts, and
//! ends soon after the engine is gone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, Thread};
use std::time::Duration;

/// How often a running guest yields to its host: a runaway callback is stopped within
/// about this of its deadline (one long host call, such as `time.sleep`, can run longer
/// between two looks), and a look (a switch out of the guest and back) costs about a
/// microsecond.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// How long the parked thread sleeps before it checks whether the engine is gone.
const IDLE_CHECK: Duration = Duration::from_millis(100);

/// Shared by the engine's template and every instance made from it.
#[derive(Clone)]
pub(crate) struct EpochTicker {
    /// Commands running now, across every store of the engine.
    running: Arc<AtomicUsize>,
    thread: Thread,
}

/// Keeps the ticks coming while it lives: held for as long as a command runs.
pub(crate) struct Running(Arc<AtomicUsize>);

impl EpochTicker {
    /// Starts the thread for `engine`, which must be configured with epoch interruption.
    pub fn start(engine: &wasmtime::Engine) -> std::io::Result<EpochTicker> {
        let engine = engine.weak();
        let running = Arc::new(AtomicUsize::new(0));
        let seen = running.clone();
        let thread = thread::Builder::new().name("pyproc-epoch".into()).spawn(move || loop {
            if seen.load(Ordering::Acquire) == 0 {
                // A command starting unparks it; the timeout notices a dropped engine.
                thread::park_timeout(IDLE_CHECK);
                if engine.upgrade().is_none() {
                    return;
                }
                continue;
            }
            thread::sleep(TICK);
            match engine.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        })?;
        Ok(EpochTicker { running, thread: thread.thread().clone() })
    }

    /// Ticks until the returned guard is dropped.
    pub fn running(&self) -> Running {
        if self.running.fetch_add(1, Ordering::AcqRel) == 0 {
            self.thread.unpark();
        }
        Running(self.running.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
