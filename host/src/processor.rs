//! [`Processor`]: one `PyProcessor` script running in its own interpreter.

mod builder;
mod lifecycle;
mod queue;
mod script;
mod session;

use std::path::{Path, PathBuf};

use ndarray::ArrayViewMut2;

pub use builder::{ProcessorBuilder, StreamInfo};
pub use session::Session;

use crate::callback::Callback;
use crate::denied::{DenialLog, Denials};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::events::{Emitted, SpikeIn, SpikeOut, TtlEvent, TtlEventIn};
use crate::outcome::Processed;
use crate::published::Published;
use crate::sandbox::instance::{GuestInstance, InstanceConfig};
use crate::sandbox::preopens;
use crate::supervise::cancel::CancelHandle;
use crate::supervise::recovery::{Recovery, Status};
use crate::wire::buffer::RawBlock;
use crate::wire::command::Command;
use crate::wire::mailbox::Dropped;
use builder::ProcessorConfig;
use script::Script;

/// What a processor has dropped or survived, for a status line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Times the interpreter was restarted after a deadline, cancel or trap.
    pub restarts: u32,
    pub events_dropped: u64,
    pub spikes_dropped: u64,
    pub output_bytes_dropped: u64,
    /// Frames the script sent through `_host.call` that the host refused (each raised
    /// `OSError` in the script).
    pub frames_refused: u64,
    /// TTL events emitted outside acquisition (in `__init__`, in `stop_acquisition`, or
    /// waiting for a next block when acquisition stopped), dropped as the original plugin
    /// drops them.
    pub events_outside_acquisition: u64,
}

/// A `PyProcessor` script in its own sandboxed interpreter.
///
/// ```no_run
/// use ndarray::Array2;
/// use pyproc_host::Processed;
/// let engine = pyproc_host::Engine::open()?;
/// let mut p = pyproc_host::Processor::builder(&engine, "examples/threshold_events.py")
///     .stream(4, 30_000.0)
///     .build()?;
/// p.start_acquisition()?;
/// let mut block = Array2::<f32>::zeros((4, 1024));
/// if let Processed::Done(emitted) = p.process(block.view_mut(), 0)? {
///     for event in emitted.events {
///         println!("line {} -> {} at sample {}", event.line, event.state, event.sample_number);
///     }
/// }
/// p.stop_acquisition()?;
/// # Ok::<(), pyproc_host::Error>(())
/// ```
pub struct Processor {
    engine: Engine,
    /// Also the processor's limits and recording roots.
    config: InstanceConfig,
    /// None while the interpreter is down, waiting for its restart.
    instance: Option<GuestInstance>,
    /// The stopped interpreter, when the processor's owner replaces it
    /// ([`Limits::restart_in_line`](crate::Limits) off): freeing an interpreter takes
    /// milliseconds, so it goes with the processor, on whichever thread frees that.
    stopped: Option<GuestInstance>,
    recovery: Recovery,
    script: Script,
    /// The source the running processor was made from: a restart uses it, not the file.
    source: String,
    stream: StreamInfo,
    /// Replayed into a restarted interpreter.
    acquiring: bool,
    recording: Option<String>,
    /// Floats the guest's buffer holds.
    capacity: usize,
    /// The running `PyProcessor` has not had a block yet. Its first `process` gets the
    /// start-up deadline: scripts allocate their buffers there, on the first data.
    first_block: bool,
    /// Events and spikes returned by the last `process`; reused, so a block that emits no
    /// more than earlier ones did allocates nothing.
    events: Vec<TtlEvent>,
    spikes: Vec<SpikeOut>,
    /// Counts from interpreters that have been replaced.
    stats: Stats,
    /// Runs the script's `PyVisualizer` instead of its `PyProcessor` (a [`Viewer`](crate::Viewer)).
    viewer: bool,
}

