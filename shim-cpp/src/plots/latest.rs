//! [`Latest`]: what the viewer's thread last made of the script's `PyVisualizer` (its
//! state, latest frame and error), kept for the host's message thread to copy out. The
//! viewer's thread holds the lock only to put a finished frame in; the real-time thread
//! never touches it.

use std::sync::Mutex;

use pyproc_host::{Error, Frame};

use crate::error_report::{no_error, report};
use crate::ffi::{ErrorReport, PlotFrame, PlotState, PlotStatus};
use crate::locks::lock;

pub struct Latest(Mutex<Inner>);

struct Inner {
    state: PlotState,
    frame: Option<Frame>,
    /// Frames drawn so far; the number of `frame`.
    frames: u64,
    error: ErrorReport,
    errors: u64,
}

impl Latest {
    pub fn new() -> Self {
        Latest(Mutex::new(Inner { state: PlotState::Off, frame: None, frames: 0, error: no_error(), errors: 0 }))
    }

    /// A viewer is being started (the previous one's frame is gone) or there is none.
    pub fn set_state(&self, state: PlotState) {
        let mut inner = lock(&self.0);
        inner.state = state;
        if state != PlotState::Drawing {
            inner.frame = None;
        }
        if matches!(state, PlotState::Starting | PlotState::NoVisualizer) {
            inner.error = no_error();
        }
    }

    /// `update` drew a new figure.
    pub fn frame(&self, frame: Frame) {
        let mut inner = lock(&self.0);
        inner.frames += 1;
        inner.frame = Some(frame);
        inner.state = PlotState::Drawing;
        inner.error = no_error();
    }

    /// `update` returned None (the figure stands) after a failure, maybe.
    pub fn unchanged(&self) {
        let mut inner = lock(&self.0);
        inner.state = PlotState::Drawing;
        inner.error = no_error();
    }

    /// Starting the viewer or its `update` failed: the last frame stays, with the error.
    pub fn failed(&self, error: &Error) {
        let mut inner = lock(&self.0);
        inner.errors += 1;
        inner.error = report(error, inner.errors);
        inner.state = PlotState::Failed;
    }

    pub fn status(&self) -> PlotStatus {
        let inner = lock(&self.0);
        PlotStatus { state: inner.state, frames: inner.frames, error: inner.error.clone() }
    }

    /// Copies the latest frame into `out` unless `out` holds it already (same number);
    /// reuses `out.rgba`'s storage.
    pub fn copy_into(&self, out: &mut PlotFrame) -> bool {
        let inner = lock(&self.0);
        let Some(frame) = &inner.frame else { return false };
        if out.number == inner.frames {
            return false;
        }
        out.number = inner.frames;
        out.width = frame.width;
        out.height = frame.height;
        out.sample_number = frame.sample_number;
        out.rgba.clear();
        out.rgba.extend_from_slice(&frame.rgba);
        true
    }
}
