//! `pyproc run`: a script over a recording, every callback in the order the GUI uses:
//! `__init__`, `start_acquisition`, `start_recording(dir)`, then per block the TTL events
//! and spikes that fall in it followed by `process`, then `stop_recording`,
//! `stop_acquisition`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use ndarray::Array2;
use pyproc_oebin::Continuous;
use pyproc_host::{Callback, Engine, OutputSink, OutputStream, Processor, ShardedProcessor, Status};

use crate::input::{AsEventIn, Cursor, Input};
use crate::output::OutputRecording;
use crate::plots::{PlotOptions, Plotter};
use crate::progress;
use crate::report::Report;

pub struct RunOptions {
    pub script: PathBuf,
    /// The recording folder (or a folder above a single recording).
    pub input: PathBuf,
    pub stream: Option<String>,
    pub block_size: usize,
    /// Where the output recording goes; None: no output recording (the script's
    /// `start_recording` gets a temporary folder, removed afterwards).
    pub output: Option<PathBuf>,
    /// Seed of the script's random state.
    pub random_seed: u64,
    /// How long each callback may run.
    pub deadline: Duration,
    /// What else of the host the script may reach.
    pub grants: pyproc_host::Grants,
    /// Interpreters to split the channels between (None: one per core), when the script
    /// declares `channel_independent = True` or `assume_channel_independent` says so.
    pub shards: Option<usize>,
    pub assume_channel_independent: bool,
    /// Counts for a caller that draws its own progress (the Python package's tqdm); None:
    /// the CLI's bar, drawn on a terminal.
    pub progress: Option<Arc<RunProgress>>,
    /// Draw the script's `PyVisualizer` into PNG files (`--plots DIR`) and/or onto the
    /// live page (`--live`).
    pub plots: Option<PlotOptions>,
}

/// How far a run has come, for a caller that draws its own progress bar from another
/// thread: the samples per channel of the whole input (set once the input is open) and
/// those processed so far.
#[derive(Debug, Default)]
pub struct RunProgress {
    pub total_samples: AtomicU64,
    pub samples_done: AtomicU64,
}

