//! One isolated interpreter: its `Store`, and the long-running guest turn that serves
//! commands, driven as a future on the caller's thread.
//!
//! The turn's future owns the store, so nothing borrows across calls: each command is put
//! in the [`Mailbox`] and the future is polled with a no-op waker until the guest answers
//! and waits at the door for the next command, or stops for good (the future is `Ready`: a
//! trap, or the loop ended). The guest also comes back `Pending` every
//! [`FUEL_SLICE`](crate::limits::FUEL_SLICE) of fuel without an answer: then the clock is
//! checked against the command's deadline, and a command past it is stopped by dropping
//! the future (and with it the store).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtxBuilder;

use crate::buffer::RawBlock;
use crate::door::{DoorState, Mailbox, Outcome, PastDeadline};
use crate::engine::Engine;
use crate::error::Error;
use crate::frame::Command;
use crate::guest_output::{LineSplitter, OutputSink};
use crate::limits::{Limits, FUEL_SLICE};
use crate::recording_gate::RecordingGate;
use crate::recording_paths;

/// What the store holds.
pub(crate) struct HostState {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
    pub door: DoorState,
    /// Keeps the recording roots shut outside a recording.
    pub gate: RecordingGate,
    /// When the command running now must be done (checked by the door, and by `poll`).
    pub deadline: Instant,
}

impl HostState {
    pub fn wasi(&mut self) -> &mut WasiP1Ctx {
        &mut self.wasi
    }
}

/// Bytes of the interpreter's own stderr kept for error reports (output before the
/// runtime takes over `sys.stderr`, and the last words of a dying turn).
const STDERR_CAPTURE_BYTES: usize = 64 * 1024;

/// Table entries that are not the script's own files: stdio, preopens, and slack.
const TABLE_MARGIN: usize = 16;

/// Per-instance settings.
#[derive(Debug, Clone)]
pub(crate) struct InstanceConfig {
    pub label: String,
    pub output: OutputSink,
    pub limits: Limits,
    /// This interpreter's seed (see `seed.rs`).
    pub seed: u64,
    /// Host directories visible read-write at `/recordings/<index>` (at most
    /// `MAX_RECORDING_ROOTS`).
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
    /// It was stopped by its deadline (not another trap).
    pub deadline: bool,
    /// How long the command had run.
    pub ran_for: Duration,
    /// The entry point it had reached, when the guest announced one.
    pub stage: Option<crate::callback::Callback>,
}

impl GuestInstance {
    /// Instantiates the interpreter and runs the guest runtime up to its first wait.
    pub fn start(engine: &Engine, config: &InstanceConfig) -> Result<GuestInstance, Error> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(MemoryOutputPipe::new(STDERR_CAPTURE_BYTES)).stderr(stderr.clone()).arg("pyproc");
        wasi.allow_blocking_current_thread(true);
        {
            use rand_chacha::rand_core::SeedableRng;
            wasi.secure_random(rand_chacha::ChaCha20Rng::seed_from_u64(config.seed));
            wasi.insecure_random(rand_chacha::ChaCha20Rng::seed_from_u64(config.seed ^ 0x5eed));
            wasi.insecure_random_seed(config.seed as u128);
        }
        recording_paths::preopen(&mut wasi, engine.interpreter(), &config.writable_dirs)?;
        let mut wasi = wasi.build_p1();
        // Every guest file is a host descriptor: cap them so a script cannot exhaust the
        // host's (the table also holds stdio and the preopened folders, hence the margin).
        wasmtime_wasi::WasiView::ctx(&mut wasi).table.set_max_capacity(config.limits.open_files as usize + TABLE_MARGIN);
        let mailbox = Arc::new(Mailbox::default());
        mailbox.lock().emitted_cap = config.limits.emitted_per_callback;
        // Starting the runtime may import numpy: it gets the import deadline.
        let started = Instant::now();
        let start_deadline = started + config.limits.init_deadline;
        let state = HostState {
            wasi,
            limits: StoreLimitsBuilder::new().memory_size(config.limits.memory_bytes).build(),
            door: DoorState {
                mailbox: mailbox.clone(),
                memory: None,
                host_alloc: None,
                command_area: None,
                output: LineSplitter::new(config.label.clone(), config.output.clone(), config.limits.output_bytes_per_callback),
            },
            gate: RecordingGate::new((0..config.writable_dirs.len() as u32).map(|i| recording_paths::FIRST_ROOT_FD + i)),
            deadline: start_deadline,
        };
        let mut store = Store::new(engine.wasmtime(), state);
        store.limiter(|s| &mut s.limits);
        if engine.enforces_deadlines() {
            // Fuel only paces the looks at the clock: there is always more.
            store.set_fuel(u64::MAX).map_err(|e| Error::engine("giving the interpreter fuel", e))?;
            store.fuel_async_yield_interval(Some(FUEL_SLICE)).map_err(|e| Error::engine("giving the interpreter fuel", e))?;
        }

