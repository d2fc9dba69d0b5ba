//! The script's entry points, by name: which one ran is part of every error.

use std::fmt;

/// One entry point of a `PyProcessor` script (or its import).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Callback {
    /// Executing the script's module body (imports, class definitions).
    Import = 1,
    /// `PyProcessor.__init__(processor, num_channels, sample_rate)`.
    Init = 2,
    Process = 3,
    HandleTtlEvent = 4,
    HandleSpike = 5,
    StartAcquisition = 6,
    StopAcquisition = 7,
    StartRecording = 8,
    StopRecording = 9,
}

impl Callback {
    /// The name as the script spells it.
    pub fn python_name(self) -> &'static str {
        match self {
            Callback::Import => "import",
            Callback::Init => "__init__",
            Callback::Process => "process",
            Callback::HandleTtlEvent => "handle_ttl_event",
            Callback::HandleSpike => "handle_spike",
            Callback::StartAcquisition => "start_acquisition",
            Callback::StopAcquisition => "stop_acquisition",
            Callback::StartRecording => "start_recording",
            Callback::StopRecording => "stop_recording",
        }
    }

    pub(crate) fn from_wire(code: u8) -> Option<Callback> {
        use Callback::*;
        [Import, Init, Process, HandleTtlEvent, HandleSpike, StartAcquisition, StopAcquisition, StartRecording, StopRecording]
            .into_iter()
            .find(|c| *c as u8 == code)
    }
}

impl fmt::Display for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.python_name())
    }
}
