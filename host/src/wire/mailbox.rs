//! The slot where the processor (outside the store) and the door (inside it) meet: the
//! next command, the events and spikes queued for the script's handlers, the caller's
//! block while it is lent, the outcome, and what the script emitted.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::callback::Callback;
use crate::events::{SpikeOut, TtlEvent};
use crate::published::Published;
use crate::python_exception::PythonException;
use crate::wire::batch::Batch;
use crate::wire::buffer::RawBlock;
use crate::wire::command::Command;
use crate::wire::failure::Failures;
use crate::wire::refusal::BadAnswer;

/// What the guest made of a command.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done,
    Failed(Arc<PythonException>),
    /// The guest answered with what the stream cannot take; none of it was used.
    Refused(BadAnswer),
}

/// Shared between the processor and the door.
#[derive(Default)]
pub(crate) struct Mailbox(Mutex<MailboxSlot>);

#[derive(Default)]
pub(crate) struct MailboxSlot {
    /// The next order, taken by the door.
    pub command: Option<Command>,
    /// TTL events and spikes queued for the script's handlers, carried by the next
    /// `Process` or `Events` command.
    pub batch: Batch,
    /// The caller's block while a `Process` command is in flight.
    pub block: Option<RawBlock>,
    /// Set by the door when the guest finishes a command.
    pub outcome: Option<Outcome>,
    /// Where the door writes the exceptions the guest reports.
    pub failures: Failures,
    /// Events the script emitted, in order, until the processor drains them (after the
    /// next block that succeeds; at most `door::PENDING_CALLBACKS` callbacks' worth).
    pub events: Vec<TtlEvent>,
    /// Spikes likewise.
    pub spikes: Vec<SpikeOut>,
    /// The guest's float32 buffer, once it has reported one: (address, capacity in floats).
    pub buffer: Option<(u32, u32)>,
    /// When the next command must be done (placed with the command).
    pub deadline: Option<Instant>,
    /// Events (and, separately, spikes) kept per callback.
    pub emitted_cap: usize,
    /// What the caps dropped.
    pub dropped: Dropped,
    /// The guest's linear memory, in bytes, at its last frame.
    pub memory_bytes: usize,
    /// The entry point the current command has reached: the one it starts with, until the
    /// guest announces another.
    pub stage: Option<Callback>,
    /// Which optional callbacks the running `PyProcessor` defines (None: not said yet).
    pub handles: Option<u16>,
    /// The running `PyProcessor` class says `channel_independent = True`.
    pub channel_independent: bool,
    /// The latest value under each name the script published.
    pub published: Published,
}

impl MailboxSlot {
    /// False only when the guest said its processor has no such method: then calling it
    /// would be a round trip that does nothing.
    pub fn handles(&self, callback: Callback) -> bool {
        self.handles.is_none_or(|mask| mask & (1 << callback.code()) != 0)
    }
}

/// Counts of what the caps dropped and the door refused.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dropped {
    pub events: u64,
    pub spikes: u64,
    pub output_bytes: u64,
    /// Frames the door refused (`refusal.rs`): each raised `OSError` in the script.
    pub frames_refused: u64,
    /// Events the script emitted outside acquisition (`Request::Dropped`).
    pub outside_acquisition: u64,
}

impl Mailbox {
    pub fn lock(&self) -> MutexGuard<'_, MailboxSlot> {
        // Only the processor's own thread takes this lock (the door runs inside the
        // processor's poll), so it is never contended; a panic elsewhere cannot leave the
        // slot half-updated in a way that matters here.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