        let pre = engine.instance_pre().clone();
        let bootstrap = engine.first_turn();
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
        match instance.poll(started, start_deadline) {
            Ok(()) if matches!(instance.mailbox.lock().outcome.take(), Some(Outcome::Done)) => Ok(instance),
            Ok(()) => Err(Error::engine("starting the guest runtime", "it did not report ready")),
            Err(died) => Err(Error::engine("starting the guest runtime", died.reason)),
        }
    }

    /// Hands `command` (and, for `Process`, the caller's block) to the guest and runs it
    /// until it waits for the next command, or until `deadline` has passed.
    pub fn run(&mut self, command: Command, block: Option<RawBlock>, deadline: Duration) -> Result<Outcome, Died> {
        let started = Instant::now();
        {
            let mut slot = self.mailbox.lock();
            slot.command = Some(command);
            slot.block = block;
            slot.outcome = None;
            slot.deadline = Some(started + deadline);
            slot.stage = None;
        }
        let polled = self.poll(started, started + deadline);
        let outcome = {
            let mut slot = self.mailbox.lock();
            // Never keep the caller's block past this call, whatever happened.
            slot.block = None;
            slot.command = None;
            slot.outcome.take()
        };
        polled?;
        outcome.ok_or_else(|| self.kill("the guest waited at the door without answering the command", started))
    }

    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// Runs the guest until it has answered the command and waits at the door again.
    fn poll(&mut self, started: Instant, deadline: Instant) -> Result<(), Died> {
        let Some(turn) = self.turn.as_mut() else {
            return Err(Died { reason: "it had already stopped".into(), deadline: false, ran_for: Duration::ZERO, stage: None });
        };
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            match turn.as_mut().poll(&mut cx) {
                // Every command ends with an answer: without one, this was a fuel yield.
                Poll::Pending if self.mailbox.lock().outcome.is_some() => return Ok(()),
                Poll::Pending if Instant::now() < deadline => continue,
                Poll::Pending => {
                    self.turn = None; // the store goes with it: this interpreter is done
                    return Err(self.died("it ran past its deadline".to_owned(), true, started.elapsed()));
                }
                Poll::Ready(result) => {
                    self.turn = None;
                    let trap = result.as_ref().err().and_then(|e| e.downcast_ref::<wasmtime::Trap>().copied());
                    let late = result.as_ref().err().is_some_and(|e| e.downcast_ref::<PastDeadline>().is_some());
                    let reason = match (&result, trap) {
                        (Err(_), _) if late => "it ran past its deadline".to_owned(),
                        (Ok(0), _) => "the guest runtime's loop ended".to_owned(),
                        (Ok(code), _) => format!("the guest runtime's turn returned {code}"),
                        (Err(_), Some(trap)) => format!("trap: {trap}"),
                        (Err(e), None) => format!("{e:#}"),
                    };
                    return Err(self.died(reason, late, started.elapsed()));
                }
            }
        }
    }

    fn kill(&mut self, reason: &str, started: Instant) -> Died {
        self.turn = None;
        self.died(reason.to_owned(), false, started.elapsed())
    }

    fn died(&self, mut reason: String, deadline: bool, ran_for: Duration) -> Died {
        let stderr = self.stderr.contents();
        if !stderr.is_empty() {
            reason.push_str("\ninterpreter stderr:\n");
            reason.push_str(String::from_utf8_lossy(&stderr).trim_end());
        }
        Died { reason, deadline, ran_for, stage: self.mailbox.lock().stage }
    }

    /// Ends the guest's loop so the store is dropped at rest, not mid-call.
    pub fn quit(&mut self) {
        if self.turn.is_some() {
            let _ = self.run(Command::Quit, None, Duration::from_secs(1));
            self.turn = None;
        }
    }
}

impl Drop for GuestInstance {
    fn drop(&mut self) {
        self.quit();
    }
}
