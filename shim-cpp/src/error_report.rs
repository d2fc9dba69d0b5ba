//! Turning a host error into a status and a report the C++ side can show.

use pyproc_host::Error;

use crate::ffi::{ErrorReport, Status};

pub fn status_of(error: &Error) -> Status {
    match error {
        Error::Python { .. } => Status::ScriptError,
        Error::DeadlineExceeded { .. } => Status::DeadlineExceeded,
        Error::InstanceDied { .. } => Status::InstanceDied,
        Error::Restarting { .. } => Status::Restarting,
        Error::Disabled { .. } => Status::Disabled,
        Error::ChannelMismatch { .. } | Error::BlockTooLarge { .. } => Status::BadBlock,
        _ => Status::Failed,
    }
}

/// The report for `error`, numbered `sequence`.
pub fn report(error: &Error, sequence: u64) -> ErrorReport {
    let (callback, traceback) = match error {
        Error::Python { callback, traceback, .. } => (callback.to_string(), traceback.clone()),
        Error::DeadlineExceeded { callback, .. } | Error::InstanceDied { callback, .. } => (callback.to_string(), String::new()),
        _ => (String::new(), String::new()),
    };
    ErrorReport { sequence, status: status_of(error), callback, message: error.to_string(), traceback }
}

pub fn no_error() -> ErrorReport {
    ErrorReport { sequence: 0, status: Status::Ok, callback: String::new(), message: String::new(), traceback: String::new() }
}
