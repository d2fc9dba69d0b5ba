//! What one processor may use: time per callback, memory, output per callback, and how
//! often it is restarted before it is switched off.

use std::time::Duration;

/// Per-processor limits. `Limits::default()` is what a scientist gets without asking.
///
/// ```
/// use std::time::Duration;
/// let limits = pyproc_host::Limits { callback_deadline: Duration::from_millis(200), ..Default::default() };
/// assert_eq!(limits.init_deadline, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How long `process` and every other callback may run before it is stopped.
    pub callback_deadline: Duration,
    /// If set, how long `process` and the event and spike handlers may run instead: a few
    /// block periods in a live host, where a block held longer stalls the acquisition.
    /// The other callbacks keep `callback_deadline`.
    pub block_deadline: Option<Duration>,
    /// How long importing the script and `__init__` may take (imports of scipy and model
    /// loading are slow), and the first `process` of each new `PyProcessor` (after a
    /// start, restart, reload or `set_stream`), where scripts allocate their buffers.
    pub init_deadline: Duration,
    /// Cap on the interpreter's memory; beyond it allocations fail with `MemoryError`.
    pub memory_bytes: usize,
    /// Printed bytes kept per callback; the rest is dropped and counted.
    pub output_bytes_per_callback: usize,
    /// TTL events (and, separately, spikes) kept per callback; the rest are dropped and
    /// counted. Four times as many may wait for the next block that succeeds.
    pub emitted_per_callback: usize,
    /// Files the script may hold open at once (each is a host file descriptor); opening
    /// more stops the interpreter, which is restarted like after a trap.
    pub open_files: u32,
    /// Consecutive failures (deadline, trap) after which the processor is switched off
    /// for good. Before that, each failure restarts it after a growing pause: 0, 1, 3, 7…
    /// blocks passed through untouched.
    pub max_consecutive_restarts: u32,
    /// Whether the processor restarts its interpreter itself, inside the call that finds
    /// the pause over (true, the default, as `pyproc run` wants). False: it never starts an
    /// interpreter after a failure; once the pause is over its calls pass through with
    /// [`PassThrough::AwaitingReplacement`](crate::PassThrough::AwaitingReplacement) and
    /// [`Processor::needs_replacement`](crate::Processor::needs_replacement) says so, for
    /// a caller that builds the replacement on another thread (a real-time audio thread
    /// must not spend milliseconds to seconds starting an interpreter). Nor does it free
    /// the stopped interpreter: that goes with the processor, on the thread that drops it.
    pub restart_in_line: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            callback_deadline: Duration::from_secs(1),
            block_deadline: None,
            init_deadline: Duration::from_secs(60),
            memory_bytes: 1 << 30,
            output_bytes_per_callback: 64 * 1024,
            emitted_per_callback: 10_000,
            open_files: 256,
            max_consecutive_restarts: 5,
            restart_in_line: true,
        }
    }
}
