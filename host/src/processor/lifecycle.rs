//! The life of a processor's interpreter: running a command in it, and after it stops for
//! good (deadline, cancel, trap), a restart with the same script and state, or passing
//! calls by while the recovery's pause lasts.

use std::time::Duration;

use crate::callback::Callback;
use crate::error::{Error, Result};
use crate::outcome::PassThrough;
use crate::processor::{add_dropped, Processor};
use crate::sandbox::instance::{Died, GuestInstance, Stop};
use crate::wire::buffer::RawBlock;
use crate::wire::command::Command;
use crate::wire::mailbox::Outcome;

impl Processor {
    /// Importing, `__init__` and a new `PyProcessor`'s first block (with the buffer it is
    /// copied into) get the start-up deadline; every other call the callback deadline.
    fn deadline(&self, callback: Callback) -> Duration {
        match callback {
            Callback::Import | Callback::Init => self.config.limits.init_deadline,
            Callback::Process | Callback::Update if self.first_block => self.config.limits.init_deadline,
            Callback::Process | Callback::HandleTtlEvent | Callback::HandleSpike => {
                self.config.limits.block_deadline.unwrap_or(self.config.limits.callback_deadline)
            }
            _ => self.config.limits.callback_deadline,
        }
    }

    /// Runs `command` for `callback`, restarting the interpreter first if it is time; a
    /// call that cannot reach the script is [`Error::NotRunning`]. The events and spikes
    /// queued for the script's handlers are delivered first; if a handler fails, `command`
    /// still runs (it is another callback), and the first error is returned.
    pub(super) fn run(&mut self, callback: Callback, command: Command, block: Option<RawBlock>) -> Result<()> {
        let (delivered, result) = self.run_after_queued(callback, command, block);
        delivered.and(result)
    }

    /// [`run`](Self::run), with the handlers' outcome and the command's own apart, for
    /// callers that keep state when the command itself succeeded.
    pub(super) fn run_after_queued(&mut self, callback: Callback, command: Command, block: Option<RawBlock>) -> (Result<()>, Result<()>) {
        match self.ensure_running(false) {
            Err(err) => return (Ok(()), Err(err)),
            Ok(Some(why)) => return (Ok(()), Err(Error::NotRunning { script: self.script.shared_path(), callback, why })),
            Ok(None) => {}
        }
        let delivered = self.deliver_queued();
        if self.instance.is_none() {
            // The handlers lost the interpreter (`lost` said what comes next): the command
            // did not run.
            return (Ok(()), delivered);
        }
        (delivered, self.call(callback, command, block))
    }

    /// Runs `command` in the running interpreter (`ensure_running` has said there is one).
    pub(super) fn call(&mut self, callback: Callback, command: Command, block: Option<RawBlock>) -> Result<()> {
        let deadline = self.deadline(callback);
        let Some(instance) = self.instance.as_mut() else {
            unreachable!("call follows ensure_running, which leaves an interpreter or says why not")
        };
        match instance.run(command, block, deadline) {
            Ok(Outcome::Done) => Ok(()),
            Ok(Outcome::Failed(exception)) => Err(Error::Python { script: self.script.shared_path(), exception }),
            Ok(Outcome::Refused(bad)) => Err(Error::AnswerRefused { script: self.script.shared_path(), callback, why: bad.to_string() }),
            Err(died) => Err(self.lost(callback, died, deadline)),
        }
    }

    /// Restarts the interpreter when it is time (unless the limits leave that to the
    /// caller); says why calls pass the script by while it is switched off, pausing, or
    /// waiting for its replacement. Only a `block` counts the pause down.
    pub(super) fn ensure_running(&mut self, block: bool) -> Result<Option<PassThrough>> {
        if let Some(why) = self.recovery.pass_through(self.instance.is_some(), block) {
            return Ok(Some(why));
        }
        if self.instance.is_none() {
            if !self.config.limits.restart_in_line {
                return Ok(Some(PassThrough::AwaitingReplacement));
            }
            self.restart()?;
        }
        Ok(None)
    }

    /// Whether the interpreter stopped, the pause is over, and the restart is the
    /// caller's to do ([`Limits::restart_in_line`](crate::Limits::restart_in_line) off):
    /// build a processor with the same settings elsewhere and put it in this one's place,
    /// after [`carry_failures_from`](Processor::carry_failures_from).
    pub fn needs_replacement(&self) -> bool {
        self.instance.is_none() && !self.config.limits.restart_in_line && self.recovery.due()
    }

    /// Takes over `earlier`'s consecutive failures, for a processor that replaces it after
    /// a failure: the pauses keep growing and the switch-off still comes if this one fails
    /// too. A success resets them, as usual. Allocates nothing.
    pub fn carry_failures_from(&mut self, earlier: &Processor) {
        self.recovery.inherit(&earlier.recovery);
    }

    /// Counts a failed attempt to build this processor's replacement (its import or
    /// `__init__` raised, or ran past the start-up deadline) as another failure of its
    /// stopped interpreter: the next attempt waits out a longer pause, and enough of them
    /// switch the processor off. Nothing happens while the interpreter runs.
    pub fn replacement_failed(&mut self, reason: &str) {
        if self.instance.is_none() {
            self.recovery.failed(reason);
        }
    }

    /// A fresh interpreter with the same script, stream and state (acquiring, recording).
    pub(super) fn restart(&mut self) -> Result<()> {
        self.stats.restarts += 1;
        let instance = match GuestInstance::start(self.engine.template(), &self.config) {
            Ok(instance) => instance,
            Err(e) => {
                self.recovery.failed(&e.to_string());
                return Err(e);
            }
        };
        self.instance = Some(instance);
        self.capacity = 0;
        self.first_block = true;
        let session = self.session();
        let load = (Callback::Import, self.load_command(self.source.clone()));
        for (callback, command) in std::iter::once(load).chain(session.replay()) {
            if let Err(err) = self.call(callback, command, None) {
                // A lost interpreter was counted by `lost`; an exception is counted here.
                if matches!(err, Error::Python { .. }) {
                    self.drop_instance();
                    self.recovery.failed(&err.to_string());
                }
                return Err(err);
            }
        }
        tracing::warn!(script = %self.script.path().display(), "restarted the interpreter after a failure");
        Ok(())
    }

    /// The interpreter stopped for good: count it, plan the restart, say so.
    fn lost(&mut self, callback: Callback, died: Died, limit: Duration) -> Error {
        let callback = died.stage.unwrap_or(callback);
        self.drop_instance();
        self.recovery.failed(&died.reason);
        let next = self.recovery.next_step(self.config.limits.restart_in_line);
        let script = self.script.shared_path();
        match died.stop {
            Stop::Deadline => Error::DeadlineExceeded { script, callback, limit, ran_for: died.ran_for, next },
            Stop::Cancelled => Error::Cancelled { script, callback, ran_for: died.ran_for, next },
            Stop::Failure => Error::InstanceDied { script, callback, reason: died.reason, next },
        }
    }

    fn drop_instance(&mut self) {
        if let Some(instance) = self.instance.take() {
            add_dropped(&mut self.stats, instance.mailbox().lock().dropped);
            if !self.config.limits.restart_in_line {
                // The thread that runs blocks may be a real-time one: the owner frees the
                // interpreter with the processor, elsewhere.
                self.stopped = Some(instance);
            }
        }
    }
}
