//! [`Session`]: what a processor is in the middle of (acquiring, recording and where), for
//! a processor that takes its place to join in.

use crate::callback::Callback;
use crate::error::Result;
use crate::processor::Processor;
use crate::wire::command::Command;

/// Whether a processor is acquiring, and the folder it records to (as its script sees
/// it), from [`Processor::session`]. A processor built with the same settings
/// [`join`](Processor::join)s it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    acquiring: bool,
    /// The recording folder under the guest's `/recordings/<root index>/`.
    recording: Option<String>,
}

impl Session {
    pub fn acquiring(&self) -> bool {
        self.acquiring
    }

    pub fn recording(&self) -> bool {
        self.recording.is_some()
    }

    /// The calls that bring a fresh `PyProcessor` into this session, in order.
    pub(super) fn replay(&self) -> impl Iterator<Item = (Callback, Command)> + '_ {
        let acquisition = self.acquiring.then_some((Callback::StartAcquisition, Command::Call(Callback::StartAcquisition)));
        let recording = self.recording.as_ref().map(|dir| (Callback::StartRecording, Command::StartRecording { dir: dir.clone() }));
        acquisition.into_iter().chain(recording)
    }
}

impl Processor {
    /// What this processor is in the middle of, as the host last told it (also while its
    /// interpreter is down).
    pub fn session(&self) -> Session {
        Session { acquiring: self.acquiring, recording: self.recording.clone() }
    }

    /// Starts acquisition and then recording as `session` says, for a processor that takes
    /// the place of the one `session` came from. That one must have been built with the
    /// same recording roots: the folder is given as its script saw it. Both calls are made
    /// even if the first fails; the first error is returned.
    pub fn join(&mut self, session: &Session) -> Result<()> {
        self.acquiring = session.acquiring;
        self.recording = session.recording.clone();
        session.replay().fold(Ok(()), |result, (callback, command)| result.and(self.run(callback, command, None)))
    }
}
