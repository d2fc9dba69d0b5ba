//! `pyproc run`: a script over a stream, every callback in the order the GUI uses.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pyproc_host::{Callback, Engine, OutputSink, Processor, SpikeIn, Stream, TtlEventIn};

use crate::report::Report;
use crate::synthetic::{Settings, SyntheticStream};

/// Processor id the synthetic stream's events and spikes claim to come from.
const SYNTHETIC_SOURCE_NODE: i64 = 100;

pub struct RunOptions {
    pub script: PathBuf,
    pub synthetic: Settings,
    /// Where `start_recording` points; granted to the script read-write. None: a temporary
    /// folder, removed after the run.
    pub output: Option<PathBuf>,
}

pub fn run(engine: &Engine, options: RunOptions) -> anyhow::Result<Report> {
    let stream = SyntheticStream::new(options.synthetic);
    let settings = stream.settings();
    let bar = progress_bar(stream.total_samples() as u64, settings.sample_rate);
    // Without --output the script still gets start/stop_recording, as in a real session,
    // with a temporary folder that is removed afterwards.
    let scratch = match &options.output {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("pyproc-recording-").tempdir().context("creating a temporary recording folder")?),
    };
    let recording_dir = match (&options.output, &scratch) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating the output folder {}", dir.display()))?;
            dir.clone()
        }
        (None, Some(tmp)) => tmp.path().to_path_buf(),
        (None, None) => unreachable!("a scratch folder exists whenever --output is absent"),
    };
    let mut processor = Processor::builder(engine, &options.script)
        .stream(settings.channels, settings.sample_rate)
        .output(script_output(bar.clone()))
        .recording_root(&recording_dir)
        .build()?;

    let mut report = Report::default();
    report.channels = settings.channels;
    let started = Instant::now();
    call(&mut report, Callback::StartAcquisition, processor.start_acquisition());
    call(&mut report, Callback::StartRecording, processor.start_recording(&recording_dir));
    for mut block in stream {
        for edge in &block.ttl {
            let event = TtlEventIn { source_node: SYNTHETIC_SOURCE_NODE, channel: "Synthetic TTL", sample_number: edge.sample_number, line: edge.line, state: edge.state };
            report.events_in += 1;
            call(&mut report, Callback::HandleTtlEvent, processor.handle_ttl_event(&event));
        }
        for spike in &block.spikes {
            let name = format!("Tetrode {}", spike.electrode + 1);
            let spike_in = SpikeIn {
                source_node: SYNTHETIC_SOURCE_NODE,
                electrode_name: &name,
                sample_number: spike.sample_number,
                sorted_id: spike.unit,
                waveform: spike.waveform.view(),
            };
            report.spikes_in += 1;
            call(&mut report, Callback::HandleSpike, processor.handle_spike(&spike_in));
        }
        let samples = block.data.ncols();
        let t = Instant::now();
        let result = processor.process(block.data.view_mut(), block.first_sample).map(|emitted| emitted.events.len());
        report.block_done(t.elapsed());
        if let Some(events) = call(&mut report, Callback::Process, result) {
            report.events_out += events;
        }
        report.blocks += 1;
        report.samples += samples;
        bar.inc(samples as u64);
        if !processor.is_alive() {
            bar.abandon();
            anyhow::bail!("stopping: the script's interpreter died\n{}", report);
        }
    }
    call(&mut report, Callback::StopRecording, processor.stop_recording());
    call(&mut report, Callback::StopAcquisition, processor.stop_acquisition());
    report.wall = started.elapsed();
    report.recording = match &options.output {
        Some(dir) => format!("{} (kept)", dir.display()),
        None => "a temporary folder, removed (use --output DIR to keep what the script writes)".into(),
    };
    report.stream_seconds = report.samples as f64 / settings.sample_rate;
    bar.finish_and_clear();
    Ok(report)
}

/// Counts a callback's failure and goes on, as the GUI would: one bad block must not end
/// an acquisition.
fn call<T>(report: &mut Report, callback: Callback, result: pyproc_host::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            tracing::warn!("{err}");
            report.error(callback, &err);
            None
        }
    }
}

/// Samples processed, real-time factor and ETA; hidden when stderr is not a terminal, and
/// shown only once a run has lasted a second.
fn progress_bar(total_samples: u64, sample_rate: f64) -> ProgressBar {
    let bar = ProgressBar::new(total_samples);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} samples  {msg}  eta {eta}")
        .expect("valid template")
        .with_key("msg", move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let elapsed = state.elapsed().as_secs_f64().max(1e-9);
            let _ = write!(w, "{:.1}x real time", state.pos() as f64 / sample_rate / elapsed);
        });
    bar.set_style(style);
    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let visible = bar.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        if !visible.is_finished() && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            visible.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    });
    bar
}

/// The script's prints, above the progress bar.
fn script_output(bar: ProgressBar) -> OutputSink {
    OutputSink::new(move |line| {
        let text = match line.stream {
            Stream::Stdout => format!("[{}] {}", line.instance, line.text),
            Stream::Stderr => format!("[{} stderr] {}", line.instance, line.text),
        };
        if bar.is_hidden() {
            eprintln!("{text}");
        } else {
            bar.println(text);
        }
    })
}
