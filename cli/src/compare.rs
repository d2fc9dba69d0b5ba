//! `pyproc compare`: one script in pyproc and, side by side, in the user's own CPython
//! called exactly as the original Open Ephys plugin calls it, over the same blocks, events
//! and spikes; then what differs.

mod difference;
mod native;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use ndarray::Array2;
use pyproc_host::{Callback, Engine, Error, Processed, Processor};

use crate::input::{AsEventIn, Cursor, Input};
use crate::progress;
pub use difference::Comparison;
use difference::{Spike, NATIVE, PYPROC};
use native::NativeSide;
pub use native::default_python;

pub struct CompareOptions {
    pub script: PathBuf,
    pub input: PathBuf,
    pub stream: Option<String>,
    pub block_size: usize,
    /// The native CPython (with numpy and scipy).
    pub python: PathBuf,
    pub random_seed: u64,
    pub deadline: Duration,
    pub grants: pyproc_host::Grants,
}

pub fn compare(engine: impl FnOnce() -> anyhow::Result<Engine>, options: CompareOptions) -> anyhow::Result<Comparison> {
    let input = Input::open(&options.input, options.stream.as_deref())?;
    let info = input.info().clone();
    let (channels, rate) = (info.num_channels, info.sample_rate);
    let mut comparison = Comparison::new(channels, info.channels.iter().map(|c| c.bit_volts).collect());
    comparison.script = options.script.display().to_string();
    comparison.input = format!("{} ({} channels, stream {})", input.recording.dir.display(), channels, info.stream_name);
    comparison.native = format!("{}: {}", options.python.display(), native::probe(&options.python)?);

    // Each side records into a folder of its own, so that files they write do not mix.
    let scratch = tempfile::Builder::new().prefix("pyproc-compare-").tempdir().context("creating a temporary folder")?;
    let (ours_dir, theirs_dir) = (scratch.path().join("pyproc"), scratch.path().join("native"));
    std::fs::create_dir_all(&ours_dir).and_then(|()| std::fs::create_dir_all(&theirs_dir)).context("creating the recording folders")?;
    let (mut theirs, raised) = NativeSide::start(&options.python, &options.script, channels, rate)?;
    if let Some(text) = raised {
        comparison.raised(NATIVE, "__init__", None, text);
    }
    let engine = &engine()?;
    let built = Processor::builder(engine, &options.script)
        .stream(channels, rate)
        .recording_root(&ours_dir)
        .seed(options.random_seed)
        .grants(options.grants.clone())
        .limits(pyproc_host::Limits { callback_deadline: options.deadline, ..Default::default() })
        .build();
    let mut ours = match built {
        Ok(p) => p,
        Err(err) => {
            comparison.raised(PYPROC, "__init__", None, exception_text(&err));
            return Ok(comparison);
        }
    };
    if !comparison.exceptions.is_empty() {
        return Ok(comparison); // only pyproc constructed it: nothing to run side by side
    }

    let both = |c: &mut Comparison, callback: Callback, ours: pyproc_host::Result<()>, theirs: anyhow::Result<Option<String>>| -> anyhow::Result<()> {
        if let Err(err) = ours {
            c.raised(PYPROC, callback.python_name(), None, exception_text(&err));
        }
        if let Some(text) = theirs? {
            c.raised(NATIVE, callback.python_name(), None, text);
        }
        Ok(())
    };
    both(&mut comparison, Callback::StartAcquisition, ours.start_acquisition(), theirs.start_acquisition())?;
    let recording = "Record Node 101";
    both(&mut comparison, Callback::StartRecording, ours.start_recording(ours_dir.join(recording)), theirs.start_recording(&theirs_dir.join(recording)))?;

    let sample_numbers = input.continuous.sample_numbers()?;
    let total = input.continuous.len();
    let bar = progress::samples_bar(total as u64, rate, "comparing  ");
    let mut cursor = Cursor::default();
    let mut start = 0;
    while start < total {
        let n = options.block_size.min(total - start);
        let index = comparison.blocks;
        let mut block = Array2::<f32>::zeros((channels, n));
        input.continuous.read_block(start, &mut block.view_mut())?;
        let mut native_block = block.clone();
        let (first, end) = (sample_numbers[start], sample_numbers[start + n - 1] + 1);
        let (ttl, spike_records) = input.until(&mut cursor, end);
        let events: Vec<_> = ttl.iter().map(|e| e.as_event_in()).collect();
        let waveforms = spike_records.iter().map(|&(_, c, i)| input.spike_channels[c].waveform(i)).collect::<Result<Vec<_>, _>>()?;
        let spikes: Vec<_> = spike_records.iter().zip(&waveforms).map(|(&(sample, c, i), w)| input.spike_in(sample, c, i, w.view())).collect();

        let mut raised_here = false;
        let mut queued = Ok(());
        for event in &events {
            queued = queued.and_then(|()| ours.handle_ttl_event(event));
        }
        for spike in &spikes {
            queued = queued.and_then(|()| ours.handle_spike(spike));
        }
        let (ours_events, ours_spikes) = match queued.and_then(|()| ours.process(block.view_mut(), first)) {
            Ok(Processed::Done(emitted)) => (
                emitted.events.iter().map(|e| (e.sample_number, e.line, e.state)).collect(),
                emitted.spikes.iter().map(|s| Spike { sample_number: s.sample_number, channel: s.channel, sorted_id: s.sorted_id, waveform: s.waveform.map(|w| w.to_vec()) }).collect(),
            ),
            Ok(Processed::PassedThrough(why)) => {
                comparison.raised(PYPROC, "process", Some(index), format!("the block passed the script by: {why}"));
                raised_here = true;
                Default::default()
            }
            Err(err) => {
                let callback = err.callback().unwrap_or(Callback::Process);
                comparison.raised(PYPROC, callback.python_name(), Some(index), exception_text(&err));
                raised_here = true;
                Default::default()
            }
        };
        let (raised, theirs_events, theirs_spikes) = theirs.process(&mut native_block.view_mut(), first, &events, &spikes)?;
        if let Some(text) = raised {
            comparison.raised(NATIVE, native_callback(&text), Some(index), text);
            raised_here = true;
        }
        if !raised_here {
            comparison.data(index, first, n, block.as_slice().expect("standard layout"), native_block.as_slice().expect("standard layout"));
            comparison.events(index, ours_events, theirs_events, ours_spikes, theirs_spikes);
        }
        comparison.blocks += 1;
        bar.inc(n as u64);
        start += n;
    }
    bar.finish_and_clear();
    both(&mut comparison, Callback::StopRecording, ours.stop_recording(), theirs.stop_recording())?;
    both(&mut comparison, Callback::StopAcquisition, ours.stop_acquisition(), theirs.stop_acquisition())?;
    Ok(comparison)
}

/// A pyproc error as the comparison shows it: the script's traceback when it raised,
/// else what pyproc says (a deadline, a crash).
fn exception_text(err: &Error) -> String {
    match err.python_exception() {
        Some(e) if !e.traceback.is_empty() => e.traceback.clone(),
        _ => err.to_string(),
    }
}

/// Which callback a native traceback ended in (the last frame's function).
fn native_callback(traceback: &str) -> &'static str {
    let frames: Vec<&str> = traceback.lines().filter(|l| l.trim_start().starts_with("File ")).collect();
    for name in ["handle_ttl_event", "handle_spike", "process"] {
        if frames.iter().any(|f| f.ends_with(&format!("in {name}"))) {
            return name;
        }
    }
    "process"
}