/// Runs the script over the input. The recording is read and checked, and the output
/// started, before `engine` is asked for the interpreter: a damaged recording is reported
/// before anything else happens.
pub fn run(engine: impl FnOnce() -> anyhow::Result<Engine>, options: RunOptions, interrupted: Arc<AtomicBool>) -> anyhow::Result<Report> {
    let input = Input::open(&options.input, options.stream.as_deref())?;
    if let Some(jumps) = input.continuous.sample_jumps() {
        eprintln!("pyproc: warning: {jumps}");
    }
    let info = input.info().clone();
    let mut output = match &options.output {
        Some(dir) => Some(OutputRecording::create(dir, &input, &options.script)?),
        None => None,
    };
    let engine = &engine()?;
    // Without an output recording the script still gets start/stop_recording, with a
    // temporary folder that lives (in `scratch`) until the run ends.
    let mut scratch = None;
    let recording_dir = match &output {
        Some(out) => out.recording_dir().to_path_buf(),
        None => {
            let tmp = tempfile::Builder::new().prefix("pyproc-recording-").tempdir().context("creating a temporary recording folder")?;
            scratch.insert(tmp).path().to_path_buf()
        }
    };
    let total = input.continuous.len();
    let bar = match &options.progress {
        None => progress::samples_bar(total as u64, info.sample_rate, ""),
        Some(counts) => {
            counts.total_samples.store(total as u64, Ordering::Relaxed);
            ProgressBar::hidden()
        }
    };
    let settings = || {
        Processor::builder(engine, &options.script)
            .stream(info.num_channels, info.sample_rate)
            .output(script_output(bar.clone()))
            .recording_root(&recording_dir)
            .seed(options.random_seed)
            .grants(options.grants.clone())
            .limits(pyproc_host::Limits { callback_deadline: options.deadline, ..Default::default() })
    };
    // The viewer first: a script without PyVisualizer is reported before any data moves.
    let mut plotter = match &options.plots {
        Some(plots) => {
            let flag = if plots.dir.is_some() { "--plots" } else { "--live" };
            let viewer = settings().label("viewer").build_viewer().map_err(|e| anyhow::anyhow!("{flag}: {e}; or run without {flag}"))?;
            Some(Plotter::start(viewer, plots)?)
        }
        None => None,
    };
    let mut sharded = settings()
        .sharded()
        .assume_channel_independent(options.assume_channel_independent);
    if let Some(shards) = options.shards {
        sharded = sharded.shards(shards);
    }
    let mut processor = sharded.build()?;
    let live = options.plots.as_ref().and_then(|p| p.live.clone());

    let mut report = Report::default();
    report.channels = info.num_channels;
    report.input = input.recording.dir.display().to_string();
    report.stream = info.stream_name.clone();
    report.shards = shards_line(&processor, &options);
    report.shard_count = processor.shard_count();
    let started = Instant::now();
    call(&mut report, Callback::StartAcquisition, processor.start_acquisition());
    call(&mut report, Callback::StartRecording, processor.start_recording(&recording_dir));
    let sample_numbers = input.continuous.sample_numbers()?;
    let mut cursor = Cursor::default();
    let continuous = &input.continuous;
    let block_size = options.block_size;
    // The next blocks are read on a thread of their own while the script runs on this one
    // (and the output's thread writes the last ones); a run ends with the scope, reader too.
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (filled, blocks) = sync_channel(READ_AHEAD);
        let (recycle, spare) = channel();
        scope.spawn(move || read_blocks(continuous, block_size, filled, spare));
        for read in blocks {
            let (start, mut block) = read?;
            if interrupted.load(Ordering::Relaxed) {
                report.interrupted = true;
                break;
            }
            let n = block.ncols();
            let first = sample_numbers[start];
            let end = sample_numbers[start + n - 1] + 1;
            // Everything up to the block's last sample reaches the script before the block.
            let (ttl, spikes) = input.until(&mut cursor, end);
            for e in ttl {
                report.events_in += 1;
                call(&mut report, Callback::HandleTtlEvent, processor.handle_ttl_event(&e.as_event_in()));
            }
            for &(sample_number, c, i) in spikes {
                let waveform = input.spike_channels[c].waveform(i)?;
                report.spikes_in += 1;
                call(&mut report, Callback::HandleSpike, processor.handle_spike(&input.spike_in(sample_number, c, i, waveform.view())));
            }
            let t = Instant::now();
            let emitted = match processor.process(block.view_mut(), first) {
                Ok(processed) => {
                    // Only blocks that reached the script count towards its per-block time.
                    if processed.ran > 0 {
                        report.block_done(t.elapsed());
                    }
                    for error in processed.failed {
                        tracing::warn!("{error}");
                        report.error(Callback::Process, error);
                    }
                    for (_, why) in processed.passed_through {
                        report.passed_through(why);
                    }
                    (processed.ran > 0).then_some(processed.emitted)
                }
                Err(error) => {
                    tracing::warn!("{error}");
                    report.error(Callback::Process, &error);
                    None
                }
            };
            if let Some(e) = emitted {
                report.events_out += e.events.len();
                report.spikes_out += e.spikes.len();
            }
            if let Some(out) = output.as_mut() {
                out.push(block.view(), first, emitted)?;
            }
            if let Some(plotter) = plotter.as_mut() {
                plotter.after_block(&processor)?;
            }
            report.blocks += 1;
            report.samples += n;
            bar.inc(n as u64);
            if let Some(counts) = &options.progress {
                counts.samples_done.fetch_add(n as u64, Ordering::Relaxed);
            }
            if let Some(live) = &live {
                live.progress(&report, total, info.sample_rate);
            }
            // The reader may be done already; then the block is simply dropped.
            let _ = recycle.send(block);
        }
        Ok(())
    })?;
    call(&mut report, Callback::StopRecording, processor.stop_recording());
    call(&mut report, Callback::StopAcquisition, processor.stop_acquisition());
    report.wall = started.elapsed();
    if let Some(plotter) = plotter {
        report.plots = Some(plotter.finish(&processor)?);
    }
    if let Some(live) = &live {
        live.finished(&report, total, info.sample_rate);
    }
    report.status = status_line(&processor.statuses());
    report.stats = processor.stats();
    report.denials = processor.denials();
    report.stream_seconds = report.samples as f64 / info.sample_rate;
    bar.finish_and_clear();
    report.output = match output {
        Some(out) => {
            let written = out.finish(&input)?;
            report.clipped = written.clipped;
            format!("{} ({} samples per channel, {} events, {} spikes)", written.recording_dir.display(), written.samples, written.events, written.spikes)
        }
        None => "none (the script's recording folder was temporary; use --output DIR to keep a recording)".into(),
    };
    Ok(report)
}

