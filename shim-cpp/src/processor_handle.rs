//! The processor behind `pyproc::Processor`. The real-time thread runs blocks; control
//! calls reach the processor between two blocks through a mailbox (or, when no blocks
//! flow, on the control thread while blocks wait); a stopped interpreter is replaced by a
//! thread of the handle's own and swapped in between two blocks; and what the UI reads is
//! published as the processor runs, so reading it never touches the processor.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ndarray::ArrayView2;
use pyproc_host::{DenialLog, Denials, Engine, Error, ShardedProcessor, SpikeIn, TtlEventIn};

use crate::block_clock::BlockClock;
use crate::control::Control;
use crate::control_mailbox::{ControlCall, Mailbox};
use crate::denial_report;
use crate::engine_handle::EngineHandle;
use crate::error_report::{status_of, status_of_pass_through};
use crate::ffi::{DenialReport, ErrorReport, OutputTarget, PassThroughCounts, ProcessResult, ProcessorOptions, SpikeOut, Status, TtlEventOut};
use crate::last_error::LastError;
use crate::locks::lock;
use crate::output_relay::OutputRelay;
use crate::plots::{Plots, Spec};
use crate::published::Published;
use crate::replacement::{Built, Ready, Replacement};

/// How often the control thread looks whether its call was run.
const POLL: Duration = Duration::from_micros(100);

pub struct ProcessorHandle {
    shared: Arc<Shared>,
    replacer: Option<JoinHandle<()>>,
}

/// What the handle's threads share: the real-time thread, the control thread, the UI
/// (reading) and the replacement thread.
struct Shared {
    engine: Engine,
    script: String,
    /// What pyproc's notes in the log are tagged with: the label given, else the script.
    label: String,
    /// The processor blocks go through. The real-time thread finds it free, and waits
    /// only while the control thread runs a call itself (blocks were not flowing).
    live: Mutex<ShardedProcessor>,
    /// What a reload or a restart rebuilds: the control and replacement threads only.
    control: Mutex<Control>,
    mailbox: Mailbox,
    clock: BlockClock,
    replacement: Replacement,
    /// Counts the changes to what a build makes (a processor swapped in, a new stream): a
    /// build from earlier settings is not put in.
    generation: AtomicU64,
    published: Published,
    last_error: LastError,
    /// The refusal logs of every processor that went in, read by `denials` on the UI thread.
    denial_logs: Mutex<Vec<DenialLog>>,
    /// Those of the replacement built last, added when it goes in: a spare's refusals
    /// count only if it is used.
    replacement_denials: Mutex<Vec<DenialLog>>,
    plots: Plots,
    /// Where printed lines and pyproc's notes go, when the host gave a callback. Last, so
    /// that it stops (and stops calling the host) after everything that writes to it.
    output: Option<OutputRelay>,
}

/// # Safety
/// `output` is null or points at an `OutputTarget` that outlives the handle.
pub unsafe fn processor_load(
    engine: &EngineHandle,
    script: &str,
    num_channels: u32,
    sample_rate: f64,
    options: &ProcessorOptions,
    output: *const OutputTarget,
) -> Result<Box<ProcessorHandle>, Box<dyn std::error::Error>> {
    let relay = if output.is_null() {
        None
    } else {
        Some(OutputRelay::start(output).map_err(|e| format!("pyproc: cannot start the thread that passes on the script's output ({e}); the system is out of threads"))?)
    };
    let sink = relay.as_ref().map(OutputRelay::sink);
    let control = Control { script: script.to_owned(), options: options.clone(), num_channels, sample_rate, acquiring: false, recording: None, output: sink };
    let processor = control.build(&engine.0)?;
    let plots = Plots::start().map_err(|e| format!("pyproc: cannot start the thread that draws the script's plots ({e}); the system is out of threads"))?;
    plots.rebuild(Spec::of(&control, &engine.0));
    let shared = Arc::new(Shared {
        engine: engine.0.clone(),
        script: script.to_owned(),
        label: if options.label.is_empty() { script.to_owned() } else { options.label.clone() },
        published: {
            let published = Published::new(processor.shard_count() as u32, num_channels);
            published.events_outside_acquisition.store(processor.stats().events_outside_acquisition, Ordering::Relaxed);
            published
        },
        denial_logs: Mutex::new(processor.denial_logs()),
        replacement_denials: Mutex::new(Vec::new()),
        live: Mutex::new(processor),
        control: Mutex::new(control),
        mailbox: Mailbox::new(),
        clock: BlockClock::new(),
        replacement: Replacement::new(options.spare_interpreter),
        generation: AtomicU64::new(0),
        last_error: LastError::new(),
        plots,
        output: relay,
    });
    let worker = Arc::clone(&shared);
    let replacer = std::thread::Builder::new()
        .name("pyproc-replace".into())
        .spawn(move || worker.replacement.serve(|| worker.build_replacement(), || worker.replaced()))
        .map_err(|e| format!("pyproc: cannot start the thread that replaces failed interpreters ({e}); the system is out of threads"))?;
    let _ = shared.replacement.thread.set(replacer.thread().clone());
    Ok(Box::new(ProcessorHandle { shared, replacer: Some(replacer) }))
}

