//! The processor behind `pyproc::Processor`: a real-time path that never waits, a control
//! path that may, and a reload that swaps a fresh interpreter in between two blocks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use ndarray::ArrayView2;
use pyproc_host::{Denials, Engine, Error, Limits, Processor, ShardedProcessor, SpikeIn, Status as HostStatus, TtlEventIn};

use crate::denial_report;
use crate::engine_handle::EngineHandle;
use crate::error_report::{no_error, report, status_of, status_of_pass_through};
use crate::ffi::{DenialReport, ErrorReport, ProcessResult, ProcessorOptions, Status, TtlEventOut};
use crate::grants::grants_of;

/// How long `reload` waits for the real-time thread to pick the new interpreter up before
/// it swaps it in itself (blocks are not flowing, or are flowing very slowly).
const SWAP_WAIT: Duration = Duration::from_millis(500);

pub struct ProcessorHandle {
    engine: Engine,
    /// The processor blocks go through. The real-time thread only `try_lock`s it.
    live: Mutex<ShardedProcessor>,
    /// A freshly loaded processor waiting to replace `live` at the next block.
    incoming: Mutex<Option<ShardedProcessor>>,
    /// The processor `incoming` replaced, handed back so the control thread drops it (an
    /// interpreter is too big to free on the real-time thread).
    outgoing: Mutex<Option<ShardedProcessor>>,
    /// What a reload must rebuild: only the control thread touches it.
    control: Mutex<Control>,
    last_error: Mutex<ErrorReport>,
    errors: AtomicU64,
    /// Refusals of the processors reloads replaced (control thread only).
    retired_denials: Mutex<Denials>,
}

struct Control {
    script: String,
    options: ProcessorOptions,
    num_channels: u32,
    sample_rate: f64,
    acquiring: bool,
    recording: Option<String>,
}

pub fn processor_load(
    engine: &EngineHandle,
    script: &str,
    num_channels: u32,
    sample_rate: f64,
    options: &ProcessorOptions,
) -> Result<Box<ProcessorHandle>, Error> {
    let control = Control { script: script.to_owned(), options: options.clone(), num_channels, sample_rate, acquiring: false, recording: None };
    let processor = control.build(&engine.0)?;
    Ok(Box::new(ProcessorHandle {
        engine: engine.0.clone(),
        live: Mutex::new(processor),
        incoming: Mutex::new(None),
        outgoing: Mutex::new(None),
        control: Mutex::new(control),
        last_error: Mutex::new(no_error()),
        errors: AtomicU64::new(0),
        retired_denials: Mutex::new(Denials::default()),
    }))
}

impl Control {
    fn build(&self, engine: &Engine) -> Result<ShardedProcessor, Error> {
        let o = &self.options;
        let defaults = Limits::default();
        let ms = |value: u32, default: Duration| if value == 0 { default } else { Duration::from_millis(value.into()) };
        let limits = Limits {
            callback_deadline: ms(o.callback_deadline_ms, defaults.callback_deadline),
            init_deadline: ms(o.init_deadline_ms, defaults.init_deadline),
            memory_bytes: if o.memory_limit_mb == 0 { defaults.memory_bytes } else { o.memory_limit_mb as usize * 1024 * 1024 },
            ..defaults
        };
        let mut builder = Processor::builder(engine, &self.script)
            .stream(self.num_channels as usize, self.sample_rate)
            .seed(o.seed)
            .limits(limits)
            .grants(grants_of(o)?);
        if !o.label.is_empty() {
            builder = builder.label(o.label.as_str());
        }
        if !o.recording_root.is_empty() {
            builder = builder.recording_root(o.recording_root.as_str());
        }
        let mut sharded = builder.sharded().assume_channel_independent(o.assume_channel_independent);
        if o.shards != 0 {
            sharded = sharded.shards(o.shards as usize);
        }
        let mut processor = sharded.build()?;
        // A reloaded processor joins in the state its predecessor was in.
        if self.acquiring {
            processor.start_acquisition()?;
        }
        if let Some(dir) = &self.recording {
            processor.start_recording(dir)?;
        }
        Ok(processor)
    }
}

