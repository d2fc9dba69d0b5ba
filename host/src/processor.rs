//! [`Processor`]: one `PyProcessor` script running in its own interpreter.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ndarray::ArrayViewMut2;

use crate::buffer::RawBlock;
use crate::callback::Callback;
use crate::door::{Dropped, Outcome, PythonFailure};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::events::{Emitted, SpikeIn, SpikeOut, TtlEvent, TtlEventIn};
use crate::frame::Command;
use crate::instance::{Died, GuestInstance, InstanceConfig};
use crate::limits::Limits;
use crate::processor_builder::ProcessorBuilder;
use crate::recovery::{Recovery, Status};

/// What a processor has dropped or survived, for a status line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Times the interpreter was restarted after a deadline or trap.
    pub restarts: u32,
    pub events_dropped: u64,
    pub spikes_dropped: u64,
    pub output_bytes_dropped: u64,
}

/// The continuous stream a processor is set up for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamInfo {
    pub num_channels: usize,
    /// Samples per second.
    pub sample_rate: f64,
}

/// A `PyProcessor` script in its own sandboxed interpreter.
///
/// ```no_run
/// use ndarray::Array2;
/// let engine = pyproc_host::Engine::new()?;
/// let mut p = pyproc_host::Processor::builder(&engine, "examples/threshold_events.py")
///     .stream(4, 30_000.0)
///     .build()?;
/// p.start_acquisition()?;
/// let mut block = Array2::<f32>::zeros((4, 1024));
/// for event in p.process(block.view_mut(), 0)?.events {
///     println!("line {} -> {} at sample {}", event.line, event.state, event.sample_number);
/// }
/// p.stop_acquisition()?;
/// # Ok::<(), pyproc_host::Error>(())
/// ```
pub struct Processor {
    pub(crate) engine: Engine,
    pub(crate) config: InstanceConfig,
    pub(crate) limits: Limits,
    /// None while the interpreter is down, waiting for its restart.
    pub(crate) instance: Option<GuestInstance>,
    pub(crate) recovery: Recovery,
    pub(crate) script: PathBuf,
    /// The source the running processor was made from: a restart uses it, not the file.
    pub(crate) source: String,
    pub(crate) stream: StreamInfo,
    pub(crate) recording_roots: Vec<PathBuf>,
    /// Replayed into a restarted interpreter.
    pub(crate) acquiring: bool,
    pub(crate) recording: Option<String>,
    /// Floats the guest's buffer holds.
    pub(crate) capacity: usize,
    /// Events and spikes returned by the last `process`; reused so steady state allocates
    /// nothing.
    pub(crate) events: Vec<TtlEvent>,
    pub(crate) spikes: Vec<SpikeOut>,
    /// Counts from interpreters that have been replaced.
    pub(crate) stats: Stats,
}

impl Processor {
    /// Settings for a new processor running `script`; see [`ProcessorBuilder`].
    pub fn builder(engine: &Engine, script: impl Into<PathBuf>) -> ProcessorBuilder {
        ProcessorBuilder::new(engine, script.into())
    }

    /// Runs `process(data)` on `block` (channels x samples) in place and returns the TTL
    /// events and spikes the script emitted since the previous `process` (including those
    /// from `handle_ttl_event` and the other callbacks in between).
    ///
    /// If the script raises, the block is left exactly as it came in and the error is
    /// returned; the processor keeps working for the next block.
    pub fn process(&mut self, mut block: ArrayViewMut2<'_, f32>, first_sample_number: i64) -> Result<Emitted<'_>> {
        self.process_raw(RawBlock::new(&mut block), first_sample_number)
    }

    /// [`process`](Self::process) for a block held as one buffer per channel, the way audio
    /// hosts (and the Open Ephys GUI) hold theirs: no copy into an array first.
    ///
    /// # Safety
    /// Every pointer in `channels` must be valid for reads and writes of `num_samples`
    /// floats for the length of the call, and no two may overlap.
    pub unsafe fn process_channels(&mut self, channels: &[*mut f32], num_samples: usize, first_sample_number: i64) -> Result<Emitted<'_>> {
        self.process_raw(RawBlock::from_channel_pointers(channels, num_samples), first_sample_number)
    }

