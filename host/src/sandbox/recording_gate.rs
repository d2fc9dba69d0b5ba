//! The recording folder is reachable only between `start_recording` and `stop_recording`.
//!
//! wasmtime-wasi's preview 1 fixes the preopened folders when an interpreter is created
//! and gives no way to add or withdraw one later, so the granted recording roots are
//! preopened from the start and this gate stands in front of them: every WASI call that
//! takes a descriptor is checked against the descriptors that lead into a recording root
//! (the preopens themselves and everything opened through them). While no recording is
//! running, those calls answer `EACCES` without reaching the filesystem. Closing such a
//! descriptor is always allowed, and so is asking a preopen its name (wasi-libc does that
//! when it starts).
//!
//! A descriptor opened during a recording stays in the set after it ends: the script keeps
//! the number but cannot use it. `wasi_shadow.rs` puts this gate in front of WASI.

use std::collections::HashSet;

use crate::callback::Callback;
use crate::wire::command::Command;

/// Which descriptors lead into a recording root, and whether a recording is running.
#[derive(Debug, Default)]
pub(crate) struct RecordingGate {
    open: bool,
    /// The last command was `stop_recording`: close when the next one starts.
    closing: bool,
    fds: HashSet<u32>,
}

impl RecordingGate {
    /// The preopens for the recording roots are these descriptor numbers.
    pub fn new(preopen_fds: impl IntoIterator<Item = u32>) -> Self {
        RecordingGate { open: false, closing: false, fds: preopen_fds.into_iter().collect() }
    }

    /// Called by the door as it hands the guest its next command: `start_recording` opens
    /// the gate before the script's callback runs; `stop_recording` closes it after.
    pub fn command_starts(&mut self, command: &Command) {
        if std::mem::take(&mut self.closing) {
            self.open = false;
        }
        match command {
            Command::StartRecording { .. } => self.open = true,
            Command::Call(Callback::StopRecording) => self.closing = true,
            _ => {}
        }
    }

    pub fn allows(&self, fd: i32) -> bool {
        self.open || !self.fds.contains(&(fd as u32))
    }

    pub fn opened(&mut self, base: i32, new: u32) {
        if self.fds.contains(&(base as u32)) {
            self.fds.insert(new);
        } else {
            self.fds.remove(&new);
        }
    }

    pub fn renumbered(&mut self, from: i32, to: i32) {
        if self.fds.remove(&(from as u32)) {
            self.fds.insert(to as u32);
        } else {
            self.fds.remove(&(to as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_until_start_recording_and_after_stop_recording() {
        let mut gate = RecordingGate::new([4]);
        assert!(!gate.allows(4));
        assert!(gate.allows(3), "other descriptors are not the gate's business");
        gate.command_starts(&Command::StartRecording { dir: "/r".into() });
        assert!(gate.allows(4));
        gate.command_starts(&Command::Call(Callback::StopRecording));
        assert!(gate.allows(4), "stop_recording itself may still flush its files");
        gate.command_starts(&Command::Call(Callback::StopAcquisition));
        assert!(!gate.allows(4));
    }

    #[test]
    fn descriptors_opened_through_the_root_and_renumbered_stay_behind_the_gate() {
        let mut gate = RecordingGate::new([4]);
        gate.opened(4, 9);
        gate.opened(3, 10);
        assert!(!gate.allows(9));
        assert!(gate.allows(10));
        gate.renumbered(9, 12);
        assert!(gate.allows(9) && !gate.allows(12));
        gate.renumbered(10, 12);
        assert!(gate.allows(12), "renumbering over a recording descriptor replaces it");
        gate.opened(3, 4);
        assert!(gate.allows(4), "a reused number belongs to the new file");
    }
}
