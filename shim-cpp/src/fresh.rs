//! [`Fresh`]: a processor built off the real-time thread, put in the live one's place
//! between two blocks.

use std::sync::Arc;

use pyproc_host::{Error, ShardedProcessor};

use crate::error_report::status_of;
use crate::ffi::Status;
use crate::held_output::HeldOutput;

pub struct Fresh {
    pub processor: ShardedProcessor,
    pub joins: Joins,
}

/// What a fresh processor does as it goes in.
pub enum Joins {
    /// A reload: it starts acquisition and recording as the control thread last set them
    /// (a reload for a new recording folder starts recording there).
    Settings { acquiring: bool, recording: Option<String> },
    /// It replaces a stopped interpreter: it joins what the live one was in the middle of,
    /// takes its block deadline, and carries its failures on. What it printed before it
    /// goes in was `held` (it may be a spare, built before anything failed).
    Failed { held: Arc<HeldOutput> },
}

impl Fresh {
    /// Puts `self.processor` in `live`'s place; afterwards `self.processor` is the old one,
    /// for another thread to free. The old one stops recording and acquisition first (as
    /// far as it still runs) and the new one starts them after, so a script's files are
    /// closed before its successor opens them. Runs callbacks, but starts, imports and
    /// frees no interpreter.
    pub fn swap_into(&mut self, live: &mut ShardedProcessor) -> Result<(), Error> {
        let session = live.session();
        let mut result = Ok(());
        if session.recording() {
            result = still_running(live.stop_recording());
        }
        if session.acquiring() {
            result = result.and(still_running(live.stop_acquisition()));
        }
        if let Joins::Failed { .. } = self.joins {
            self.processor.carry_failures_from(live);
            self.processor.set_block_deadline(live.block_deadline());
        }
        std::mem::swap(live, &mut self.processor);
        match &self.joins {
            Joins::Settings { acquiring, recording } => {
                if *acquiring {
                    result = result.and(live.start_acquisition());
                }
                if let Some(dir) = recording {
                    result = result.and(live.start_recording(dir));
                }
            }
            Joins::Failed { held } => {
                held.release();
                result = result.and(live.join(&session));
            }
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
