//! Stopping a running callback from another thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The flag a [`CancelHandle`] sets and the running command checks: at every epoch yield
/// (about every millisecond of guest code) and when the guest answers.
#[derive(Debug, Clone, Default)]
pub(crate) struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A new command starts: an earlier cancel (with nothing running) does not carry over.
    pub fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Stops the callback a [`Processor`](crate::Processor) is running, from any thread.
///
/// The callback ends with [`Error::Cancelled`](crate::Error::Cancelled) within about a
/// millisecond of guest code (a callback blocked in one long host call, such as
/// `time.sleep`, when that call returns), its interpreter is dropped and restarted as after
/// a deadline, and the block passes through unchanged. With no callback running, `cancel`
/// does nothing. Cheap to clone; it does not keep the processor alive.
///
/// ```no_run
/// # let engine = pyproc_host::Engine::open()?;
/// let mut p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py").build()?;
/// let cancel = p.cancel_handle();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_millis(50));
///     cancel.cancel();
/// });
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CancelHandle(pub(crate) CancelFlag);

impl CancelHandle {
    pub fn cancel(&self) {
        (self.0).0.store(true, Ordering::Relaxed);
    }
}