/// The report's `shards` line: how many interpreters ran, and why that many.
fn shards_line(processor: &ShardedProcessor, options: &RunOptions) -> String {
    let k = processor.shard_count();
    let groups: Vec<String> = processor.groups().ranges().map(|r| format!("{}–{}", r.start, r.end.saturating_sub(1))).collect();
    match (k, processor.channel_independent(), options.assume_channel_independent) {
        (1, false, false) => "1 (the script does not declare `channel_independent = True`; --assume-channel-independent splits it anyway)".into(),
        (1, _, _) if processor.stream().num_channels == 1 => "1 (the stream has one channel)".into(),
        (1, _, _) if options.shards == Some(1) => "1 (--shards 1)".into(),
        (1, _, _) => "1 (one core available)".into(),
        (_, true, _) => format!("{k} in parallel, channels {} (the script declares `channel_independent = True`)", groups.join(", ")),
        (_, false, _) => format!("{k} in parallel, channels {} (--assume-channel-independent: equal output is yours to check)", groups.join(", ")),
    }
}

/// The processor's state at the end: one status, or each shard's when they differ.
fn status_line(statuses: &[(std::ops::Range<usize>, Status)]) -> String {
    let first = &statuses[0].1;
    if statuses.iter().all(|(_, s)| s == first) {
        return format!("{first:?}");
    }
    statuses.iter().map(|(r, s)| format!("channels {}–{}: {s:?}", r.start, r.end.saturating_sub(1))).collect::<Vec<_>>().join("; ")
}

/// Blocks read ahead of the one the script has: enough to hide a slow read, few enough to
/// keep memory at a handful of blocks.
const READ_AHEAD: usize = 2;

/// A block read: (index of its first sample, channels x samples), or why it could not be.
type Block = pyproc_oebin::Result<(usize, Array2<f32>)>;

/// Sends the recording's blocks in order, up to the first that cannot be read,
/// reusing the blocks that come back through `spare`; stops when the run stops listening.
fn read_blocks(continuous: &Continuous, block_size: usize, filled: SyncSender<Block>, spare: Receiver<Array2<f32>>) {
    let (total, channels) = (continuous.len(), continuous.info.num_channels);
    let mut start = 0;
    while start < total {
        let n = block_size.min(total - start);
        let mut block = spare.try_recv().ok().filter(|b: &Array2<f32>| b.dim() == (channels, n)).unwrap_or_else(|| Array2::zeros((channels, n)));
        let read = continuous.read_block(start, &mut block.view_mut()).map(|()| (start, block));
        let failed = read.is_err();
        if filled.send(read).is_err() || failed {
            return;
        }
        start += n;
    }
}

/// Counts a callback's failure and goes on, as the GUI would: one bad block must not end
/// an acquisition.
fn call<T>(report: &mut Report, callback: Callback, result: pyproc_host::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            tracing::warn!("{err}");
            // A block's error may be a handler's that ran before `process`: count it there.
            report.error(err.callback().unwrap_or(callback), &err);
            None
        }
    }
}

/// The script's prints, above the progress bar.
fn script_output(bar: ProgressBar) -> OutputSink {
    OutputSink::new(move |line| {
        let text = match line.stream {
            OutputStream::Stdout => format!("[{}] {}", line.instance, line.text),
            OutputStream::Stderr => format!("[{} stderr] {}", line.instance, line.text),
        };
        if bar.is_hidden() {
            eprintln!("{text}");
        } else {
            bar.println(text);
        }
    })
}
