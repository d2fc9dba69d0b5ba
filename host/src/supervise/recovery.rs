//! What happens after a processor's interpreter stops for good (deadline, trap): restart
//! it, pausing longer after each consecutive failure, and switch it off after too many.

use std::sync::Arc;

use crate::outcome::PassThrough;

/// Where a processor stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    Running,
    /// The interpreter stopped; blocks pass through untouched until it is restarted.
    Restarting { blocks_left: u32, consecutive_failures: u32 },
    /// Switched off after too many consecutive failures: every block passes through.
    Disabled { reason: Arc<str> },
}

#[derive(Debug)]
pub(crate) struct Recovery {
    max_consecutive: u32,
    consecutive: u32,
    /// Blocks still to pass through before the next restart.
    pause: u32,
    disabled: Option<Arc<str>>,
}

impl Recovery {
    pub fn new(max_consecutive: u32) -> Self {
        Recovery { max_consecutive, consecutive: 0, pause: 0, disabled: None }
    }

    /// Records a failure; after failure k the pause is 2^(k-1) - 1 blocks (0, 1, 3, 7…).
    pub fn failed(&mut self, reason: &str) {
        self.consecutive += 1;
        if self.consecutive > self.max_consecutive {
            self.disabled = Some(format!("{} consecutive failures; the last: {reason}", self.consecutive).into());
        } else {
            self.pause = (1u32 << (self.consecutive - 1).min(20)) - 1;
        }
    }

    /// A block went through the script: the failures are behind us.
    pub fn succeeded(&mut self) {
        self.consecutive = 0;
    }

    /// Called for each call while the interpreter is down: true when it is time to restart.
    /// Only blocks count the pause down, so a burst of TTL events does not shorten it.
    fn restart_now(&mut self, block: bool) -> bool {
        if self.pause == 0 {
            true
        } else {
            if block {
                self.pause -= 1;
            }
            false
        }
    }

    /// Whether the pause is over and the processor is not switched off: a stopped
    /// interpreter may be replaced now.
    pub fn due(&self) -> bool {
        self.pause == 0 && self.disabled.is_none()
    }

    /// Takes over the consecutive failures of the processor this one replaces, so that
    /// the pauses keep growing and the switch-off still comes when a replacement built
    /// elsewhere fails again.
    pub fn inherit(&mut self, earlier: &Recovery) {
        self.consecutive = earlier.consecutive;
    }

    /// What the next step will be, said in an error message; `in_line`: the processor
    /// restarts the interpreter itself at a call (else its owner replaces it, in the
    /// background, while blocks pass through).
    pub fn next_step(&self, in_line: bool) -> String {
        let (n, max) = (self.consecutive, self.max_consecutive);
        match &self.disabled {
            Some(_) => format!("pyproc has switched this processor off after {n} consecutive failures: blocks now pass through unchanged; reload the script to try again"),
            None if !in_line && self.pause == 0 => format!("pyproc puts a fresh interpreter with the same script and stream in its place, built in the background (a spare goes in at the next block); blocks pass through until it is in (failure {n} of {max} allowed in a row)"),
            None if !in_line => format!("pyproc puts a fresh interpreter, built in the background, in its place after {} more blocks, passed through unchanged (failure {n} of {max} allowed in a row)", self.pause),
            None if self.pause == 0 => format!("pyproc restarts it with the same script and stream at the next call (failure {n} of {max} allowed in a row)"),
            None => format!("pyproc restarts it after {} more blocks, passed through unchanged (failure {n} of {max} allowed in a row)", self.pause),
        }
    }

    pub fn status(&self, running: bool) -> Status {
        match (&self.disabled, running) {
            (Some(reason), _) => Status::Disabled { reason: reason.clone() },
            (None, true) => Status::Running,
            (None, false) => Status::Restarting { blocks_left: self.pause, consecutive_failures: self.consecutive },
        }
    }

    /// Why calls pass the script by, if they do: switched off, or still pausing before a
    /// restart (`restart_now` counts the pause down, for a `block`). Allocates nothing.
    pub fn pass_through(&mut self, running: bool, block: bool) -> Option<PassThrough> {
        if let Some(reason) = &self.disabled {
            return Some(PassThrough::Disabled { reason: reason.clone() });
        }
        (!running && !self.restart_now(block)).then_some(PassThrough::Restarting { blocks_left: self.pause })
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled.is_some()
    }

    /// A reload starts afresh.
    pub fn reset(&mut self) {
        *self = Recovery::new(self.max_consecutive);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_with_consecutive_failures_then_the_processor_is_switched_off() {
        let mut r = Recovery::new(3);
        let mut pauses = Vec::new();
        for _ in 0..3 {
            r.failed("x");
            let mut blocks = 0;
            while r.pass_through(false, true).is_some() {
                blocks += 1;
            }
            pauses.push(blocks);
        }
        assert_eq!(pauses, [0, 1, 3]);
        r.failed("deadline");
        assert!(matches!(r.status(false), Status::Disabled { reason } if reason.contains("4 consecutive failures; the last: deadline")));
        assert!(matches!(r.pass_through(true, true), Some(PassThrough::Disabled { .. })), "switched off even with an interpreter");
    }

    #[test]
    fn the_next_step_says_who_restarts_and_when() {
        let mut r = Recovery::new(5);
        r.failed("deadline");
        assert!(r.next_step(true).contains("at the next call"), "{}", r.next_step(true));
        assert!(r.next_step(false).contains("built in the background (a spare goes in at the next block); blocks pass through"), "{}", r.next_step(false));
        r.failed("deadline");
        assert!(r.next_step(false).contains("in its place after 1 more blocks"), "{}", r.next_step(false));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut r = Recovery::new(2);
        r.failed("x");
        r.failed("x");
        r.succeeded();
        r.failed("x");
        assert_eq!(r.status(false), Status::Restarting { blocks_left: 0, consecutive_failures: 1 });
    }

    #[test]
    fn only_blocks_count_the_pause_down() {
        let mut r = Recovery::new(5);
        r.failed("x");
        r.failed("x");
        for _ in 0..10 {
            assert!(r.pass_through(false, false).is_some(), "an event waits for the pause to end");
        }
        assert_eq!(r.pass_through(false, true), Some(PassThrough::Restarting { blocks_left: 0 }));
        assert!(r.due());
        assert_eq!(r.pass_through(false, false), None, "the pause is over");
    }

    #[test]
    fn a_replacement_inherits_the_failures_so_pauses_keep_growing() {
        let mut old = Recovery::new(5);
        old.failed("x");
        old.failed("x");
        let mut fresh = Recovery::new(5);
        fresh.inherit(&old);
        fresh.failed("x");
        assert_eq!(fresh.status(false), Status::Restarting { blocks_left: 3, consecutive_failures: 3 });
    }
}
