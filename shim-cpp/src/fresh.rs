//! [`Fresh`]: a processor built off the real-time thread, put in the live one's place
//! between two blocks.

use pyproc_host::{Error, ShardedProcessor};

use crate::error_report::status_of;
use crate::ffi::Status;

pub struct Fresh {
    pub processor: ShardedProcessor,
    /// The state it joins in, as the control thread last set it.
    pub acquiring: bool,
    pub recording: Option<String>,
    /// It replaces a stopped interpreter (not a reload): it takes the failures over.
    pub after_failure: bool,
}

impl Fresh {
    /// Puts `self.processor` in `live`'s place; afterwards `self.processor` is the old one,
    /// for another thread to free. The old one stops recording and acquisition first (as
    /// far as it still runs) and the new one starts them after, so a script's files are
    /// closed before its successor opens them. Runs callbacks, but starts, imports and
    /// frees no interpreter.
    pub fn swap_into(&mut self, live: &mut ShardedProcessor) -> Result<(), Error> {
        let mut result = Ok(());
        if self.recording.is_some() {
            result = still_running(live.stop_recording());
        }
        if self.acquiring {
            result = result.and(still_running(live.stop_acquisition()));
        }
        if self.after_failure {
            self.processor.carry_failures_from(live);
        }
        std::mem::swap(live, &mut self.processor);
        if self.acquiring {
            result = result.and(live.start_acquisition());
        }
        if let Some(dir) = &self.recording {
            result = result.and(live.start_recording(dir));
        }
        result
    }
}

/// A stopped interpreter has nothing to stop: only a running one's failure counts.
fn still_running(result: Result<(), Error>) -> Result<(), Error> {
    match result {
        Err(error) if matches!(status_of(&error), Status::Restarting | Status::Disabled) => Ok(()),
        other => other,
    }
}
