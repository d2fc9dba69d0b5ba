//! pyproc-host: runs Open Ephys `PyProcessor` scripts, each in its own WebAssembly sandbox.
//!
//! The interpreter is the pinned WASI build of CPython 3.15 with numpy and scipy
//! (`python-wasi/manifest.toml`), run by wasmtime 48 through `wasmtime-wasi`'s preview 1
//! (`wasi-common`, the older WASI crate, has no release for wasmtime 48). Every
//! [`Processor`] has its own `Store`: two processors share no Python state and can run on
//! two threads at once.
//!
//! What this crate is not: it does not read recordings or draw progress bars (that is the
//! `pyproc` CLI), and it holds no C++ (that is `shim-cpp`).
//!
//! ```no_run
//! use ndarray::Array2;
//! use pyproc_host::{Engine, Processor};
//!
//! let engine = Engine::new()?; // first use: fetches and compiles the interpreter
//! let mut bandpass = Processor::builder(&engine, "examples/bandpass_filter.py").stream(64, 30_000.0).build()?;
//! let mut block = Array2::<f32>::zeros((64, 1024));
//! let emitted = bandpass.process(block.view_mut(), 0)?;
//! assert!(emitted.events.is_empty() && emitted.spikes.is_empty());
//! # Ok::<(), pyproc_host::Error>(())
//! ```
//!
//! How data crosses into the guest is written down in `guest-runtime/README.md`.
//!
//! # Determinism
//!
//! The same script on the same input gives byte-identical output, run after run, with one
//! processor or many, on one thread or several. Each processor's random state (WASI's
//! random source, `random` and numpy's global generator, reseeded at every load) comes
//! from [`ProcessorBuilder::seed`] (default 0) and its label: same seed and label, same
//! numbers; another label, other numbers. The interpreter's string-hash seed is fixed in
//! the pinned snapshot and the same everywhere.

mod buffer;
mod callback;
mod door;
mod engine;
mod error;
mod events;
mod frame;
mod guest;
mod guest_output;
mod instance;
pub mod interpreter;
mod limits;
mod module_cache;
mod processor;
mod processor_builder;
mod progress;
mod ready_snapshot;
mod recording_gate;
mod recording_paths;
mod recovery;
mod seed;
mod spike_cut;

pub use callback::Callback;
pub use engine::{Engine, EngineBuilder};
pub use error::{Error, Result, SetupError};
pub use events::{Emitted, SpikeIn, SpikeOut, TtlEvent, TtlEventIn, SPIKE_PRE_SAMPLES, SPIKE_SAMPLES};
pub use spike_cut::{CutSpike, SpikeCutter};
pub use frame::FrameError;
pub use guest_output::{OutputLine, OutputSink, Stream};
pub use limits::Limits;
pub use processor::{Processor, Stats, StreamInfo};
pub use processor_builder::ProcessorBuilder;
pub use recovery::Status;
pub use progress::{Progress, SetupEvent};
