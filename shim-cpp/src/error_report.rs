//! Turning a host error into a status and a report the C++ side can show.

use pyproc_host::{Error, PassThrough};

use crate::ffi::{ErrorReport, Status};

pub fn status_of(error: &Error) -> Status {
    match error {
        // A shard's failure is its own error's kind; of several, the first one's.
        Error::Shard { error, .. } => status_of(error),
        Error::Shards(errors) => errors.first().map_or(Status::Failed, status_of),
        // An answer the host refused is the script's doing, as an exception is.
        Error::Python { .. } | Error::AnswerRefused { .. } => Status::ScriptError,
        Error::DeadlineExceeded { .. } => Status::DeadlineExceeded,
        Error::InstanceDied { .. } | Error::Cancelled { .. } => Status::InstanceDied,
        Error::NotRunning { why, .. } => status_of_pass_through(why),
        Error::ChannelMismatch { .. } | Error::BlockTooLarge { .. } => Status::BadBlock,
        _ => Status::Failed,
    }
}

/// A block or call that did not reach the script, as a status.
pub fn status_of_pass_through(why: &PassThrough) -> Status {
    match why {
        PassThrough::Disabled { .. } => Status::Disabled,
        _ => Status::Restarting,
    }
}

/// The report for `error`, numbered `sequence`.
pub fn report(error: &Error, sequence: u64) -> ErrorReport {
    let (callback, traceback) = origin(error);
    ErrorReport { sequence, status: status_of(error), callback, message: error.to_string(), traceback }
}

/// The callback that failed and the traceback, from the error itself or, for a shard, the
/// error inside it (the message names the shard).
fn origin(error: &Error) -> (String, String) {
    match error {
        Error::Shard { error, .. } => origin(error),
        Error::Shards(errors) => errors.first().map(origin).unwrap_or_default(),
        Error::Python { exception, .. } => (exception.callback.to_string(), exception.traceback.clone()),
        Error::DeadlineExceeded { callback, .. }
        | Error::InstanceDied { callback, .. }
        | Error::Cancelled { callback, .. }
        | Error::AnswerRefused { callback, .. }
        | Error::NotRunning { callback, .. } => (callback.to_string(), String::new()),
        _ => (String::new(), String::new()),
    }
}

pub fn no_error() -> ErrorReport {
    ErrorReport { sequence: 0, status: Status::Ok, callback: String::new(), message: String::new(), traceback: String::new() }
}
