//! One isolated interpreter: its `Store`, and the long-running guest turn that serves
//! commands, driven as a future on the caller's thread.
//!
//! The turn's future owns the store, so nothing borrows across calls: each command is put
//! in the mailbox and the future is polled with a no-op waker until the guest answers
//! and yields, waiting for the next command (the door made it yield: see `wire/door.rs`),
//! or stops for good (the future is `Ready`: a trap, or the loop ended). While a command runs, the guest also comes back `Pending`
//! without an answer at every [`TICK`](crate::supervise::ticker::TICK) of the engine's
//! epoch: then the clock is checked against the command's deadline (and the cancel flag),
//! and a command past it is stopped by never polling the future again; the future, and
//! with it the store, is freed with the instance.

use std::borrow::Cow;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use wasmtime::{InstancePre, Store, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtxBuilder;

use crate::callback::Callback;
use crate::denied::DenialLog;
use crate::error::Error;
use crate::grants::{Access, Grants, PathGrant};
use crate::net::service::NetService;
use crate::sandbox::preopens;
use crate::sandbox::recording_gate::RecordingGate;
use crate::sandbox::state::{GuestFolders, HostState};
use crate::supervise::cancel::CancelFlag;
use crate::supervise::limits::Limits;
use crate::supervise::ticker::EpochTicker;
use crate::wire::buffer::RawBlock;
use crate::wire::command::Command;
use crate::wire::door::{DoorState, Late};
use crate::wire::in_flight::InFlight;
use crate::wire::mailbox::{Mailbox, Outcome};
use crate::wire::output::{LineSplitter, OutputSink};

/// Bytes of the interpreter's own stderr kept for error reports (output before the
/// runtime takes over `sys.stderr`, and the last words of a dying turn).
const STDERR_CAPTURE_BYTES: usize = 64 * 1024;

/// How long the last calls into a processor that is dropped may take.
const QUIT_DEADLINE: Duration = Duration::from_secs(1);

/// Table entries that are not the script's own files: stdio, preopens, and slack.
const TABLE_MARGIN: usize = 16;

/// What every instance is made from, prepared once by the engine.
pub(crate) struct Template {
    pub wasmtime: wasmtime::Engine,
    pub instance_pre: InstancePre<HostState>,
    /// The source of an instance's one long turn.
    pub first_turn: Cow<'static, str>,
    /// Present when the compiled code checks the epoch, so commands can be stopped at their
    /// deadline.
    pub ticker: Option<EpochTicker>,
    pub folders: GuestFolders,
}

/// Per-instance settings.
#[derive(Debug, Clone)]
pub(crate) struct InstanceConfig {
    pub label: String,
    pub output: OutputSink,
    pub limits: Limits,
    /// This interpreter's seed (see `seed.rs`).
    pub seed: u64,
    /// Host directories (absolute) visible read-write at `/recordings/<index>` during a
    /// recording (at most `MAX_RECORDING_ROOTS`).
    pub recording_roots: Vec<PathBuf>,
    pub cancel: CancelFlag,
    /// What else of the host the script may reach; the script's own folder, when granted,
    /// is the first path grant.
    pub grants: Grants,
    /// Where refused accesses are recorded, shared by every interpreter of the processor.
    pub denials: DenialLog,
    /// The host folder behind the script's `/tmp`: empty when the processor is built,
    /// shared by its interpreters, removed when the processor goes.
    pub private_tmp: Arc<tempfile::TempDir>,
}

type Turn = Pin<Box<dyn Future<Output = wasmtime::Result<i32>> + Send>>;

/// A live interpreter serving commands.
pub(crate) struct GuestInstance {
    turn: Option<Turn>,
    /// The turn (and with it the store) of an interpreter stopped mid-call. Not freed where
    /// it stopped: a processor may keep the instance for another thread to free.
    stopped: Option<Turn>,
    mailbox: Arc<Mailbox>,
    stderr: MemoryOutputPipe,
    cancel: CancelFlag,
    ticker: Option<EpochTicker>,
}

/// Why an instance stopped for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Deadline,
    Cancelled,
    /// A trap, a refused frame, or the runtime's loop ending.
    Failure,
}

