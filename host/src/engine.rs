//! The shared, read-only part: the wasmtime engine, the compiled interpreter and the
//! linker. Cheap to clone; every [`Processor`](crate::Processor) made from it has its own
//! store and shares nothing else.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::{Config, InstancePre, Linker, Module};

use crate::door;
use crate::error::Error;
use crate::instance::HostState;
use crate::interpreter::Interpreter;
use crate::guest;
use crate::module_cache;
use crate::ready_snapshot;
use crate::recording_gate;
use crate::progress::Progress;

/// Native stack for the guest's wasm code. CPython recursion and scipy's imports go deep;
/// the fiber that runs the guest gets this plus room for the host's own frames.
const MAX_WASM_STACK: usize = 4 << 20;
const FIBER_STACK: usize = MAX_WASM_STACK + (2 << 20);

/// The interpreter, compiled and ready to instantiate.
///
/// ```no_run
/// let engine = pyproc_host::Engine::new()?;            // installs/compiles once per user
/// let mut p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py")
///     .stream(64, 30_000.0)
///     .build()?;
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

struct Inner {
    wasmtime: wasmtime::Engine,
    interpreter: Interpreter,
    instance_pre: InstancePre<HostState>,
    /// The module is the ready snapshot: the guest runtime is already defined in it.
    preinitialized: bool,
    /// The compiled code counts fuel, so callbacks can be stopped at their deadline.
    deadlines: bool,
}

/// Settings for [`Engine`]; see [`Engine::builder`].
#[derive(Debug)]
pub struct EngineBuilder {
    cache_root: Option<PathBuf>,
    progress: Progress,
    deadlines: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder { cache_root: None, progress: Progress::default(), deadlines: true }
    }
}

impl EngineBuilder {
    /// Where the interpreter and compiled modules are cached (default:
    /// [`Interpreter::default_cache_root`]).
    pub fn cache_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_root = Some(dir.into());
        self
    }

    /// Receives the one-time set-up steps (download, compile).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Compiles the interpreter without the fuel counting that enforces deadlines, so a
    /// runaway callback blocks its thread for good. Only for measuring what deadlines cost
    /// (the counting slows guest code by 5-10 %); this is a separately compiled and cached
    /// module.
    pub fn without_deadlines(mut self) -> Self {
        self.deadlines = false;
        self
    }

    /// Installs the interpreter if needed, then loads (or compiles) it.
    pub fn build(self) -> Result<Engine, Error> {
        let cache_root = match self.cache_root {
            Some(dir) => dir,
            None => Interpreter::default_cache_root()?,
        };
        let interpreter = Interpreter::ensure(&cache_root, &self.progress)?;
        let wasmtime = wasmtime::Engine::new(&engine_config(self.deadlines)).map_err(|e| Error::engine("configuring", e))?;
        let (module, preinitialized) = load_interpreter(&wasmtime, &interpreter, &cache_root, &self.progress)?;
        let mut linker = Linker::new(&wasmtime);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, HostState::wasi).map_err(|e| Error::engine("linking WASI", e))?;
        recording_gate::add_to_linker(&mut linker).map_err(|e| Error::engine("linking the recording gate", e))?;
        door::add_to_linker(&mut linker).map_err(|e| Error::engine("linking the door", e))?;
        let instance_pre = linker.instantiate_pre(&module).map_err(|e| Error::engine("linking the interpreter", e))?;
        Ok(Engine(Arc::new(Inner { wasmtime, interpreter, instance_pre, preinitialized, deadlines: self.deadlines })))
    }
}

/// The ready snapshot (numpy, scipy.signal and the guest runtime already imported), built
/// and cached on first use; if it cannot be built, the plain interpreter, which imports
/// them at every start (about a second more per processor). Says which it is.
fn load_interpreter(wasmtime: &wasmtime::Engine, interpreter: &Interpreter, cache_root: &std::path::Path, progress: &Progress) -> Result<(Module, bool), Error> {
    let what = interpreter.snapshot_wasm().with_file_name("python-snapshot.wasm + numpy + scipy.signal (pre-initialized)");
    let key = ready_snapshot::key(interpreter);
    // A build that failed once fails again: remember it rather than spend a minute on it at
    // every start (delete the file, or `pyproc setup --force`, to try again).
    let failed = cache_root.join("compiled").join(format!("pyproc-ready-{}.failed", &key[..16]));
    if failed.is_file() {
        tracing::warn!("pyproc: not building the pre-initialized interpreter: it failed before (see {})", failed.display());
    } else {
        match module_cache::load_or_build(wasmtime, cache_root, "pyproc-ready", &key, &what, progress, || ready_snapshot::build(interpreter)) {
            Ok(module) => return Ok((module, true)),
            Err(e) => {
                tracing::warn!("pyproc: no pre-initialized interpreter ({e}); every processor will import numpy and scipy itself");
                let _ = std::fs::create_dir_all(cache_root.join("compiled")).and_then(|()| std::fs::write(&failed, e.to_string()));
            }
        }
    }
    let snapshot = &interpreter.manifest().artifacts.snapshot;
    let module = module_cache::load_or_compile(wasmtime, &interpreter.snapshot_wasm(), &snapshot.sha256, cache_root, progress)?;
    Ok((module, false))
}

/// Every setting that shapes the compiled code lives here, so the module cache key (which
/// hashes them) changes whenever this does.
fn engine_config(deadlines: bool) -> Config {
    let mut config = Config::new();
    config.wasm_exceptions(true); // the interpreter is built with wasm exception handling
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.max_wasm_stack(MAX_WASM_STACK);
    config.async_stack_size(FIBER_STACK);
    // Deadlines: the compiled code counts fuel and yields to the host every
    // `limits::FUEL_SLICE` units, where the clock is checked (see `instance.rs`). Measured
    // on the band-pass example, this costs 5-10 %; wasmtime's epoch interruption, the other
    // way to stop a running guest, cost about 20 %, since it loads and compares the epoch
    // at every loop header (in scipy's `sosfilt`, once per filter section and sample).
    config.consume_fuel(deadlines);
    config
}

impl Engine {
    /// An engine with the default cache location and progress logged through `tracing`.
    pub fn new() -> Result<Engine, Error> {
        Engine::builder().build()
    }

    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    pub fn interpreter(&self) -> &Interpreter {
        &self.0.interpreter
    }

    pub(crate) fn wasmtime(&self) -> &wasmtime::Engine {
        &self.0.wasmtime
    }

    /// Whether callbacks are stopped at their deadline (see [`EngineBuilder::without_deadlines`]).
    pub fn enforces_deadlines(&self) -> bool {
        self.0.deadlines
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        &self.0.instance_pre
    }

    /// The source of an instance's one long turn.
    pub(crate) fn first_turn(&self) -> std::borrow::Cow<'static, str> {
        if self.0.preinitialized {
            guest::serve_turn().into()
        } else {
            guest::bootstrap_turn().into()
        }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("interpreter", &self.0.interpreter.dir()).finish()
    }
}
