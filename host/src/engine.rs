//! The shared, read-only part: the wasmtime engine, the compiled interpreter and the
//! linker. Cheap to clone; every [`Processor`](crate::Processor) made from it has its own
//! store and shares nothing else.
//!
//! Getting an engine is two steps, so nothing is downloaded or compiled behind a caller's
//! back: [`EngineBuilder::prepare`] installs the pinned interpreter (with pip, hashes
//! checked) and compiles it once per user, reporting each step to a [`Progress`];
//! [`EngineBuilder::open`] only loads what `prepare` left in the cache, and says to run
//! `pyproc setup` when something is missing.

mod guest_runtime;
mod install;
mod interpreter;
mod manifest;
mod module_cache;
mod package_data;
mod packages;
mod progress;
mod ready_snapshot;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::{Config, Linker, Module};

pub use packages::Package;
pub use progress::{Progress, SetupEvent};

use crate::error::{Error, SetupError};
use crate::sandbox::instance::Template;
use crate::sandbox::state::{self, GuestFolders};
use crate::supervise::ticker::EpochTicker;
use interpreter::Interpreter;

/// Native stack for the guest's wasm code. CPython recursion and scipy's imports go deep;
/// the fiber that runs the guest gets this plus room for the host's own frames.
const MAX_WASM_STACK: usize = 4 << 20;
const FIBER_STACK: usize = MAX_WASM_STACK + (2 << 20);

/// The interpreter, compiled and ready to instantiate.
///
/// ```no_run
/// // Once per user (the `pyproc setup` command does the same): download and compile.
/// let engine = pyproc_host::Engine::builder().prepare()?;
/// // Afterwards, anywhere: load what `prepare` cached, in milliseconds, offline.
/// let engine = pyproc_host::Engine::open()?;
/// let p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py").stream(64, 30_000.0).build()?;
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

struct Inner {
    template: Template,
    interpreter: Interpreter,
    packages: Vec<Package>,
}

/// Settings for [`Engine`]; see [`Engine::builder`].
#[derive(Debug)]
pub struct EngineBuilder {
    cache_root: Option<PathBuf>,
    progress: Progress,
    deadlines: bool,
    afresh: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder { cache_root: None, progress: Progress::default(), deadlines: true, afresh: false }
    }
}

/// Whether a step may install and compile what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Prepare,
    Open,
}

impl EngineBuilder {
    /// Where the interpreter and compiled modules are cached (default:
    /// [`Engine::default_cache_root`]).
    pub fn cache_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_root = Some(dir.into());
        self
    }

    /// Receives the set-up steps of [`prepare`](Self::prepare) (download, compile).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Compiles the interpreter without the epoch checks that enforce deadlines, so a
    /// runaway callback blocks its thread for good. Only for measuring what deadlines cost
    /// (the checks slow guest code by 15-35 %, see `engine_config`); this is a
    /// separately compiled and cached module.
    pub fn without_deadlines(mut self) -> Self {
        self.deadlines = false;
        self
    }

    /// With [`prepare`](Self::prepare): delete the installed interpreter and every compiled
    /// module first, and install and compile them again.
    pub fn afresh(mut self) -> Self {
        self.afresh = true;
        self
    }

    /// Installs the interpreter and compiles it if the cache lacks either (minutes, once
    /// per user; each step goes to the [`Progress`]), then loads it.
    pub fn prepare(self) -> Result<Engine, Error> {
        self.build(Mode::Prepare)
    }

    /// Loads the interpreter that [`prepare`](Self::prepare) cached. Never downloads or
    /// compiles: a missing interpreter is [`Error::NotPrepared`].
    pub fn open(self) -> Result<Engine, Error> {
        self.build(Mode::Open)
    }

    fn build(self, mode: Mode) -> Result<Engine, Error> {
        let cache_root = match self.cache_root {
            Some(dir) => dir,
            None => Engine::default_cache_root()?,
        };
        let install_dir = Interpreter::install_dir(&cache_root);
        if self.afresh && mode == Mode::Prepare {
            for dir in [install_dir.clone(), module_cache::dir(&cache_root)] {
                install::remove_dir_all_if_exists(&dir)?;
            }
        }
        if !install_dir.exists() {
            if mode == Mode::Open {
                return Err(Error::NotPrepared { missing: "installed", cache: cache_root });
            }
            self.progress.emit(SetupEvent::InstallingInterpreter { dir: install_dir.clone() });
            install::install(&install_dir, &manifest::Manifest::pinned(), &self.progress)?;
        }
        let interpreter = Interpreter::open(&install_dir)?;
        // An install from an older pyproc lacks these files, or has them made another way.
        if !package_data::is_current(&install_dir, interpreter.manifest()) {
            if mode == Mode::Open {
                return Err(Error::NotPrepared { missing: "installed", cache: cache_root });
            }
            package_data::ensure(&install_dir, interpreter.manifest(), &self.progress)?;
        }
        let packages = package_data::read_packages(&interpreter.stdlib_dir())?;
        let wasmtime = wasmtime::Engine::new(&engine_config(self.deadlines)).map_err(|e| Error::engine("configuring", e))?;
        let folders = GuestFolders { stdlib: interpreter.stdlib_dir(), empty: interpreter.empty_dir() };
        let (module, preinitialized) = load_interpreter(&wasmtime, &interpreter, &folders, &cache_root, &self.progress, mode)?;
        let mut linker = Linker::new(&wasmtime);
        state::add_to_linker(&mut linker, self.deadlines).map_err(|e| Error::engine("linking the interpreter's imports", e))?;
        let instance_pre = linker.instantiate_pre(&module).map_err(|e| Error::engine("linking the interpreter", e))?;
        let first_turn = if preinitialized { guest_runtime::serve_turn().into() } else { guest_runtime::bootstrap_turn().into() };
        let ticker = match self.deadlines {
            true => Some(EpochTicker::start(&wasmtime).map_err(|e| Error::engine("starting the deadline clock's thread", e))?),
            false => None,
        };
        let template = Template { wasmtime, instance_pre, first_turn, ticker, folders };
        Ok(Engine(Arc::new(Inner { template, interpreter, packages })))
    }
}

