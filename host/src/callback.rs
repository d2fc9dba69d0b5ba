//! The script's entry points, by name: which one ran is part of every error.

use std::fmt;

/// One entry point of a `PyProcessor` script (or its import).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
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
    /// `PyVisualizer.update(published)`, in a viewer (see [`Viewer`](crate::Viewer)).
    Update = 10,
}

impl Callback {
    /// Every entry point, in code order.
    pub const ALL: [Callback; 10] = {
        use Callback::*;
        [Import, Init, Process, HandleTtlEvent, HandleSpike, StartAcquisition, StopAcquisition, StartRecording, StopRecording, Update]
    };

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
            Callback::Update => "update",
        }
    }

    /// The code that names this entry point on the wire (see `wire/layout.rs`).
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<Callback> {
        Callback::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl fmt::Display for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.python_name())
    }
}
