//! A pre-initialized interpreter: the pinned snapshot module after it has imported numpy,
//! scipy.signal and the guest runtime, captured with `wasmtime-wizer`.
//!
//! Importing those takes about 1.3 s per interpreter; starting from this snapshot takes
//! milliseconds and shares the imported modules' memory between instances (copy-on-write).
//! It is built once per user, by `EngineBuilder::prepare`, and cached beside the compiled
//! module (see `engine.rs`).
//!
//! The module exports no init function, so wizer's manual path is used: instrument the
//! module, instantiate it with WASI (stdlib preopened exactly as at run time, fd 3), run one
//! setup `turn` that returns, and snapshot memory and globals. No file stays open across
//! the snapshot (the stdlib zip is read per import).
//!
//! A snapshot freezes state: the string-hash seed (already fixed in the pinned module) and
//! numpy's global generator, which the guest reseeds for each script from the instance's
//! own seed (see the sandbox's `seed.rs`).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sha2::{Digest, Sha256};
use wasmtime::{Config, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wizer::{WasmtimeWizer, Wizer};

use crate::engine::guest_runtime;
use crate::engine::interpreter::Interpreter;
use crate::error::Error;
use crate::sandbox::preopens;
use crate::sandbox::state::GuestFolders;

/// Bumped whenever the way the snapshot is made changes.
const RECIPE: &str = "pyproc-ready-3 wasmtime-wizer-48.0.8 recording-roots-4 slash";

/// What the ready snapshot depends on besides the engine: the interpreter, the guest
/// runtime and the setup turn. Part of its cache file name.
pub(crate) fn key(interpreter: &Interpreter) -> String {
    let mut hasher = Sha256::new();
    hasher.update(RECIPE);
    hasher.update(&interpreter.manifest().artifacts.snapshot.sha256);
    hasher.update(guest_runtime::setup_turn());
    hex::encode(hasher.finalize())
}

/// Builds the pre-initialized module's bytes (about 20 s on 2 cores, most of it compiling
/// the instrumented module once, unoptimized).
pub(crate) fn build(interpreter: &Interpreter, folders: &GuestFolders) -> Result<Vec<u8>, Error> {
    let fail = |action: &'static str| move |e: wasmtime::Error| Error::engine(action, format!("{e:#}"));
    let wasm = std::fs::read(interpreter.snapshot_wasm())
        .map_err(|e| Error::engine("reading the interpreter for the ready snapshot", e))?;
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer.instrument(&wasm).map_err(fail("instrumenting the interpreter"))?;

    // Runs once: compile for speed of compiling, not of running.
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    config.max_wasm_stack(4 << 20);
    config.async_stack_size(6 << 20); // must not be below the wasm stack
    let engine = wasmtime::Engine::new(&config).map_err(fail("configuring the snapshot engine"))?;
    let module = Module::new(&engine, &instrumented).map_err(fail("compiling the instrumented interpreter"))?;
    drop(instrumented);

    let stderr = MemoryOutputPipe::new(64 * 1024);
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stderr.clone()).stderr(stderr.clone()).arg("pyproc");
    wasi.allow_blocking_current_thread(true);
    // The same folders, in the same order, as every instance (none granted here).
    preopens::preopen(&mut wasi, folders, &[], &[])?;
    let mut store = Store::new(&engine, wasi.build_p1());
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).map_err(fail("linking WASI"))?;
    // The setup turn never knocks on the door; the import must still be there.
    linker
        .func_wrap("host", "call", |_: i32, _: i32, _: i32, _: i32| -> i32 { -1 })
        .map_err(fail("linking the door"))?;
    let instance = linker.instantiate(&mut store, &module).map_err(fail("instantiating the interpreter"))?;

    let source = guest_runtime::setup_turn();
    let host_alloc = instance.get_typed_func::<u32, u32>(&mut store, "host_alloc").map_err(fail("finding host_alloc"))?;
    let turn = instance.get_typed_func::<(u32, u32), i32>(&mut store, "turn").map_err(fail("finding turn"))?;
    let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| Error::engine("finding memory", "no export"))?;
    let len = source.len() as u32;
    let ptr = host_alloc.call(&mut store, len).map_err(fail("allocating the setup turn"))?;
    memory.write(&mut store, ptr as usize, source.as_bytes()).map_err(|e| Error::engine("writing the setup turn", e))?;
    let status = turn.call(&mut store, (ptr, len)).map_err(fail("running the setup turn"))?;
    if status != 0 {
        let said = String::from_utf8_lossy(&stderr.contents()).into_owned();
        return Err(Error::engine("importing numpy and scipy.signal for the ready snapshot", format!("turn returned {status}:\n{said}")));
    }
    let mut state = WasmtimeWizer { store: &mut store, instance };
    now(wizer.snapshot(&cx, &mut state)).map_err(fail("snapshotting the interpreter"))
}

/// Wizer's snapshot is async only in name with a wasmtime store: it never waits.
fn now<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}
