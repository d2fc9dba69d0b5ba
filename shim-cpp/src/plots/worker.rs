//! The viewer's thread: starts the script's `PyVisualizer` in an interpreter of its own
//! once the host asks for frames, and draws the values the real-time thread offered
//! whenever new ones arrive. Everything slow about plots happens here: the interpreter's
//! start, `update`, matplotlib's drawing, the restart of a failed viewer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pyproc_host::{Published, Viewer};

use super::Shared;
use crate::ffi::PlotState;
use crate::locks::lock;

/// How long the thread sleeps when nobody wakes it (it also wakes for new values, for a
/// rebuild and for shutdown).
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// What the exception says when the script defines no `PyVisualizer`
/// (guest-runtime/_pyproc_viewer.py).
const NO_VISUALIZER: &str = "defines no class PyVisualizer";

pub fn serve(shared: &Shared) {
    let mut viewer: Option<Viewer> = None;
    let mut values = Published::default();
    while !shared.stop.load(Ordering::Acquire) {
        if shared.wanted.load(Ordering::Acquire) {
            if let Some(spec) = lock(&shared.pending).take() {
                shared.feed.set_active(false);
                // The old interpreter goes first: two at once would double the memory.
                drop(viewer.take());
                viewer = start(shared, spec);
                shared.feed.set_active(viewer.is_some());
            }
            if let Some(viewer) = viewer.as_mut() {
                if shared.feed.take_into(&mut values) {
                    draw(shared, viewer, &mut values);
                }
            }
        }
        std::thread::park_timeout(IDLE_WAIT);
    }
}

fn start(shared: &Shared, spec: super::Spec) -> Option<Viewer> {
    // A script that never names the class gets no second interpreter at all.
    let names_it = std::fs::read_to_string(&spec.script).map_or(true, |source| source.contains("PyVisualizer"));
    if !names_it {
        shared.latest.set_state(PlotState::NoVisualizer);
        return None;
    }
    shared.latest.set_state(PlotState::Starting);
    match spec.builder.build_viewer() {
        Ok(viewer) => {
            shared.latest.set_state(PlotState::Drawing);
            Some(viewer)
        }
        Err(error) if error.to_string().contains(NO_VISUALIZER) => {
            shared.latest.set_state(PlotState::NoVisualizer);
            None
        }
        Err(error) => {
            shared.latest.failed(&error);
            None
        }
    }
}

fn draw(shared: &Shared, viewer: &mut Viewer, values: &mut Published) {
    let offered = Arc::new(std::mem::take(values));
    let drawn = viewer.render_shared(Arc::clone(&offered));
    // The storage goes back to the feed at the next swap (see feed.rs).
    *values = Arc::try_unwrap(offered).unwrap_or_default();
    match drawn {
        Ok(Some(frame)) => shared.latest.frame(frame),
        Ok(None) => shared.latest.unchanged(),
        Err(error) => shared.latest.failed(&error),
    }
}
