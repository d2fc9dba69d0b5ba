//! What became of a block: processed by the script, or passed through untouched.

use std::fmt;
use std::sync::Arc;

use crate::events::Emitted;

/// The result of [`Processor::process`](crate::Processor::process) when nothing failed.
///
/// ```no_run
/// # let engine = pyproc_host::Engine::open()?;
/// # let mut p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py").build()?;
/// # let mut block = ndarray::Array2::<f32>::zeros((1, 1024));
/// use pyproc_host::Processed;
/// match p.process(block.view_mut(), 0)? {
///     Processed::Done(emitted) => println!("{} events", emitted.events.len()),
///     Processed::PassedThrough(why) => println!("untouched: {why}"),
/// }
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Processed<'a> {
    /// The script's `process` ran; what it (and the callbacks since the last block)
    /// emitted.
    Done(Emitted<'a>),
    /// The script did not run and the block is exactly as it came in.
    PassedThrough(PassThrough),
}

impl<'a> Processed<'a> {
    /// What the script emitted; nothing for a block that passed through.
    pub fn emitted(self) -> Emitted<'a> {
        match self {
            Processed::Done(emitted) => emitted,
            Processed::PassedThrough(_) => Emitted { events: &[], spikes: &[] },
        }
    }
}

/// Why a block (or another callback) did not reach the script.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassThrough {
    /// The interpreter stopped after a failure and is restarted after `blocks_left` more
    /// blocks.
    Restarting { blocks_left: u32 },
    /// The interpreter stopped after a failure, the pause is over, and the processor waits
    /// for its caller to put a replacement in (it was built with
    /// [`Limits::restart_in_line`](crate::Limits::restart_in_line) off).
    AwaitingReplacement,
    /// Switched off after too many consecutive failures; a reload switches it on again.
    Disabled { reason: Arc<str> },
}

impl fmt::Display for PassThrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassThrough::Restarting { blocks_left } => {
                write!(f, "the interpreter is restarting after a failure ({blocks_left} more blocks pass through before it does)")
            }
            PassThrough::AwaitingReplacement => {
                write!(f, "the interpreter stopped after a failure; blocks pass through until a fresh one, started on another thread, takes its place")
            }
            PassThrough::Disabled { reason } => write!(f, "switched off ({reason}); blocks pass through unchanged\nfix: correct the script and reload it"),
        }
    }
}
