//! pyproc-host: runs Open Ephys `PyProcessor` scripts, each in its own WebAssembly sandbox.
//!
//! The interpreter is the pinned WASI build of CPython 3.15 with numpy and scipy
//! (`python-wasi/manifest.toml`), run by wasmtime 48 through `wasmtime-wasi`'s preview 1.
//! Every [`Processor`] has its own `Store`: two processors share no Python state and can
//! run on two threads at once.
//!
//! What this crate is not: it does not read recordings, cut spike waveforms or draw
//! progress bars (that is the `pyproc` CLI), and it holds no C++ (that is `shim-cpp`).
//!
//! ```no_run
//! use ndarray::Array2;
//! use pyproc_host::{Engine, Processed, Processor};
//!
//! let engine = Engine::prepare()?; // first use: fetches and compiles the interpreter
//! let mut bandpass = Processor::builder(&engine, "examples/bandpass_filter.py").stream(64, 30_000.0).build()?;
//! let mut block = Array2::<f32>::zeros((64, 1024));
//! match bandpass.process(block.view_mut(), 0)? {
//!     Processed::Done(emitted) => assert!(emitted.events.is_empty() && emitted.spikes.is_empty()),
//!     Processed::PassedThrough(why) => eprintln!("block untouched: {why}"),
//! }
//! # Ok::<(), pyproc_host::Error>(())
//! ```
//!
//! # Which type is for what
//!
//! - Setting up: [`Engine`] (from [`EngineBuilder::prepare`] once, [`Engine::open`] after),
//!   [`Processor::builder`] / [`Processor::builder_for_source`] → [`ProcessorBuilder`],
//!   with [`Limits`], an [`OutputSink`] for what the script prints, and [`Grants`] for
//!   what of the host it may reach ([`PathGrant`], [`NetGrant`]).
//!   [`Engine::packages`] lists the [`Package`]s a script can import.
//! - Per block: [`Processor::process`] → [`Processed`]: `Done` with the [`Emitted`] TTL
//!   events ([`TtlEvent`]) and spikes ([`SpikeOut`]), or `PassedThrough` with the
//!   [`PassThrough`] reason. Events and spikes going *to* the script are [`TtlEventIn`] and
//!   [`SpikeIn`].
//! - Plots: [`Processor::published`] → [`Published`], the latest value per name the
//!   script published ([`PublishedValue`]); [`ProcessorBuilder::build_viewer`] →
//!   [`Viewer`], the script's `PyVisualizer` in a second interpreter, drawing them into a
//!   [`Frame`] of RGBA pixels; [`ViewerThread`] runs it off the block path.
//! - All cores: [`ProcessorBuilder::sharded`] → [`ShardedBuilder`] → [`ShardedProcessor`],
//!   a script that declares `channel_independent = True` run as several processors over
//!   [`ChannelGroups`] of the channels, in parallel; its `process` gives
//!   [`ShardedProcessed`].
//! - Failures: [`Error`]; a script's exception is [`Error::Python`] carrying a
//!   [`PythonException`] (type, message, [`TracebackFrame`]s). What the script tried to
//!   reach without a grant: [`Processor::denials`] → [`Denials`] ([`Denial`]). [`CancelHandle`] stops a
//!   running callback from another thread; [`Status`] and [`Stats`] say how a processor
//!   fares.
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

mod callback;
mod denied;
mod engine;
mod error;
mod events;
mod grants;
mod net;
mod outcome;
mod processor;
mod published;
mod python_exception;
mod sandbox;
mod shards;
mod supervise;
mod viewer;
mod wire;

pub use callback::Callback;
pub use engine::{Engine, EngineBuilder, Package, Progress, SetupEvent};
pub use denied::{Denial, DenialLog, Denials, KEPT_DENIALS};
pub use error::{Error, Result, SetupError};
pub use events::{Emitted, SpikeIn, SpikeOut, TtlEvent, TtlEventIn, SPIKE_PRE_SAMPLES, SPIKE_SAMPLES};
pub use grants::{guest_path, Access, Grants, NetGrant, PathGrant};
pub use outcome::{PassThrough, Processed};
pub use processor::{Processor, ProcessorBuilder, Session, Stats, StreamInfo};
pub use published::{Dtype, Published, PublishedValue, PUBLISH_MAX_BYTES, PUBLISH_MAX_DIMS, PUBLISH_MAX_NAMES, PUBLISH_MAX_NAME_BYTES};
pub use python_exception::{PythonException, TracebackFrame};
pub use shards::{default_shards, ChannelGroups, ShardedBuilder, ShardedProcessed, ShardedProcessor};
pub use supervise::cancel::CancelHandle;
pub use supervise::limits::Limits;
pub use supervise::recovery::Status;
pub use viewer::{Frame, Rendered, Viewer, ViewerThread, FIGURE};
pub use wire::output::{OutputLine, OutputSink, OutputStream};
