//! Plots: the script's `PyVisualizer` drawing what its `PyProcessor` published, in a
//! second interpreter on a thread of the handle's own, for the host to show.
//!
//! Three threads take part and none waits for another: the real-time thread hands the
//! latest values over at most `per_second` times a second ([`feed`]: try-lock, reused
//! storage, no allocation), the viewer's thread draws them ([`worker`]), and the host's
//! message thread copies the latest frame out ([`latest`]). A viewer that fails or is slow
//! costs blocks nothing: its error is kept for the host to show, and values it had no time
//! for are skipped. The viewer starts only when the host first asks for a frame, so a
//! host that shows no plots never runs the second interpreter.

mod feed;
mod latest;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use pyproc_host::{Engine, ProcessorBuilder, ShardedProcessor};

use crate::control::Control;
use crate::ffi::{PlotFrame, PlotStatus};
use crate::locks::lock;
use feed::Feed;
use latest::Latest;

/// What a viewer is built from: the processor's settings, and its script's path (read to
/// see whether it names a `PyVisualizer` at all).
pub struct Spec {
    pub builder: ProcessorBuilder,
    pub script: String,
}

impl Spec {
    /// The viewer of the processor `control` builds (None when its grants cannot be given,
    /// which building the processor has reported already).
    pub fn of(control: &Control, engine: &Engine) -> Option<Spec> {
        let builder = control.builder(engine, true).ok()?;
        Some(Spec { builder, script: control.script.clone() })
    }
}

struct Shared {
    feed: Feed,
    latest: Latest,
    /// The viewer to build next (the script was loaded, reloaded or given a new stream).
    pending: Mutex<Option<Spec>>,
    /// The host has asked for a frame.
    wanted: AtomicBool,
    stop: AtomicBool,
}

pub struct Plots {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Plots {
    /// Starts the viewer's thread (idle until the host asks for frames).
    pub fn start() -> std::io::Result<Plots> {
        let shared = Arc::new(Shared {
            feed: Feed::new(),
            latest: Latest::new(),
            pending: Mutex::new(None),
            wanted: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("pyproc-plots".into()).spawn(move || worker::serve(&worker))?;
        let _ = shared.feed.viewer.set(thread.thread().clone());
        Ok(Plots { shared, thread: Some(thread) })
    }

    /// Control thread: the next viewer is built from `spec` (replacing the running one).
    pub fn rebuild(&self, spec: Option<Spec>) {
        if let Some(spec) = spec {
            *lock(&self.shared.pending) = Some(spec);
            self.wake();
        }
    }

    /// Real-time thread, after a block; see [`Feed::offer`].
    pub fn offer(&self, live: &ShardedProcessor) {
        self.shared.feed.offer(live);
    }

    pub fn set_per_second(&self, per_second: f64) {
        self.shared.feed.set_per_second(per_second);
    }

    /// Message thread: the latest frame into `out` when it is not the one `out` holds.
    /// The first call starts the viewer.
    pub fn latest_frame(&self, out: &mut PlotFrame) -> bool {
        self.want();
        self.shared.latest.copy_into(out)
    }

    /// The viewer's state, the number of its latest frame, and its last error. The first
    /// call starts the viewer.
    pub fn status(&self) -> PlotStatus {
        self.want();
        self.shared.latest.status()
    }

    fn want(&self) {
        if !self.shared.wanted.swap(true, Ordering::AcqRel) {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

impl Drop for Plots {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
