//! The most recent failure, passed from the thread that saw it to whoever reads
//! `last_error`. The thread that failed moves the host's error value into a slot, which
//! neither allocates nor formats (the real-time thread only tries the slot's lock, never
//! waits for it); the reader formats the report from it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use pyproc_host::Error;

use crate::error_report::{no_error, report, status_of};
use crate::ffi::{ErrorReport, Status};
use crate::locks::{lock, try_lock};

pub struct LastError {
    /// Failures so far; each one's sequence number is the count after it.
    errors: AtomicU64,
    /// The newest failure not formatted yet, and its sequence number.
    newest: Mutex<Option<(Error, u64)>>,
    /// The report of the newest failure formatted so far (readers only).
    report: Mutex<ErrorReport>,
}

impl LastError {
    pub fn new() -> Self {
        LastError { errors: AtomicU64::new(0), newest: Mutex::new(None), report: Mutex::new(no_error()) }
    }

    /// Keeps `error` for the readers unless one is taking the slot right now (then only
    /// the count goes up: the caller never waits), and says what kind it was. Allocates
    /// nothing; an earlier failure no reader took is freed here.
    pub fn record_now(&self, error: Error) -> Status {
        let status = status_of(&error);
        let sequence = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(mut newest) = try_lock(&self.newest) {
            *newest = Some((error, sequence));
        }
        status
    }

    /// `record_now` for threads that may wait: the failure is always kept.
    pub fn record_waiting(&self, error: Error) -> Status {
        let status = status_of(&error);
        let sequence = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
        *lock(&self.newest) = Some((error, sequence));
        status
    }

    /// The report of the newest failure kept (formatted here, on the reader's thread).
    pub fn read(&self) -> ErrorReport {
        // Taken out first, so the slot is held for a moment only, never while formatting.
        let newest = lock(&self.newest).take();
        let mut kept = lock(&self.report);
        if let Some((error, sequence)) = newest {
            // Two readers may each have taken one: the newer stays.
            if sequence > kept.sequence {
                *kept = report(&error, sequence);
            }
        }
        kept.clone()
    }
}