/// `try_lock`, treating a poisoned lock as usable: a panic elsewhere leaves a processor
/// that still works or reports its own errors.
fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ProcessorHandle {
    /// # Safety
    /// Each entry of `channels` is a `float*` valid for `num_samples` reads and writes for
    /// the length of the call; no two overlap.
    pub unsafe fn process(&self, channels: &[usize], num_samples: usize, first_sample: i64, events: &mut [TtlEventOut]) -> ProcessResult {
        let mut result = ProcessResult { status: Status::Ok, num_events: 0, events_dropped: 0, spikes_dropped: 0 };
        let Some(mut live) = try_lock(&self.live) else {
            result.status = Status::Busy;
            return result;
        };
        self.swap_in_incoming(&mut live);
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
                result.spikes_dropped = emitted.spikes.len();
                // Every failed shard is counted; the status and last_error are the last one's.
                for error in processed.failed {
                    result.status = self.failed(error);
                }
                if let (Status::Ok, Some((_, why))) = (result.status, processed.passed_through.first()) {
                    result.status = status_of_pass_through(why);
                }
            }
            Err(error) => result.status = self.failed(&error),
        }
        result
    }

    /// Puts a reloaded processor in place of the live one, if one is waiting and the old
    /// one can be handed back without waiting.
    fn swap_in_incoming(&self, live: &mut ShardedProcessor) {
        let Some(mut outgoing) = try_lock(&self.outgoing) else { return };
        if outgoing.is_some() {
            return; // the control thread has not collected the previous one yet
        }
        let Some(mut incoming) = try_lock(&self.incoming) else { return };
        if let Some(fresh) = incoming.take() {
            *outgoing = Some(std::mem::replace(live, fresh));
        }
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

    /// Runs `call` on the live processor if nobody else holds it (real-time path).
    fn on_live_now(&self, call: impl FnOnce(&mut ShardedProcessor) -> Result<(), Error>) -> Status {
        let Some(mut live) = try_lock(&self.live) else { return Status::Busy };
        match call(&mut live) {
            Ok(()) => Status::Ok,
            Err(error) => self.failed(&error),
        }
    }

    /// Runs `call` on the live processor, waiting for the real-time thread's block to end
    /// (control path).
    fn on_live(&self, call: impl FnOnce(&mut ShardedProcessor) -> Result<(), Error>) -> Status {
        let mut live = lock(&self.live);
        match call(&mut live) {
            Ok(()) => Status::Ok,
            Err(error) => self.failed(&error),
        }
    }

    /// Records the failure for `last_error` (if the control thread is not reading it right
    /// now: then only the count goes up) and says what kind it was.
    fn failed(&self, error: &Error) -> Status {
        let sequence = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(mut last) = try_lock(&self.last_error) {
            *last = report(error, sequence);
        }
        status_of(error)
    }

    pub fn start_acquisition(&self) -> Status {
        let mut control = lock(&self.control);
        control.acquiring = true;
        self.on_live(|p| p.start_acquisition())
    }

    pub fn stop_acquisition(&self) -> Status {
        let mut control = lock(&self.control);
        control.acquiring = false;
        self.on_live(|p| p.stop_acquisition())
    }

    pub fn start_recording(&self, dir: &str) -> Status {
        let mut control = lock(&self.control);
        control.recording = Some(dir.to_owned());
        let granted = lock(&self.live).can_record_in(dir);
        if !granted && !control.options.recording_root.is_empty() {
            // The host records somewhere new since the script was loaded. An interpreter's
            // folders are fixed when it starts, so a fresh one gets the new folder's parent
            // (later sessions beside it need no restart) and starts recording as it joins.
            if let Some(parent) = std::path::Path::new(dir).parent().and_then(|p| p.to_str()) {
                control.options.recording_root = parent.to_owned();
                drop(control);
                return self.reload();
            }
        }
        self.on_live(|p| p.start_recording(dir))
    }

    pub fn stop_recording(&self) -> Status {
        let mut control = lock(&self.control);
        control.recording = None;
        self.on_live(|p| p.stop_recording())
    }

    pub fn set_stream(&self, num_channels: u32, sample_rate: f64) -> Status {
        let mut control = lock(&self.control);
        let status = self.on_live(|p| p.set_stream(num_channels as usize, sample_rate));
        if status == Status::Ok {
            control.num_channels = num_channels;
            control.sample_rate = sample_rate;
        }
        status
    }

    pub fn reload(&self) -> Status {
        let control = lock(&self.control);
        let fresh = match control.build(&self.engine) {
            Ok(fresh) => fresh,
            Err(error) => return self.failed(&error),
        };
        // An older reload the real-time thread never picked up is replaced.
        drop(lock(&self.incoming).replace(fresh));
        let asked = Instant::now();
        while control.acquiring && asked.elapsed() < SWAP_WAIT {
            if lock(&self.outgoing).is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // Blocks are not flowing: swap it in here.
        if let Some(fresh) = lock(&self.incoming).take() {
            let old = std::mem::replace(&mut *lock(&self.live), fresh);
            self.retire(old);
        }
        if let Some(old) = lock(&self.outgoing).take() {
            self.retire(old);
        }
        Status::Ok
    }

    /// Frees a replaced processor (control thread: an interpreter is too big to free on
    /// the real-time thread), keeping what it was refused.
    fn retire(&self, old: ShardedProcessor) {
        lock(&self.retired_denials).merge(old.denials());
        drop(old);
    }

    pub fn denials(&self) -> DenialReport {
        let mut total = lock(&self.retired_denials).clone();
        total.merge(lock(&self.live).denials());
        denial_report::report(&total)
    }

    pub fn last_error(&self) -> ErrorReport {
        lock(&self.last_error).clone()
    }

    pub fn status_text(&self) -> String {
        match lock(&self.live).status() {
            HostStatus::Running => "running".to_owned(),
            HostStatus::Restarting { blocks_left, consecutive_failures } => {
                format!("restarting after failure {consecutive_failures} (in {blocks_left} blocks)")
            }
            HostStatus::Disabled { reason } => format!("switched off: {reason}"),
            other => format!("{other:?}"),
        }
    }

    pub fn script_path(&self) -> String {
        lock(&self.control).script.clone()
    }

    pub fn num_channels(&self) -> u32 {
        lock(&self.control).num_channels
    }

    pub fn num_shards(&self) -> u32 {
        lock(&self.live).shard_count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation_count::allocations_in;
    use crate::engine_handle::engine_new;

    const CHANNELS: usize = 4;
    const SAMPLES: usize = 256;
    const EVENTS: usize = 34;
    const SPIKES: usize = 10;

    fn options() -> ProcessorOptions {
        ProcessorOptions {
            seed: 1,
            label: String::new(),
            recording_root: String::new(),
            callback_deadline_ms: 0,
            init_deadline_ms: 0,
            memory_limit_mb: 0,
            script_folder: true,
            allow_read: Vec::new(),
            allow_write: Vec::new(),
            allow_net: Vec::new(),
            allow_listen: Vec::new(),
            shards: 1,
            assume_channel_independent: false,
        }
    }

    /// Queues `events` TTL events and `spikes` spikes, as the real-time thread does before a
    /// block; returns the allocations that made, and every status.
    fn queue(handle: &ProcessorHandle, events: usize, spikes: usize, waveform: &[f32]) -> (Vec<Status>, u64) {
        let mut statuses = Vec::with_capacity(events + spikes);
        let ((), allocated) = allocations_in(|| {
            for i in 0..events {
                statuses.push(handle.handle_ttl_event(104, "TTL", i as i64 * 30, 1, i % 2 == 0));
            }
            for i in 0..spikes {
                statuses.push(handle.handle_spike(105, "Tetrode 1", i as i64 * 100, 0, waveform, 4, 40));
            }
        });
        (statuses, allocated)
    }

    #[test]
    fn queueing_events_and_spikes_allocates_nothing_and_a_block_carrying_them_no_more_than_one_without() {
        let engine = engine_new("").expect("the interpreter is prepared");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts/cpp_contract.py");
        let handle = processor_load(&engine, script, CHANNELS as u32, 30_000.0, &options()).expect("the script loads");
        let mut data = vec![vec![1.0f32; SAMPLES]; CHANNELS];
        let waveform: Vec<f32> = (0..4 * 40).map(|i| (i as f32 * 0.3).sin() * 80.0).collect();
        let mut out = [TtlEventOut { sample_number: 0, line: 0, state: false }; 64];
        let mut block = |first: i64, out: &mut [TtlEventOut]| {
            let channels: Vec<usize> = data.iter_mut().map(|c| c.as_mut_ptr() as usize).collect();
            allocations_in(|| unsafe { handle.process(&channels, SAMPLES, first, out) })
        };
        // Steady state: the buffers on both sides have grown to what a block needs.
        for round in 0..5 {
            queue(&handle, EVENTS, SPIKES, &waveform);
            block(round * SAMPLES as i64, &mut out);
        }

        let (statuses, allocated) = queue(&handle, EVENTS, SPIKES, &waveform);
        assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
        assert_eq!(allocated, 0, "handle_ttl_event and handle_spike allocate nothing");
        let (with_events, allocated_with) = block(5 * SAMPLES as i64, &mut out);
        assert_eq!((with_events.status, with_events.num_events), (Status::Ok, EVENTS + SPIKES), "every event echoed");

        // The same mix (events, then spikes: one change of handler, announced to the host),
        // one of each.
        let (_, allocated) = queue(&handle, 1, 1, &waveform);
        assert_eq!(allocated, 0);
        let (one_each, allocated_one) = block(6 * SAMPLES as i64, &mut out);
        assert_eq!((one_each.status, one_each.num_events), (Status::Ok, 2));
        assert_eq!(allocated_with, allocated_one, "a block allocates nothing per event or spike it carries");
    }
}
