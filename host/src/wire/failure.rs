//! The exception a FAILED frame reports, written into storage that is reused: a script
//! that raises in block after block costs no allocation per failure once its tracebacks
//! have been seen. The processor's caller gets the exception behind an `Arc` inside
//! [`Error::Python`](crate::Error::Python); when it has dropped that error, the next
//! failure refills the same strings in place.

use std::sync::Arc;

use crate::callback::Callback;
use crate::python_exception::{PythonException, TracebackFrame};
use crate::wire::request::FailedFrame;

/// The last exception reported, kept for the next.
pub(crate) struct Failures {
    last: Arc<PythonException>,
}

impl Default for Failures {
    fn default() -> Self {
        Failures { last: Arc::new(PythonException::empty(Callback::Process)) }
    }
}

impl Failures {
    /// `failed` as an exception, in the storage of the last one when no error holds that
    /// any more (else in new storage).
    pub fn record(&mut self, failed: &FailedFrame<'_>) -> Arc<PythonException> {
        if Arc::get_mut(&mut self.last).is_none() {
            self.last = Arc::new(PythonException::empty(failed.callback));
        }
        let exception = Arc::get_mut(&mut self.last).expect("no other holder: just checked or just made");
        exception.callback = failed.callback;
        exception.line = failed.line;
        refill(&mut exception.type_name, failed.type_name);
        refill(&mut exception.message, failed.message);
        refill(&mut exception.traceback, failed.traceback);
        let mut kept = 0;
        for (file, line, function) in failed.frames.iter() {
            match exception.frames.get_mut(kept) {
                Some(frame) => {
                    refill(&mut frame.file, file);
                    frame.line = line;
                    refill(&mut frame.function, function);
                }
                None => exception.frames.push(TracebackFrame::new(file.to_owned(), line, function.to_owned())),
            }
            kept += 1;
        }
        exception.frames.truncate(kept);
        self.last.clone()
    }
}

/// `text` in `into`, in its storage when that is large enough; else in storage with room
/// to spare, so messages that grow by a little (a block number gaining a digit) do not
/// need more each time.
fn refill(into: &mut String, text: &str) {
    into.clear();
    if into.capacity() < text.len() {
        into.reserve(text.len().next_power_of_two().max(MIN_ROOM));
    }
    into.push_str(text);
}

/// The least room a refilled text gets.
const MIN_ROOM: usize = 256;