impl Drop for ProcessorHandle {
    fn drop(&mut self) {
        self.shared.replacement.stop();
        if let Some(replacer) = self.replacer.take() {
            let _ = replacer.join();
        }
    }
}

impl Shared {
    /// The live processor: at once, or after the control call the control thread is
    /// running on it (bounded by that callback's deadline; the wait is counted).
    fn live_now(&self) -> MutexGuard<'_, ShardedProcessor> {
        lock(&self.live)
    }

    /// Between two blocks: a replacement goes in if the live processor waits for one, then
    /// the posted control call runs.
    fn between_blocks(&self, live: &mut ShardedProcessor) {
        self.take_replacement(live);
        self.mailbox.run_posted(|call| self.run_call(live, call));
    }

    fn take_replacement(&self, live: &mut ShardedProcessor) {
        let generation = self.generation.load(Ordering::Acquire);
        self.replacement.take_ready(generation, live.needs_replacement(), |built| match built {
            Built::Fresh(fresh) => {
                if let Err(error) = fresh.swap_into(live) {
                    self.last_error.record_now(error);
                }
                self.swapped(live);
                true
            }
            Built::Failed(reason) => {
                live.replacement_failed(reason);
                false
            }
        });
    }

    fn run_call(&self, live: &mut ShardedProcessor, call: &mut ControlCall) -> Result<(), Error> {
        let result = call.run(live);
        if let ControlCall::Swap(_) = call {
            self.swapped(live);
        }
        // Only control calls (and construction) drop events emitted outside acquisition;
        // blocks never do, so the real-time path does not read the stats.
        self.published.events_outside_acquisition.store(live.stats().events_outside_acquisition, Ordering::Relaxed);
        result
    }

    fn swapped(&self, live: &ShardedProcessor) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.published.num_shards.store(live.shard_count() as u32, Ordering::Relaxed);
    }

    /// After a block or a control call: publishes the status and asks for a replacement
    /// when an interpreter stopped and its pause is over. Allocates nothing.
    fn after(&self, live: &ShardedProcessor) {
        self.published.status(live.status());
        if live.needs_replacement() {
            self.replacement.request();
        }
    }

    /// The replacement thread's work: a processor from the handle's settings, to replace
    /// one whose interpreter stops. It builds from a copy of the settings, so control calls
    /// do not wait for it.
    fn build_replacement(&self) -> Ready {
        let (control, generation) = {
            let control = lock(&self.control);
            (control.clone(), self.generation.load(Ordering::Acquire))
        };
        let built = match control.replacement(&self.engine) {
            Ok(fresh) => {
                *lock(&self.replacement_denials) = fresh.processor.denial_logs();
                Built::Fresh(Box::new(fresh))
            }
            Err(error) => {
                lock(&self.replacement_denials).clear();
                let reason = error.to_string();
                if control.options.spare_interpreter {
                    // The running interpreter is not affected: say so, and count it only
                    // if this spare is needed.
                    self.note(&format!("could not prepare a spare interpreter; if the running one fails, it is counted as a failed restart: {reason}"));
                } else {
                    self.last_error.record_waiting(error);
                }
                Built::Failed(reason)
            }
        };
        Ready { built, generation }
    }

    /// The replacement thread, after a stopped interpreter was replaced: its successor's
    /// refusals count from now on, and the log says what happened.
    fn replaced(&self) {
        let successor = std::mem::take(&mut *lock(&self.replacement_denials));
        lock(&self.denial_logs).extend(successor);
        let why = self.last_error.read().message.lines().next().unwrap_or("").to_owned();
        self.note(&format!("the interpreter stopped ({why}); a fresh one with the same script took its place"));
    }

    /// A line of pyproc's own in the host's log, when it gave an output callback.
    fn note(&self, text: &str) {
        if let Some(output) = &self.output {
            output.note(&self.label, text);
        }
    }

    /// Posts `call` and waits until a block has run it, or runs it here when blocks are not
    /// flowing. Returns the call (with what it left: a swapped-out processor, freed by the
    /// caller on this thread) and its status.
    fn control_call(&self, call: ControlCall) -> (Option<ControlCall>, Status) {
        self.mailbox.post(call);
        while !self.mailbox.is_done() {
            if self.clock.blocks_stopped() && self.mailbox.claim() {
                let mut live = lock(&self.live);
                self.take_replacement(&mut live);
                self.mailbox.run_claimed(|call| self.run_call(&mut live, call));
                self.after(&live);
                break;
            }
            std::thread::sleep(POLL);
        }
        let (call, outcome) = self.mailbox.collect();
        let status = match outcome {
            Ok(()) => Status::Ok,
            Err(error) => self.last_error.record_waiting(error),
        };
        (call, status)
    }

    /// Builds the script afresh from `control` and swaps it in between two blocks; on
    /// failure the old processor keeps running.
    fn reload_with(&self, control: &Control) -> Status {
        let fresh = match control.reloaded(&self.engine) {
            Ok(fresh) => fresh,
            Err(error) => return self.last_error.record_waiting(error),
        };
        lock(&self.denial_logs).extend(fresh.processor.denial_logs());
        let (old, status) = self.control_call(ControlCall::Swap(Box::new(fresh)));
        // The processor swapped out, freed here: an interpreter is too big to free on the
        // real-time thread.
        drop(old);
        status
    }
}

