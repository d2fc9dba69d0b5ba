//! TTL events and spikes on their way to the script's handlers: queued in the mailbox's
//! batch as they arrive, and delivered by the next call into the script, so a block's
//! events cost no round trip of their own.
//!
//! The order the script sees is the order of arrival, with every event and spike before
//! the `process` (or other callback) that follows it: a block's PROCESS carries the batch;
//! any other call delivers it first, in an EVENTS command of its own.

use crate::callback::Callback;
use crate::error::{Error, Result};
use crate::processor::Processor;
use crate::wire::batch::{Batch, BatchSummary, Queued};
use crate::wire::command::Command;

impl Processor {
    /// Queues one record for `handler` with `push`, if the script has that handler. A full
    /// batch is delivered first, in a round trip of its own; a record too large to travel
    /// with a block goes out at once, by itself.
    pub(super) fn queue(&mut self, handler: Callback, push: impl Fn(&mut Batch) -> Queued) -> Result<()> {
        if !self.script_handles(handler) {
            return Ok(());
        }
        if let Some(why) = self.ensure_running(false)? {
            return Err(Error::NotRunning { script: self.script.shared_path(), callback: handler, why });
        }
        // One lock in the usual case: the record goes in, and the batch is not oversized.
        let push_and_look = |batch: &mut Batch| (push(batch), batch.oversized());
        let mut delivered = Ok(());
        let mut pushed = self.with_batch(push_and_look);
        if matches!(pushed, Some((Queued::Full, _))) {
            delivered = self.deliver_queued();
            // An empty batch takes any record; none, when the delivery lost the interpreter.
            pushed = self.with_batch(push_and_look);
        }
        if matches!(pushed, Some((_, true))) {
            let alone = self.deliver_queued();
            delivered = delivered.and(alone);
        }
        delivered
    }

    /// What the next command carries for the handlers.
    pub(super) fn queued(&self) -> BatchSummary {
        self.with_batch(|batch| batch.summary()).unwrap_or_default()
    }

    /// Hands the queued events and spikes to the script now, in a command of their own.
    /// The script's handlers run with the callback deadline.
    pub(super) fn deliver_queued(&mut self) -> Result<()> {
        let batch = self.queued();
        let Some(first_handler) = batch.first else { return Ok(()) };
        self.call(first_handler, Command::Events { batch }, None)
    }

    fn with_batch<R>(&self, f: impl FnOnce(&mut Batch) -> R) -> Option<R> {
        self.instance.as_ref().map(|instance| f(&mut instance.mailbox().lock().batch))
    }
}
