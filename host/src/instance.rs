//! One isolated interpreter: its `Store`, and the long-running guest turn that serves
//! commands, driven as a future on the caller's thread.
//!
//! The turn's future owns the store, so nothing borrows across calls: each command is put
//! in the [`Mailbox`] and the future is polled once with a no-op waker. The guest runs until
//! it waits at the door for the next command (the future is `Pending` again) or stops for
//! good (the future is `Ready`: a trap, or the loop ended).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::buffer::RawBlock;
use crate::door::{DoorState, Mailbox, Outcome};
use crate::engine::Engine;
use crate::error::Error;
use crate::frame::Command;
use crate::guest;
use crate::guest_output::{LineSplitter, OutputSink};
use crate::interpreter::STDLIB_GUEST_DIR;

/// What the store holds.
pub(crate) struct HostState {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
    pub door: DoorState,
}

impl HostState {
    pub fn wasi(&mut self) -> &mut WasiP1Ctx {
        &mut self.wasi
    }
}

/// Bytes of the interpreter's own stderr kept for error reports (output before the
/// runtime takes over `sys.stderr`, and the last words of a dying turn).
const STDERR_CAPTURE_BYTES: usize = 64 * 1024;

/// Per-instance settings.
#[derive(Debug, Clone)]
pub(crate) struct InstanceConfig {
    pub label: String,
    pub output: OutputSink,
    pub memory_limit_bytes: usize,
    /// Host directories visible read-write at their own paths.
    pub writable_dirs: Vec<PathBuf>,
}

type Turn = Pin<Box<dyn Future<Output = wasmtime::Result<i32>> + Send>>;

/// A live interpreter serving commands.
pub(crate) struct GuestInstance {
    turn: Option<Turn>,
    mailbox: Arc<Mailbox>,
    stderr: MemoryOutputPipe,
}

/// The instance stopped for good; `reason` says how.
#[derive(Debug)]
pub(crate) struct Died {
    pub reason: String,
}

impl GuestInstance {
    /// Instantiates the interpreter and runs the guest runtime up to its first wait.
    pub fn start(engine: &Engine, config: &InstanceConfig) -> Result<GuestInstance, Error> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(MemoryOutputPipe::new(STDERR_CAPTURE_BYTES)).stderr(stderr.clone()).arg("pyproc");
        wasi.allow_blocking_current_thread(true);
        let stdlib = engine.interpreter().stdlib_dir();
        wasi.preopened_dir(&stdlib, STDLIB_GUEST_DIR, FsPerms::ReadOnly)
            .map_err(|e| Error::engine("opening the stdlib directory", e))?;
        for dir in &config.writable_dirs {
            let guest = dir.to_str().ok_or_else(|| Error::engine("granting a directory", format!("{} is not UTF-8", dir.display())))?;
            wasi.preopened_dir(dir, guest, FsPerms::ReadWrite).map_err(|e| Error::engine("granting a directory", e))?;
        }
        let mailbox = Arc::new(Mailbox::default());
        let state = HostState {
            wasi: wasi.build_p1(),
            limits: StoreLimitsBuilder::new().memory_size(config.memory_limit_bytes).build(),
            door: DoorState {
                mailbox: mailbox.clone(),
                memory: None,
                host_alloc: None,
                command_area: None,
                output: LineSplitter::new(config.label.clone(), config.output.clone()),
            },
        };
        let mut store = Store::new(engine.wasmtime(), state);
        store.limiter(|s| &mut s.limits);
        let pre = engine.instance_pre().clone();
        let bootstrap = guest::bootstrap_turn();
        let turn: Turn = Box::pin(async move {
            let instance = pre.instantiate_async(&mut store).await?;
            let memory = instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| wasmtime::format_err!("the interpreter exports no memory"))?;
            let host_alloc = instance.get_typed_func::<u32, u32>(&mut store, "host_alloc")?;
            let turn = instance.get_typed_func::<(u32, u32), i32>(&mut store, "turn")?;
            store.data_mut().door.memory = Some(memory);
            store.data_mut().door.host_alloc = Some(host_alloc.clone());
            let len = u32::try_from(bootstrap.len())?;
            let ptr = host_alloc.call_async(&mut store, len).await?;
            memory.write(&mut store, ptr as usize, bootstrap.as_bytes())?;
            turn.call_async(&mut store, (ptr, len)).await
        });
        let mut instance = GuestInstance { turn: Some(turn), mailbox, stderr };
        match instance.poll() {
            Ok(()) if matches!(instance.mailbox.lock().outcome.take(), Some(Outcome::Done)) => Ok(instance),
            Ok(()) => Err(Error::engine("starting the guest runtime", "it did not report ready")),
            Err(died) => Err(Error::engine("starting the guest runtime", died.reason)),
        }
    }

    /// Hands `command` (and, for `Process`, the caller's block) to the guest and runs it
    /// until it waits for the next command.
    pub fn run(&mut self, command: Command, block: Option<RawBlock>) -> Result<Outcome, Died> {
        {
            let mut slot = self.mailbox.lock();
            slot.command = Some(command);
            slot.block = block;
            slot.outcome = None;
        }
        let polled = self.poll();
        let outcome = {
            let mut slot = self.mailbox.lock();
            // Never keep the caller's block past this call, whatever happened.
            slot.block = None;
            slot.command = None;
            slot.outcome.take()
        };
        polled?;
        outcome.ok_or_else(|| self.kill("the guest waited at the door without answering the command"))
    }

    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    fn poll(&mut self) -> Result<(), Died> {
        let Some(turn) = self.turn.as_mut() else {
            return Err(Died { reason: "it had already stopped".into() });
        };
        let mut cx = Context::from_waker(Waker::noop());
        match turn.as_mut().poll(&mut cx) {
            Poll::Pending => Ok(()),
            Poll::Ready(result) => {
                self.turn = None;
                let reason = match result {
                    Ok(0) => "the guest runtime's loop ended".to_owned(),
                    Ok(code) => format!("the guest runtime's turn returned {code}"),
                    Err(e) => match e.downcast_ref::<wasmtime::Trap>() {
                        Some(trap) => format!("trap: {trap}"),
                        None => format!("{e:#}"),
                    },
                };
                Err(self.died(reason))
            }
        }
    }

    fn kill(&mut self, reason: &str) -> Died {
        self.turn = None;
        self.died(reason.to_owned())
    }

    fn died(&self, mut reason: String) -> Died {
        let stderr = self.stderr.contents();
        if !stderr.is_empty() {
            reason.push_str("\ninterpreter stderr:\n");
            reason.push_str(String::from_utf8_lossy(&stderr).trim_end());
        }
        Died { reason }
    }

    /// Ends the guest's loop so the store is dropped at rest, not mid-call.
    pub fn quit(&mut self) {
        if self.turn.is_some() {
            let _ = self.run(Command::Quit, None);
            self.turn = None;
        }
    }
}

impl Drop for GuestInstance {
    fn drop(&mut self) {
        self.quit();
    }
}