    fn process_raw(&mut self, block: RawBlock, first_sample_number: i64) -> Result<Emitted<'_>> {
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
        self.ensure_running()?;
        if floats > self.capacity {
            self.reserve(floats)?;
        }
        let command = Command::Process { first_sample: first_sample_number, num_samples: samples as u32 };
        self.events.clear();
        self.spikes.clear();
        let result = self.run(Callback::Process, command, Some(block));
        // What arrived before a failure stays queued for the next block.
        if let (Ok(()), Some(instance)) = (&result, &self.instance) {
            let mut slot = instance.mailbox().lock();
            std::mem::swap(&mut self.events, &mut slot.events);
            std::mem::swap(&mut self.spikes, &mut slot.spikes);
            drop(slot);
            self.recovery.succeeded();
        }
        result.map(|()| Emitted { events: &self.events, spikes: &self.spikes })
    }

    pub fn handle_ttl_event(&mut self, event: &TtlEventIn<'_>) -> Result<()> {
        if !self.script_handles(Callback::HandleTtlEvent) {
            return Ok(());
        }
        let command = Command::Ttl {
            source_node: event.source_node,
            channel: event.channel.to_owned(),
            sample_number: event.sample_number,
            line: event.line,
            state: event.state,
        };
        self.run(Callback::HandleTtlEvent, command, None)
    }

    /// Delivers a spike; the script sees `spike_data` as a read-only float32 array.
    pub fn handle_spike(&mut self, spike: &SpikeIn<'_>) -> Result<()> {
        if !self.script_handles(Callback::HandleSpike) {
            return Ok(());
        }
        let (num_channels, num_samples) = spike.waveform.dim();
        let command = Command::Spike {
            source_node: spike.source_node,
            electrode_name: spike.electrode_name.to_owned(),
            sample_number: spike.sample_number,
            sorted_id: spike.sorted_id,
            num_channels: num_channels as u32,
            num_samples: num_samples as u32,
            waveform: spike.waveform.iter().copied().collect(),
        };
        self.run(Callback::HandleSpike, command, None)
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
        std::path::absolute(dir.as_ref()).is_ok_and(|dir| crate::recording_paths::to_guest(&self.recording_roots, &dir).is_some())
    }

    /// Calls `start_recording(dir)`. `dir` must lie inside a recording root granted when
    /// the processor was built; the script sees it under `/recordings/<root index>/`.
    pub fn start_recording(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = std::path::absolute(dir.as_ref()).map_err(|e| Error::engine("resolving the recording directory", e))?;
        let guest = crate::recording_paths::to_guest(&self.recording_roots, &dir)
            .ok_or_else(|| Error::RecordingNotGranted { dir: dir.clone(), roots: self.recording_roots.clone() })?;
        self.recording = Some(guest.clone());
        self.run(Callback::StartRecording, Command::StartRecording { dir: guest }, None)
    }

    pub fn stop_recording(&mut self) -> Result<()> {
        self.recording = None;
        self.run(Callback::StopRecording, Command::Call(Callback::StopRecording), None)
    }

    /// Re-creates the script's `PyProcessor` for a new stream, as the original plugin does
    /// when settings change. If the constructor raises, the old one keeps running.
    pub fn set_stream(&mut self, num_channels: usize, sample_rate: f64) -> Result<()> {
        let command = Command::SetStream { num_channels: num_channels as u32, sample_rate };
        self.run(Callback::Init, command, None)?;
        self.stream = StreamInfo { num_channels, sample_rate };
        Ok(())
    }

    /// Reads the script from disk again, imports it and constructs a new `PyProcessor`. If
    /// the new code fails to import or construct, the old processor keeps running and the
    /// error is returned. A reload also ends a switched-off state.
    pub fn reload(&mut self) -> Result<()> {
        let source = self.read_script()?;
        if self.recovery.disabled().is_some() {
            self.recovery.reset();
            let previous = std::mem::replace(&mut self.source, source);
            return self.restart().inspect_err(|_| self.source = previous);
        }
        self.run(Callback::Import, self.load_command(source.clone()), None)?;
        self.source = source;
        Ok(())
    }

    pub fn script(&self) -> &Path {
        &self.script
    }

    pub fn stream(&self) -> StreamInfo {
        self.stream
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

    /// The interpreter's linear memory in bytes (None while it is being restarted).
    pub fn memory_bytes(&self) -> Option<usize> {
        self.instance.as_ref().map(|i| i.mailbox().lock().memory_bytes)
    }

    /// Whether the running script defines `callback` (true when not known, or while the
    /// interpreter is down: `run` then reports the state).
    fn script_handles(&self, callback: Callback) -> bool {
        self.instance.as_ref().is_none_or(|i| i.mailbox().lock().handles(callback))
    }

    pub(crate) fn read_script(&self) -> Result<String> {
        let bytes = std::fs::read(&self.script).map_err(|cause| Error::ScriptUnreadable { path: self.script.clone(), cause })?;
        String::from_utf8(bytes).map_err(|e| Error::ScriptNotUtf8 { path: self.script.clone(), at: e.utf8_error().valid_up_to() })
    }

    pub(crate) fn load_command(&self, source: String) -> Command {
        Command::Load {
            script_path: self.script.to_string_lossy().into_owned(),
            source,
            num_channels: self.stream.num_channels as u32,
            sample_rate: self.stream.sample_rate,
            seed: self.config.seed,
        }
    }

    fn reserve(&mut self, floats: usize) -> Result<()> {
        // Room for blocks a little longer than this one, so jitter in block size does not
        // reallocate every time.
        let floats = floats.saturating_add(floats / 4).min(u32::MAX as usize / 4);
        self.run(Callback::Process, Command::Reserve { floats: floats as u32 }, None)?;
        let buffer = self.instance.as_ref().and_then(|i| i.mailbox().lock().buffer);
        self.capacity = buffer.map_or(0, |(_, cap)| cap as usize);
        Ok(())
    }

    fn deadline(&self, callback: Callback) -> Duration {
        match callback {
            Callback::Import | Callback::Init => self.limits.init_deadline,
            _ => self.limits.callback_deadline,
        }
    }

    pub(crate) fn run(&mut self, callback: Callback, command: Command, block: Option<RawBlock>) -> Result<()> {
        self.ensure_running()?;
        let deadline = self.deadline(callback);
        let instance = self.instance.as_mut().expect("ensure_running leaves an instance");
        match instance.run(command, block, deadline) {
            Ok(Outcome::Done) => Ok(()),
            Ok(Outcome::Failed(failure)) => Err(self.python_error(failure)),
            Err(died) => Err(self.lost(callback, died, deadline)),
        }
    }

    /// Errors while switched off or pausing; restarts the interpreter when it is time.
    fn ensure_running(&mut self) -> Result<()> {
        if let Some(reason) = self.recovery.disabled() {
            return Err(Error::Disabled { script: self.script.clone(), reason: reason.to_owned() });
        }
        if self.instance.is_none() {
            if !self.recovery.restart_now() {
                return Err(Error::Restarting { script: self.script.clone(), blocks_left: self.recovery.blocks_left() });
            }
            self.restart()?;
        }
        Ok(())
    }

    /// A fresh interpreter with the same script, stream and state (acquiring, recording).
    fn restart(&mut self) -> Result<()> {
        self.stats.restarts += 1;
        let started = GuestInstance::start(&self.engine, &self.config);
        let instance = match started {
            Ok(instance) => instance,
            Err(e) => {
                self.recovery.failed(&e.to_string());
                return Err(e);
            }
        };
        self.instance = Some(instance);
        self.capacity = 0;
        let mut replay = vec![(Callback::Import, self.load_command(self.source.clone()))];
        if self.acquiring {
            replay.push((Callback::StartAcquisition, Command::Call(Callback::StartAcquisition)));
        }
        if let Some(dir) = &self.recording {
            replay.push((Callback::StartRecording, Command::StartRecording { dir: dir.clone() }));
        }
        for (callback, command) in replay {
            let deadline = self.deadline(callback);
            let instance = self.instance.as_mut().expect("just started");
            match instance.run(command, None, deadline) {
                Ok(Outcome::Done) => {}
                Ok(Outcome::Failed(failure)) => {
                    let err = self.python_error(failure);
                    self.drop_instance();
                    self.recovery.failed(&err.to_string());
                    return Err(err);
                }
                Err(died) => return Err(self.lost(callback, died, deadline)),
            }
        }
        tracing::warn!(script = %self.script.display(), "restarted the interpreter after a failure");
        Ok(())
    }

    /// The interpreter stopped for good: count it, plan the restart, say so.
    fn lost(&mut self, callback: Callback, died: Died, limit: Duration) -> Error {
        let callback = died.stage.unwrap_or(callback);
        self.drop_instance();
        self.recovery.failed(&died.reason);
        let next = self.recovery.next_step();
        let script = self.script.clone();
        if died.deadline {
            Error::DeadlineExceeded { script, callback, limit, ran_for: died.ran_for, next }
        } else {
            Error::InstanceDied { script, callback, reason: died.reason, next }
        }
    }

    fn drop_instance(&mut self) {
        if let Some(instance) = self.instance.take() {
            add_dropped(&mut self.stats, instance.mailbox().lock().dropped);
        }
    }

    fn python_error(&self, f: PythonFailure) -> Error {
        Error::Python { script: self.script.clone(), callback: f.callback, line: f.line, summary: f.summary, traceback: f.traceback }
    }
}

fn add_dropped(stats: &mut Stats, dropped: Dropped) {
    stats.events_dropped += dropped.events;
    stats.spikes_dropped += dropped.spikes;
    stats.output_bytes_dropped += dropped.output_bytes;
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor").field("script", &self.script).field("stream", &self.stream).field("status", &self.status()).finish()
    }
}