impl ProcessorHandle {
    /// # Safety
    /// Each entry of `channels` is a `float*` valid for `num_samples` reads and writes for
    /// the length of the call; no two overlap.
    pub unsafe fn process(&self, channels: &[usize], num_samples: usize, first_sample: i64, events: &mut [TtlEventOut], spikes: &mut [SpikeOut]) -> ProcessResult {
        let s = &*self.shared;
        s.clock.block_starts();
        let mut result = ProcessResult { status: Status::Ok, num_events: 0, events_dropped: 0, num_spikes: 0, spikes_dropped: 0, control_us: 0 };
        let mut live = s.live_now();
        let before_control = Instant::now();
        s.between_blocks(&mut live);
        result.control_us = before_control.elapsed().as_micros() as u64;
        // SAFETY: a pointer and a usize have the same size and layout (checked by the C++
        // header too), and the caller vouches for what they point at.
        let channels = std::slice::from_raw_parts(channels.as_ptr().cast::<*mut f32>(), channels.len());
        match live.process_channels(channels, num_samples, first_sample) {
            Ok(processed) => {
                let emitted = processed.emitted;
                let fit = emitted.events.len().min(events.len());
                for (out, event) in events.iter_mut().zip(emitted.events) {
                    *out = TtlEventOut { sample_number: event.sample_number, line: event.line, state: event.state };
                }
                result.num_events = fit;
                result.events_dropped = emitted.events.len() - fit;
                let fit = emitted.spikes.len().min(spikes.len());
                for (out, spike) in spikes.iter_mut().zip(emitted.spikes) {
                    out.sample_number = spike.sample_number;
                    out.channel = spike.channel;
                    out.sorted_id = spike.sorted_id;
                    out.has_waveform = false;
                    if let Some(waveform) = &spike.waveform {
                        out.waveform = *waveform;
                        out.has_waveform = true;
                    }
                }
                result.num_spikes = fit;
                result.spikes_dropped = emitted.spikes.len() - fit;
                if let Some((_, why)) = processed.passed_through.first() {
                    result.status = status_of_pass_through(why);
                }
            }
            Err(error) => result.status = s.last_error.record_now(error),
        }
        // Every failed shard is counted; the status and last_error are the last one's. The
        // errors are moved to the readers as they are: formatting them is the reader's work.
        for error in live.take_failed() {
            result.status = s.last_error.record_now(error);
        }
        s.published.block(result.status);
        s.after(&live);
        s.plots.offer(&live);
        drop(live);
        s.clock.block_ends();
        result
    }