/// The ready snapshot (numpy, scipy.signal and the guest runtime already imported), built
/// and cached by `prepare`; if it cannot be built, the plain interpreter, which imports
/// them at every start (about a second more per processor). Says which it is.
fn load_interpreter(
    wasmtime: &wasmtime::Engine,
    interpreter: &Interpreter,
    folders: &GuestFolders,
    cache_root: &Path,
    progress: &Progress,
    mode: Mode,
) -> Result<(Module, bool), Error> {
    let not_compiled = || Error::NotPrepared { missing: "compiled", cache: cache_root.to_path_buf() };
    let ready = module_cache::Entry::new(wasmtime, cache_root, "pyproc-ready", &ready_snapshot::key(interpreter));
    // A build that failed once fails again: remember it rather than spend a minute on it at
    // every start (delete the file, or `pyproc setup --force`, to try again).
    let failed = ready.failure_marker();
    if failed.is_file() {
        tracing::warn!("pyproc: not building the pre-initialized interpreter: it failed before (see {})", failed.display());
    } else if mode == Mode::Open {
        return ready.load()?.map(|module| (module, true)).ok_or_else(not_compiled);
    } else {
        let what = interpreter.snapshot_wasm().with_file_name("python-snapshot.wasm + numpy + scipy.signal (pre-initialized)");
        match ready.load_or_build(&what, progress, || ready_snapshot::build(interpreter, folders)) {
            Ok(module) => return Ok((module, true)),
            Err(e) => {
                tracing::warn!("pyproc: no pre-initialized interpreter ({e}); every processor will import numpy and scipy itself");
                let _ = std::fs::create_dir_all(module_cache::dir(cache_root)).and_then(|()| std::fs::write(&failed, e.to_string()));
            }
        }
    }
    let wasm = interpreter.snapshot_wasm();
    let plain = module_cache::Entry::new(wasmtime, cache_root, "python-snapshot", &interpreter.manifest().artifacts.snapshot.sha256);
    let module = match mode {
        Mode::Open => plain.load()?.ok_or_else(not_compiled)?,
        Mode::Prepare => plain.load_or_build(&wasm, progress, || {
            std::fs::read(&wasm).map_err(|e| Error::ModuleCache { action: "read", path: wasm.clone(), message: e.to_string() })
        })?,
    };
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
    // Deadlines: the compiled code compares the engine's epoch with the store's deadline at
    // every function entry and loop header, and yields to the host when a tick of the
    // deadline clock (`supervise/ticker.rs`) has passed; the host then checks the time.
    // Measured as a ratio to native CPython in one run, against a module without checks
    // (`without_deadlines`), epochs cost 14-29 % (pure-Python loop 2.99x vs 2.39x,
    // per-channel `sosfilt` loop at 384 ch 1.95x vs 1.63x, band-pass at 384 ch 1.30x vs
    // 1.04x). Counting fuel, the other way, cost 35-63 % on those Python-heavy blocks
    // (pure-Python loop 3.21x vs epochs 2.83x, per-channel loop 2.09x vs 1.82x in one run):
    // fuel saves and reloads its counter around every call, and interpreted Python is
    // mostly calls. Fuel is cheaper only in tight C loops (the band-pass at 384 ch: fuel
    // +5-8 %, epochs +18-25 %), whose blocks are far inside their time anyway. Checked and
    // left as they are: fuel's slice (a tenth of a millisecond to never between looks: no
    // difference), eager table initialization (`table_lazy_init(false)`: no difference),
    // Cranelift without the table-access Spectre mitigation (no difference, so it stays),
    // Cranelift's intra-module inlining (did not finish compiling in 17 min, 22 GB), and
    // the memory settings (the defaults reserve 4 GiB with guard pages, so no access
    // carries a bounds check).
    config.epoch_interruption(deadlines);
    config
}

impl Engine {
    /// [`EngineBuilder::open`] with the default cache: loads the prepared interpreter.
    pub fn open() -> Result<Engine, Error> {
        Engine::builder().open()
    }

    /// [`EngineBuilder::prepare`] with the default cache, progress logged through `tracing`.
    pub fn prepare() -> Result<Engine, Error> {
        Engine::builder().prepare()
    }

    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The per-user cache root: `PYPROC_CACHE_DIR`, else `$XDG_CACHE_HOME/pyproc`, else
    /// `$HOME/.cache/pyproc`.
    pub fn default_cache_root() -> Result<PathBuf, SetupError> {
        Interpreter::default_cache_root()
    }

    /// Where the pinned interpreter is installed.
    pub fn interpreter_dir(&self) -> &Path {
        self.0.interpreter.dir()
    }

    /// The packages a script can import besides the standard library, sorted by import
    /// name: the pinned wheel's MANIFEST entries whose code is in the interpreter.
    pub fn packages(&self) -> &[Package] {
        &self.0.packages
    }

    /// Whether callbacks are stopped at their deadline (see [`EngineBuilder::without_deadlines`]).
    pub fn enforces_deadlines(&self) -> bool {
        self.0.template.ticker.is_some()
    }

    pub(crate) fn template(&self) -> &Template {
        &self.0.template
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("interpreter", &self.0.interpreter.dir()).finish()
    }
}
