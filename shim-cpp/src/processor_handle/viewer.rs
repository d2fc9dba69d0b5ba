//! The handle's plots calls (see [`crate::plots`]): message-thread readers of what the
//! script's `PyVisualizer` drew.

use super::ProcessorHandle;
use crate::ffi::{PlotFrame, PlotStatus};

impl ProcessorHandle {
    pub fn latest_frame(&self, frame: &mut PlotFrame) -> bool {
        self.shared.plots.latest_frame(frame)
    }

    pub fn plot_status(&self) -> PlotStatus {
        self.shared.plots.status()
    }

    pub fn set_plots_per_second(&self, per_second: f64) {
        self.shared.plots.set_per_second(per_second);
    }
}