    pub fn handle_ttl_event(&self, source_node: i64, channel: &str, sample_number: i64, line: u8, state: bool) -> Status {
        let event = TtlEventIn { source_node, channel, sample_number, line, state };
        self.on_live_now(|p| p.handle_ttl_event(&event))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn handle_spike(
        &self,
        source_node: i64,
        electrode_name: &str,
        sample_number: i64,
        sorted_id: i64,
        waveform: &[f32],
        num_channels: u32,
        num_samples: u32,
    ) -> Status {
        let Ok(waveform) = ArrayView2::from_shape((num_channels as usize, num_samples as usize), waveform) else {
            return Status::BadBlock;
        };
        let spike = SpikeIn { source_node, electrode_name, sample_number, sorted_id, waveform };
        self.on_live_now(|p| p.handle_spike(&spike))
    }

    /// Runs `call` on the live processor (real-time path; queueing, in the usual case).
    fn on_live_now(&self, call: impl FnOnce(&mut ShardedProcessor) -> Result<(), Error>) -> Status {
        let s = &*self.shared;
        let mut live = s.live_now();
        match call(&mut live) {
            Ok(()) => Status::Ok,
            Err(error) => match status_of(&error) {
                // The interpreter is being replaced or is switched off: the status says so,
                // and `last_error` keeps the failure that caused it.
                status @ (Status::Restarting | Status::Disabled) => status,
                _ => s.last_error.record_now(error),
            },
        }
    }

    /// Changes the deadline of blocks (`process` and the handlers) from the next one on;
    /// reloads and restarts keep it.
    pub fn set_block_deadline(&self, ms: u32) -> Status {
        let mut control = lock(&self.shared.control);
        control.options.block_deadline_ms = ms;
        let deadline = (ms > 0).then(|| std::time::Duration::from_millis(ms.into()));
        self.shared.control_call(ControlCall::SetBlockDeadline(deadline)).1
    }

    pub fn start_acquisition(&self) -> Status {
        let mut control = lock(&self.shared.control);
        control.acquiring = true;
        self.shared.control_call(ControlCall::StartAcquisition).1
    }

    pub fn stop_acquisition(&self) -> Status {
        let mut control = lock(&self.shared.control);
        control.acquiring = false;
        self.shared.control_call(ControlCall::StopAcquisition).1
    }

    pub fn start_recording(&self, dir: &str) -> Status {
        let mut control = lock(&self.shared.control);
        control.recording = Some(dir.to_owned());
        if !control.options.recording_root.is_empty() && !control.can_record_in(dir) {
            // The host records somewhere new since the script was loaded. An interpreter's
            // folders are fixed when it starts, so a fresh one gets the new folder's parent
            // (later sessions beside it need no restart) and starts recording as it joins.
            if let Some(parent) = std::path::Path::new(dir).parent().and_then(|p| p.to_str()) {
                control.options.recording_root = parent.to_owned();
                return self.shared.reload_with(&control);
            }
        }
        self.shared.control_call(ControlCall::StartRecording(dir.to_owned())).1
    }

    pub fn stop_recording(&self) -> Status {
        let mut control = lock(&self.shared.control);
        control.recording = None;
        self.shared.control_call(ControlCall::StopRecording).1
    }

    pub fn set_stream(&self, num_channels: u32, sample_rate: f64) -> Status {
        let mut control = lock(&self.shared.control);
        // A spare built for the old stream is not put in, from the block the call runs at.
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        let status = self.shared.control_call(ControlCall::SetStream { num_channels, sample_rate }).1;
        if status == Status::Ok {
            control.num_channels = num_channels;
            control.sample_rate = sample_rate;
            self.shared.published.num_channels.store(num_channels, Ordering::Relaxed);
            self.shared.plots.rebuild(Spec::of(&control, &self.shared.engine));
        }
        status
    }

    pub fn reload(&self) -> Status {
        let control = lock(&self.shared.control);
        let status = self.shared.reload_with(&control);
        if status == Status::Ok {
            self.shared.plots.rebuild(Spec::of(&control, &self.shared.engine));
        }
        status
    }

    pub fn denials(&self) -> DenialReport {
        let logs = lock(&self.shared.denial_logs).clone();
        let total = logs.iter().fold(Denials::default(), |mut total, log| {
            total.merge(log.snapshot());
            total
        });
        denial_report::report(&total)
    }

    pub fn last_error(&self) -> ErrorReport {
        self.shared.last_error.read()
    }

    pub fn status_text(&self) -> String {
        self.shared.published.text()
    }

    pub fn pass_through_counts(&self) -> PassThroughCounts {
        self.shared.published.pass_through_counts()
    }

    pub fn script_path(&self) -> String {
        self.shared.script.clone()
    }

    pub fn num_channels(&self) -> u32 {
        self.shared.published.num_channels.load(Ordering::Relaxed)
    }

    pub fn events_outside_acquisition(&self) -> u64 {
        self.shared.published.events_outside_acquisition.load(Ordering::Relaxed)
    }

    pub fn num_shards(&self) -> u32 {
        self.shared.published.num_shards.load(Ordering::Relaxed)
    }

    pub fn spare_ready(&self) -> bool {
        self.shared.replacement.spare_ready(self.shared.generation.load(Ordering::Acquire))
    }
}

mod viewer;

#[cfg(test)]
mod realtime_tests;

#[cfg(test)]
mod tests;