impl Processor {
    /// Settings for a new processor running the script in the file `script`; see
    /// [`ProcessorBuilder`].
    pub fn builder(engine: &Engine, script: impl Into<PathBuf>) -> ProcessorBuilder {
        ProcessorBuilder::for_file(engine, script.into())
    }

    /// Settings for a processor running `source`, Python text that need not be in any
    /// file; `name` is the file name Python shows for it (`__file__`, tracebacks).
    ///
    /// ```no_run
    /// # let engine = pyproc_host::Engine::open()?;
    /// let source = "class PyProcessor:\n    def __init__(self, p, n, r): pass\n    def process(self, data): data *= 2\n";
    /// let p = pyproc_host::Processor::builder_for_source(&engine, "double.py", source).build()?;
    /// # Ok::<(), pyproc_host::Error>(())
    /// ```
    pub fn builder_for_source(engine: &Engine, name: impl Into<PathBuf>, source: impl Into<String>) -> ProcessorBuilder {
        ProcessorBuilder::for_text(engine, name.into(), source.into())
    }

    /// Starts the interpreter the builder described and loads the script into it.
    pub(crate) fn start(engine: Engine, config: ProcessorConfig, viewer: bool) -> Result<Processor> {
        let ProcessorConfig { script, stream, instance } = config;
        let source = script.read()?;
        let running = GuestInstance::start(engine.template(), &instance)?;
        let mut processor = Processor {
            engine,
            recovery: Recovery::new(instance.limits.max_consecutive_restarts),
            config: instance,
            instance: Some(running),
            stopped: None,
            script,
            source,
            stream,
            acquiring: false,
            recording: None,
            capacity: 0,
            first_block: true,
            events: Vec::new(),
            spikes: Vec::new(),
            stats: Stats::default(),
            viewer,
        };
        processor.run(Callback::Import, processor.load_command(processor.source.clone()), None)?;
        Ok(processor)
    }

    /// Runs `process(data)` on `block` (channels x samples) in place. Returns
    /// [`Processed::Done`] with the TTL events and spikes the script emitted since the
    /// previous `process` (including those from `handle_ttl_event` and the other callbacks
    /// in between), or [`Processed::PassedThrough`] when the interpreter is down (restarting
    /// after a failure, or switched off) and the block was left as it came in.
    ///
    /// The events and spikes queued by [`handle_ttl_event`](Self::handle_ttl_event) and
    /// [`handle_spike`](Self::handle_spike) since the last call into the script travel with
    /// the block: the script's handlers get them first, in the order they arrived, then
    /// `process` runs, all in one round trip and within one deadline (the block's).
    ///
    /// If the script raises (in `process` or in one of those handlers), or runs past its
    /// deadline, the block is left exactly as it came in and the error is returned, naming
    /// the callback that failed; after a failed handler, the events queued behind it and
    /// `process` do not run for this block. The processor keeps working for the next block.
    pub fn process(&mut self, mut block: ArrayViewMut2<'_, f32>, first_sample_number: i64) -> Result<Processed<'_>> {
        self.process_raw(RawBlock::new(&mut block), first_sample_number)
    }

    /// [`process`](Self::process) for a block held as one buffer per channel, the way audio
    /// hosts (and the Open Ephys GUI) hold theirs: no copy into an array first.
    ///
    /// # Safety
    /// Every pointer in `channels` must be valid for reads and writes of `num_samples`
    /// floats for the length of the call, and no two may overlap.
    pub unsafe fn process_channels(&mut self, channels: &[*mut f32], num_samples: usize, first_sample_number: i64) -> Result<Processed<'_>> {
        self.process_raw(RawBlock::from_channel_pointers(channels, num_samples), first_sample_number)
    }

