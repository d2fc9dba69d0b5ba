//! A Python exception that escaped a script's callback, as data.

use std::fmt;

use crate::callback::Callback;

/// An exception raised by the script: its type, message and traceback frames, and the
/// callback it escaped from. [`Error::Python`](crate::Error::Python) carries one; its
/// `Display` is the traceback as Python prints it.
///
/// ```
/// # fn show(err: &pyproc_host::Error) {
/// if let pyproc_host::Error::Python { exception, .. } = err {
///     if exception.type_name == "ValueError" {
///         let innermost = exception.frames.last();
///         eprintln!("{} at {:?}", exception.message, innermost.map(|f| (&f.file, f.line)));
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PythonException {
    /// The entry point that raised (or `Import` for the module body, `Init` for
    /// `__init__`).
    pub callback: Callback,
    /// The exception's class name: `ValueError`, `ModuleNotFoundError`, `SyntaxError`.
    pub type_name: String,
    /// `str(exception)`; may be empty.
    pub message: String,
    /// Line in the script of the innermost frame that belongs to the script, or of the
    /// syntax error; None when no frame is the script's.
    pub line: Option<u32>,
    /// The traceback's frames, outermost first, without pyproc's own.
    pub frames: Vec<TracebackFrame>,
    /// The whole traceback as Python prints it (frames, source lines, chained exceptions).
    pub traceback: String,
}

/// One frame of a traceback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TracebackFrame {
    /// The file as Python names it (the script's real path for the script's own frames).
    pub file: String,
    pub line: u32,
    /// The function's name, `<module>` for a module body.
    pub function: String,
}

impl TracebackFrame {
    pub(crate) fn new(file: String, line: u32, function: String) -> Self {
        TracebackFrame { file, line, function }
    }
}

impl PythonException {
    /// An exception with no type, message or frames yet, for storage that is filled later.
    pub(crate) fn empty(callback: Callback) -> Self {
        PythonException {
            callback,
            type_name: String::new(),
            message: String::new(),
            line: None,
            frames: Vec::new(),
            traceback: String::new(),
        }
    }

    /// `Type: message`, as the last line of a traceback.
    pub fn summary(&self) -> String {
        if self.message.is_empty() {
            self.type_name.clone()
        } else {
            format!("{}: {}", self.type_name, self.message)
        }
    }
}

impl fmt::Display for PythonException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.traceback.trim_end())
    }
}
