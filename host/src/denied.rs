//! What a script tried to reach and was refused: each refusal raises `PermissionError` in
//! the script, and is also kept here so a run can end with the list of flags it lacked
//! (like Deno's permission prompt, but after the run).

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::callback::Callback;

/// How many refusals are kept with their details; the rest are only counted.
pub const KEPT_DENIALS: usize = 20;

/// One refused access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The entry point that was running (`None`: the runtime's own start).
    pub callback: Option<Callback>,
    /// What was tried, in words: `write /mnt/lab/results.csv`, `connect 10.0.0.5:5555`.
    pub what: String,
    /// The flag that would have allowed it, ready to paste: `--allow-write /mnt/lab`.
    pub fix: String,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.callback {
            Some(callback) => write!(f, "{callback}: {} (allow with {})", self.what, self.fix),
            None => write!(f, "{} (allow with {})", self.what, self.fix),
        }
    }
}

/// Every refusal of one processor (across restarts): a count, and the first
/// [`KEPT_DENIALS`] distinct ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denials {
    pub count: u64,
    pub first: Vec<Denial>,
}

impl Denials {
    pub(crate) fn record(&mut self, denial: Denial) {
        self.count += 1;
        self.keep(denial);
    }

    /// Adds the refusals of another interpreter of the same processor (one replaced by a
    /// reload), keeping the first [`KEPT_DENIALS`] distinct ones as `record` does.
    pub fn merge(&mut self, later: Denials) {
        self.count += later.count;
        for denial in later.first {
            self.keep(denial);
        }
    }

    fn keep(&mut self, denial: Denial) {
        if self.first.len() < KEPT_DENIALS && !self.first.contains(&denial) {
            self.first.push(denial);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The processor's refusals, shared with its interpreter's store (which records them
/// outside the real-time path: only when a script opens, connects or starts something).
/// From [`Processor::denial_log`](crate::Processor::denial_log): a reader on another
/// thread takes a [`snapshot`](Self::snapshot) without touching the processor.
#[derive(Debug, Clone, Default)]
pub struct DenialLog(Arc<Mutex<Denials>>);

impl DenialLog {
    pub(crate) fn record(&self, denial: Denial) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).record(denial);
    }

    pub fn snapshot(&self) -> Denials {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_once_kept() {
        let mut d = Denials::default();
        let one = Denial { callback: Some(Callback::Process), what: "read /x".into(), fix: "--allow-read /x".into() };
        d.record(one.clone());
        d.record(one.clone());
        assert_eq!((d.count, d.first.len()), (2, 1));
        for i in 0..30 {
            d.record(Denial { what: format!("read /{i}"), ..one.clone() });
        }
        assert_eq!((d.count, d.first.len()), (32, KEPT_DENIALS));
    }

    #[test]
    fn merged_denials_add_up_and_keep_each_once() {
        let read = Denial { callback: Some(Callback::StopAcquisition), what: "read /lab/cfg.json".into(), fix: "--allow-read /lab".into() };
        let net = Denial { callback: None, what: "connect 10.0.0.5:5555".into(), fix: "--allow-net 10.0.0.5:5555".into() };
        let mut total = Denials { count: 2, first: vec![read.clone()] };
        total.merge(Denials { count: 3, first: vec![read.clone(), net.clone()] });
        assert_eq!(total, Denials { count: 5, first: vec![read, net] });
    }
}