    fn process_raw(&mut self, block: RawBlock, first_sample_number: i64) -> Result<Processed<'_>> {
        let (channels, samples) = (block.channels(), block.samples());
        if channels != self.stream.num_channels {
            return Err(Error::ChannelMismatch { expected: self.stream.num_channels, got: channels });
        }
        let floats = channels * samples;
        let max = u32::MAX as usize / 4;
        if floats > max || samples > u32::MAX as usize {
            return Err(Error::BlockTooLarge { samples, max: max / channels.max(1) });
        }
        // A restart (after a failure) gives a new guest without a buffer: do it first.
        if let Some(why) = self.ensure_running(true)? {
            return Ok(Processed::PassedThrough(why));
        }
        // A fresh guest has no buffer at all, which even a block of no samples needs.
        if floats > self.capacity || self.capacity == 0 {
            self.reserve(floats.max(1))?;
        }
        let command = Command::Process { first_sample: first_sample_number, num_samples: samples as u32, batch: self.queued() };
        self.events.clear();
        self.spikes.clear();
        let result = self.call(Callback::Process, command, Some(block));
        self.first_block = false;
        result?;
        // What arrived before a failure stays queued for the next block.
        if let Some(instance) = &self.instance {
            let mut slot = instance.mailbox().lock();
            std::mem::swap(&mut self.events, &mut slot.events);
            std::mem::swap(&mut self.spikes, &mut slot.spikes);
        }
        self.recovery.succeeded();
        Ok(Processed::Done(Emitted { events: &self.events, spikes: &self.spikes }))
    }

    /// Queues a TTL event for the script's `handle_ttl_event` (nothing, if it has none). The
    /// script gets it in the next call into it: before the next block's `process`, in the
    /// same round trip, or before any other callback; its failures are reported by that
    /// call. Queueing allocates nothing.
    ///
    /// The error says why the event could not be queued: the interpreter is down
    /// ([`Error::NotRunning`]); or the queue was full (it holds what fits the guest's
    /// 64 KiB command area), its events were delivered at once, and that delivery failed
    /// (a handler raised, ran past its deadline, or stopped the interpreter; this event is
    /// queued after them while the interpreter lives).
    pub fn handle_ttl_event(&mut self, event: &TtlEventIn<'_>) -> Result<()> {
        self.queue(Callback::HandleTtlEvent, |batch| batch.push_ttl(event))
    }

    /// Queues a spike for the script's `handle_spike`, as [`handle_ttl_event`]
    /// (Self::handle_ttl_event) queues events; the script sees `spike_data` as a read-only
    /// float32 array. A spike too large for the command area by itself (more than 16 000
    /// or so floats) is delivered at once, after what was queued before it.
    pub fn handle_spike(&mut self, spike: &SpikeIn<'_>) -> Result<()> {
        self.queue(Callback::HandleSpike, |batch| batch.push_spike(spike))
    }

    pub fn start_acquisition(&mut self) -> Result<()> {
        self.acquiring = true;
        self.run(Callback::StartAcquisition, Command::Call(Callback::StartAcquisition), None)
    }

    pub fn stop_acquisition(&mut self) -> Result<()> {
        self.acquiring = false;
        self.run(Callback::StopAcquisition, Command::Call(Callback::StopAcquisition), None)
    }

    /// Whether `dir` lies inside a recording root granted when the processor was built, so
    /// that [`start_recording`](Self::start_recording) may use it.
    pub fn can_record_in(&self, dir: impl AsRef<Path>) -> bool {
        std::path::absolute(dir.as_ref()).is_ok_and(|dir| preopens::to_guest(&self.config.recording_roots, &dir).is_some())
    }

    /// Calls `start_recording(dir)`. `dir` must lie inside a recording root granted when
    /// the processor was built; the script sees it under `/recordings/<root index>/`.
    pub fn start_recording(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = std::path::absolute(dir.as_ref()).map_err(|e| Error::engine("resolving the recording directory", e))?;
        let guest = preopens::to_guest(&self.config.recording_roots, &dir)
            .ok_or_else(|| Error::RecordingNotGranted { dir: dir.clone(), roots: self.config.recording_roots.clone() })?;
        self.recording = Some(guest.clone());
        self.run(Callback::StartRecording, Command::StartRecording { dir: guest }, None)
    }

    pub fn stop_recording(&mut self) -> Result<()> {
        self.recording = None;
        self.run(Callback::StopRecording, Command::Call(Callback::StopRecording), None)
    }

    /// Re-creates the script's `PyProcessor` for a new stream, as the original plugin does
    /// when settings change. If the constructor raises, the old one keeps running. Queued
    /// events and spikes reach the old one's handlers first; if one of them fails, the new
    /// `PyProcessor` is still made and the handler's error is returned.
    pub fn set_stream(&mut self, num_channels: usize, sample_rate: f64) -> Result<()> {
        let command = Command::SetStream { num_channels: num_channels as u32, sample_rate };
        let (delivered, result) = self.run_after_queued(Callback::Init, command, None);
        result?;
        self.stream = StreamInfo { num_channels, sample_rate };
        self.first_block = true;
        delivered
    }

    /// Reads the script from its file again (a script given as text: the same text),
    /// imports it and constructs a new `PyProcessor`; see
    /// [`reload_from_source`](Self::reload_from_source).
    pub fn reload(&mut self) -> Result<()> {
        let source = self.script.read()?;
        self.reload_from_source(source)
    }

    /// Imports `source` in place of the running script and constructs a new
    /// `PyProcessor`. If the new code fails to import or construct, the old processor keeps
    /// running (its random state untouched) and the error is returned. A reload also ends
    /// a switched-off state. Queued events and spikes reach the old script's handlers
    /// first, as for [`set_stream`](Self::set_stream).
    pub fn reload_from_source(&mut self, source: impl Into<String>) -> Result<()> {
        let source = source.into();
        if self.recovery.is_disabled() {
            self.recovery.reset();
            let previous = std::mem::replace(&mut self.source, source);
            return self.restart().inspect_err(|_| self.source = previous);
        }
        let (delivered, result) = self.run_after_queued(Callback::Import, self.load_command(source.clone()), None);
        result?;
        self.source = source;
        self.first_block = true;
        delivered
    }

    /// A handle that stops the callback running now from another thread; see
    /// [`CancelHandle`].
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.config.cancel.clone())
    }

    /// The script's path (its absolute file path, or the name given with its text).
    pub fn script(&self) -> &Path {
        self.script.path()
    }

    pub fn stream(&self) -> StreamInfo {
        self.stream
    }

    /// Changes how long later blocks (`process` and the handlers) may run: see
    /// [`Limits::block_deadline`](crate::Limits). A live host sets it to a few periods of
    /// its blocks once it knows them.
    pub fn set_block_deadline(&mut self, deadline: Option<std::time::Duration>) {
        self.config.limits.block_deadline = deadline;
    }

    /// How long blocks may run: see [`set_block_deadline`](Self::set_block_deadline).
    pub fn block_deadline(&self) -> Option<std::time::Duration> {
        self.config.limits.block_deadline
    }

    /// Running, restarting after a failure, or switched off.
    pub fn status(&self) -> Status {
        self.recovery.status(self.instance.is_some())
    }

    /// Restarts and what the output caps dropped, over the processor's life.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats;
        if let Some(instance) = &self.instance {
            add_dropped(&mut stats, instance.mailbox().lock().dropped);
        }
        stats
    }

    /// Every access the script tried and was refused, over the processor's life: each
    /// raised `PermissionError` in the script, and each names the flag that would allow it.
    pub fn denials(&self) -> Denials {
        self.config.denials.snapshot()
    }

    /// The log [`denials`](Self::denials) reads, shared: another thread may read it while
    /// this processor runs, and it outlives the processor.
    pub fn denial_log(&self) -> DenialLog {
        self.config.denials.clone()
    }

    /// Whether the running script's `PyProcessor` class declares `channel_independent =
    /// True`: it processes each channel on its own, so its channels may be split between
    /// several processors ([`ShardedProcessor`](crate::ShardedProcessor)). False while the
    /// interpreter is down.
    pub fn channel_independent(&self) -> bool {
        self.instance.as_ref().is_some_and(|i| i.mailbox().lock().channel_independent)
    }

    /// The latest value the script published under each name with
    /// `self.processor.publish(name, value)` (empty while the interpreter is down; a
    /// restarted interpreter starts with none). A copy: the script goes on publishing.
    ///
    /// ```no_run
    /// # fn show(p: &pyproc_host::Processor) {
    /// for value in p.published().iter() {
    ///     println!("{} {:?} {:?} at sample {}", value.name(), value.dtype(), value.shape(), value.sample_number());
    /// }
    /// # }
    /// ```
    pub fn published(&self) -> Published {
        let mut out = Published::default();
        self.published_into(&mut out);
        out
    }

    /// [`published`](Self::published) into `out`, reusing its storage.
    pub fn published_into(&self, out: &mut Published) {
        match &self.instance {
            Some(instance) => out.clone_from_published(&instance.mailbox().lock().published),
            None => out.clone_from_published(&Published::default()),
        }
    }

    /// Runs a viewer's `update(published)`; the first gets the start-up deadline (it draws
    /// the first figure, which loads fonts).
    pub(crate) fn run_view(&mut self, published: std::sync::Arc<Published>) -> Result<()> {
        let result = self.run(Callback::Update, Command::View(published), None);
        self.first_block = false;
        result
    }

    /// `f` of what the running interpreter published (None while it is down).
    pub(crate) fn with_published<R>(&self, f: impl FnOnce(&Published) -> R) -> Option<R> {
        self.instance.as_ref().map(|i| f(&i.mailbox().lock().published))
    }

    /// The interpreter's linear memory in bytes (None while it is being restarted).
    pub fn memory_bytes(&self) -> Option<usize> {
        self.instance.as_ref().map(|i| i.mailbox().lock().memory_bytes)
    }

    /// Whether the running script defines `callback` (true when not known, or while the
    /// interpreter is down: `run` then reports the state).
    fn script_handles(&self, callback: Callback) -> bool {
        self.instance.as_ref().is_none_or(|i| i.mailbox().lock().handles(callback))
    }

    fn load_command(&self, source: String) -> Command {
        Command::Load {
            script_path: self.script.path().to_string_lossy().into_owned(),
            source,
            num_channels: self.stream.num_channels as u32,
            sample_rate: self.stream.sample_rate,
            seed: self.config.seed,
            viewer: self.viewer,
        }
    }

    fn reserve(&mut self, floats: usize) -> Result<()> {
        // Room for blocks a little longer than this one, so jitter in block size does not
        // reallocate every time.
        let floats = floats.saturating_add(floats / 4).min(u32::MAX as usize / 4);
        self.call(Callback::Process, Command::Reserve { floats: floats as u32 }, None)?;
        let buffer = self.instance.as_ref().and_then(|i| i.mailbox().lock().buffer);
        self.capacity = buffer.map_or(0, |(_, cap)| cap as usize);
        Ok(())
    }
}

impl ProcessorBuilder {
    /// Starts the interpreter, imports the script and constructs its `PyProcessor`.
    pub fn build(self) -> Result<Processor> {
        let (engine, config) = self.into_config()?;
        Processor::start(engine, config, false)
    }
}

fn add_dropped(stats: &mut Stats, dropped: Dropped) {
    stats.events_dropped += dropped.events;
    stats.spikes_dropped += dropped.spikes;
    stats.output_bytes_dropped += dropped.output_bytes;
    stats.frames_refused += dropped.frames_refused;
    stats.events_outside_acquisition += dropped.outside_acquisition;
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor").field("script", &self.script.path()).field("stream", &self.stream).field("status", &self.status()).finish()
    }
}