/// The instance stopped for good; `reason` says how.
#[derive(Debug)]
pub(crate) struct Died {
    pub reason: String,
    pub stop: Stop,
    /// How long the command had run.
    pub ran_for: Duration,
    /// The entry point it had reached: the command's own, or the last the guest announced.
    pub stage: Option<Callback>,
}

impl GuestInstance {
    /// Instantiates the interpreter and runs the guest runtime up to its first wait.
    pub fn start(template: &Template, config: &InstanceConfig) -> Result<GuestInstance, Error> {
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
        // The private `/tmp` first, so a grant of the guest's `/tmp` replaces it.
        let tmp = PathGrant { host: config.private_tmp.path().to_path_buf(), guest: "/tmp".into(), access: Access::Write };
        let grants: Vec<PathGrant> = std::iter::once(tmp).chain(config.grants.paths.iter().cloned()).collect();
        let paths = preopens::preopen(&mut wasi, &template.folders, &config.recording_roots, &grants)?;
        let mut wasi = wasi.build_p1();
        // Every guest file is a host descriptor: cap them so a script cannot exhaust the
        // host's (the table also holds stdio and the preopened folders, hence the margin).
        wasmtime_wasi::WasiView::ctx(&mut wasi).table.set_max_capacity(config.limits.open_files as usize + TABLE_MARGIN);
        let mailbox = Arc::new(Mailbox::default());
        mailbox.lock().emitted_cap = config.limits.emitted_per_callback;
        // Starting the runtime may import numpy: it gets the import deadline.
        let started = Instant::now();
        let start_deadline = started + config.limits.init_deadline;
        config.cancel.clear();
        let state = HostState {
            wasi,
            limits: StoreLimitsBuilder::new().memory_size(config.limits.memory_bytes).build(),
            door: DoorState {
                mailbox: mailbox.clone(),
                memory: None,
                command_area: None,
                reply_area: None,
                path_scratch: None,
                pending: None,
                output: LineSplitter::new(config.label.clone(), config.output.clone(), config.limits.output_bytes_per_callback),
                deadline: start_deadline,
                cancel: config.cancel.clone(),
                running: None,
                in_flight: InFlight::default(),
            },
            denials: config.denials.clone(),
            paths,
            // Sockets are capped like files: each is a host descriptor.
            net: NetService::new(&config.grants, config.limits.open_files as usize),
            gate: RecordingGate::new((0..config.recording_roots.len() as u32).map(|i| preopens::FIRST_ROOT_FD + i)),
        };
        let mut store = Store::new(&template.wasmtime, state);
        store.limiter(|s| &mut s.limits);
        if template.ticker.is_some() {
            // Each tick only paces the looks at the clock: yield, and expect the next one.
            store.set_epoch_deadline(1);
            store.epoch_deadline_async_yield_and_update(1);
        }

        let pre = template.instance_pre.clone();
        let bootstrap = template.first_turn.clone();
        let turn: Turn = Box::pin(async move {
            let instance = pre.instantiate_async(&mut store).await?;
            let memory = instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| wasmtime::format_err!("the interpreter exports no memory"))?;
            let host_alloc = instance.get_typed_func::<u32, u32>(&mut store, "host_alloc")?;
            let turn = instance.get_typed_func::<(u32, u32), i32>(&mut store, "turn")?;
            store.data_mut().door.memory = Some(memory);
            let len = u32::try_from(bootstrap.len())?;
            let ptr = host_alloc.call_async(&mut store, len).await?;
            memory.write(&mut store, ptr as usize, bootstrap.as_bytes())?;
            turn.call_async(&mut store, (ptr, len)).await
        });
        let mut instance =
            GuestInstance { turn: Some(turn), stopped: None, mailbox, stderr, cancel: config.cancel.clone(), ticker: template.ticker.clone() };
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
        self.cancel.clear();
        {
            let mut slot = self.mailbox.lock();
            // Until the guest announces another (import -> `__init__`, handlers -> `process`).
            slot.stage = command.callback();
            slot.command = Some(command);
            slot.block = block;
            slot.outcome = None;
            slot.deadline = Some(started + deadline);
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
            return Err(Died { reason: "it had already stopped".into(), stop: Stop::Failure, ran_for: Duration::ZERO, stage: None });
        };
        let mut cx = Context::from_waker(Waker::noop());
        let _ticking = self.ticker.as_ref().map(EpochTicker::running);
        loop {
            let stop = match turn.as_mut().poll(&mut cx) {
                // Every command ends with an answer: without one, this was an epoch yield.
                Poll::Pending if self.mailbox.lock().outcome.is_some() => return Ok(()),
                Poll::Pending if self.cancel.is_set() => Ok(Stop::Cancelled),
                Poll::Pending if Instant::now() < deadline => continue,
                Poll::Pending => Ok(Stop::Deadline),
                Poll::Ready(result) => Err(result),
            };
            // This interpreter is done; its store goes with the instance (see `stopped`).
            self.stopped = self.turn.take();
            return Err(match stop {
                Ok(Stop::Cancelled) => self.died("it was cancelled".to_owned(), Stop::Cancelled, started.elapsed()),
                Ok(_) => self.died("it ran past its deadline".to_owned(), Stop::Deadline, started.elapsed()),
                Err(result) => {
                    let late = result.as_ref().err().and_then(|e| e.downcast_ref::<Late>());
                    let trap = result.as_ref().err().and_then(|e| e.downcast_ref::<wasmtime::Trap>().copied());
                    let (reason, stop) = match (&result, late, trap) {
                        (_, Some(Late::PastDeadline), _) => ("it ran past its deadline".to_owned(), Stop::Deadline),
                        (_, Some(Late::Cancelled), _) => ("it was cancelled".to_owned(), Stop::Cancelled),
                        (Ok(0), ..) => ("the guest runtime's loop ended".to_owned(), Stop::Failure),
                        (Ok(code), ..) => (format!("the guest runtime's turn returned {code}"), Stop::Failure),
                        (Err(_), None, Some(trap)) => (format!("trap: {trap}"), Stop::Failure),
                        (Err(e), None, None) => (format!("{e:#}"), Stop::Failure),
                    };
                    self.died(reason, stop, started.elapsed())
                }
            });
        }
    }

    fn kill(&mut self, reason: &str, started: Instant) -> Died {
        self.stopped = self.turn.take();
        self.died(reason.to_owned(), Stop::Failure, started.elapsed())
    }

    fn died(&self, mut reason: String, stop: Stop, ran_for: Duration) -> Died {
        let stderr = self.stderr.contents();
        if !stderr.is_empty() {
            reason.push_str("\ninterpreter stderr:\n");
            reason.push_str(String::from_utf8_lossy(&stderr).trim_end());
        }
        Died { reason, stop, ran_for, stage: self.mailbox.lock().stage }
    }

    /// Ends the guest's loop so the store is dropped at rest, not mid-call; events and
    /// spikes still queued for the script's handlers reach them first.
    pub fn quit(&mut self) {
        if self.turn.is_some() {
            let batch = self.mailbox.lock().batch.summary();
            if batch.first.is_some() {
                let _ = self.run(Command::Events { batch }, None, QUIT_DEADLINE);
            }
            let _ = self.run(Command::Quit, None, QUIT_DEADLINE);
            self.turn = None;
        }
    }
}

impl Drop for GuestInstance {
    fn drop(&mut self) {
        self.quit();
    }
}
