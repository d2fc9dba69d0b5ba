//! The summary printed after a run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use pyproc_host::{Callback, Error, PassThrough};
use serde::Serialize;

/// Counts and timings gathered while a run goes.
#[derive(Debug, Default)]
pub struct Report {
    pub blocks: usize,
    pub samples: usize,
    pub channels: usize,
    pub events_in: usize,
    pub spikes_in: usize,
    pub events_out: usize,
    /// Time spent in each `process` call (copy in, script, copy out).
    latencies: Latencies,
    pub wall: Duration,
    pub spikes_out: usize,
    /// Values outside int16 in the output, clipped.
    pub clipped: u64,
    /// Ctrl-C stopped the run early.
    pub interrupted: bool,
    /// The recording read, its stream, and what was written.
    pub input: String,
    pub stream: String,
    pub output: String,
    /// How many interpreters ran the script, over which channels, and why that many.
    pub shards: String,
    pub shard_count: usize,
    /// The processor's state at the end, and what it survived or dropped.
    pub status: String,
    pub stats: pyproc_host::Stats,
    /// What the script tried to reach and was refused.
    pub denials: pyproc_host::Denials,
    pub stream_seconds: f64,
    /// What `--plots` and `--live` drew.
    pub plots: Option<crate::plots::PlotSummary>,
    /// Blocks that passed the script by untouched (its interpreter restarting or switched
    /// off), and why the first did.
    passed: Option<Tally>,
    /// Per callback: how many calls failed, and the first error in full.
    errors: BTreeMap<&'static str, Tally>,
}

/// Per-block latencies in nanoseconds, to three significant digits, up to an hour (a longer
/// block counts as an hour): constant memory however long the run.
#[derive(Debug)]
struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        let hour = Duration::from_secs(3600).as_nanos() as u64;
        Latencies(Histogram::new_with_bounds(1, hour, 3).expect("1 ns to an hour at 3 digits is a valid histogram"))
    }
}

/// How often something happened, and the first time in full.
#[derive(Debug, Serialize)]
struct Tally {
    count: usize,
    first: String,
}

impl Report {
    pub fn block_done(&mut self, latency: Duration) {
        self.latencies.0.saturating_record(latency.as_nanos().try_into().unwrap_or(u64::MAX));
    }

    pub fn error(&mut self, callback: Callback, err: &Error) {
        let entry = self.errors.entry(callback.python_name()).or_insert_with(|| Tally { count: 0, first: err.to_string() });
        entry.count += 1;
    }

    pub fn passed_through(&mut self, why: &PassThrough) {
        self.passed.get_or_insert_with(|| Tally { count: 0, first: why.to_string() }).count += 1;
    }

    /// The exit status `pyproc run` gives for this report: 130 interrupted, 2 if any
    /// callback failed, else 0.
    pub fn exit_status(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.error_count() == 0 {
            0
        } else {
            2
        }
    }

    pub fn error_count(&self) -> usize {
        self.errors.values().map(|e| e.count).sum()
    }

    /// The per-block latencies in microseconds; None before the first block.
    pub fn latency_json(&self) -> Option<LatencyJson> {
        self.latency_percentiles().map(|(p50, p99, max)| LatencyJson { p50_us: us(p50), p99_us: us(p99), max_us: us(max) })
    }

    /// (p50, p99, max) of the per-block latencies.
    pub fn latency_percentiles(&self) -> Option<(Duration, Duration, Duration)> {
        let h = &self.latencies.0;
        let at = |q: f64| Duration::from_nanos(h.value_at_quantile(q));
        (!h.is_empty()).then(|| (at(0.5), at(0.99), Duration::from_nanos(h.max())))
    }
}

/// The report as `--json` prints it, for scripts and notebooks.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    input: &'a str,
    stream: &'a str,
    output: &'a str,
    interrupted: bool,
    blocks: usize,
    samples: usize,
    channels: usize,
    seconds_of_data: f64,
    wall_seconds: f64,
    real_time_factor: f64,
    /// Interpreters that ran the script, each over a group of channels.
    shards: usize,
    /// None (null) when no block was processed.
    per_block_latency: Option<LatencyJson>,
    events_in: usize,
    spikes_in: usize,
    events_out: usize,
    spikes_out: usize,
    clipped_samples: u64,
    /// Blocks that went through unprocessed (the interpreter restarting or switched off).
    passed_through: Option<&'a Tally>,
    errors: &'a BTreeMap<&'static str, Tally>,
    /// Accesses the sandbox refused, with the flag that would allow each.
    denied: DeniedJson,
    status: &'a str,
    restarts: u32,
    events_dropped: u64,
    /// Events emitted outside acquisition, dropped as the original plugin drops them.
    events_outside_acquisition: u64,
    spikes_dropped: u64,
    output_bytes_dropped: u64,
    plots: Option<PlotsJson<'a>>,
}

#[derive(Debug, Serialize)]
struct DeniedJson {
    count: u64,
    first: Vec<DenialJson>,
}

#[derive(Debug, Serialize)]
struct DenialJson {
    callback: Option<&'static str>,
    what: String,
    fix: String,
}

/// The per-block latencies in microseconds, as `--json` and the live page show them.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyJson {
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// What `--plots` and `--live` did: null when neither was asked for.
#[derive(Debug, Serialize)]
struct PlotsJson<'a> {
    /// The `--plots` folder; null with `--live` alone.
    dir: Option<&'a str>,
    /// Figures the viewer drew (each also written to `dir`).
    frames: usize,
    /// Each distinct viewer error with how often it happened.
    viewer_errors: Vec<ViewerErrorJson<'a>>,
    /// The `--live` page's address; null without `--live`.
    live_url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct ViewerErrorJson<'a> {
    count: usize,
    error: &'a str,
}

impl Report {
    /// The same report as JSON: `serde_json::to_string(&report.to_json())`.
    pub fn to_json(&self) -> JsonReport<'_> {
        JsonReport {
            input: &self.input,
            stream: &self.stream,
            output: &self.output,
            interrupted: self.interrupted,
            blocks: self.blocks,
            samples: self.samples,
            channels: self.channels,
            seconds_of_data: self.stream_seconds,
            wall_seconds: self.wall.as_secs_f64(),
            real_time_factor: self.real_time_factor(),
            shards: self.shard_count,
            per_block_latency: self.latency_json(),
            events_in: self.events_in,
            spikes_in: self.spikes_in,
            events_out: self.events_out,
            spikes_out: self.spikes_out,
            clipped_samples: self.clipped,
            passed_through: self.passed.as_ref(),
            errors: &self.errors,
            denied: DeniedJson {
                count: self.denials.count,
                first: self
                    .denials
                    .first
                    .iter()
                    .map(|d| DenialJson { callback: d.callback.map(|c| c.python_name()), what: d.what.clone(), fix: d.fix.clone() })
                    .collect(),
            },
            status: &self.status,
            restarts: self.stats.restarts,
            events_dropped: self.stats.events_dropped,
            events_outside_acquisition: self.stats.events_outside_acquisition,
            spikes_dropped: self.stats.spikes_dropped,
            output_bytes_dropped: self.stats.output_bytes_dropped,
            plots: self.plots.as_ref().map(|p| PlotsJson {
                dir: p.dir.as_deref(),
                frames: p.frames,
                viewer_errors: p.errors.iter().map(|(error, count)| ViewerErrorJson { count: *count, error }).collect(),
                live_url: p.live_url.as_deref(),
            }),
        }
    }

    /// Seconds of data processed per second of wall time.
    fn real_time_factor(&self) -> f64 {
        self.stream_seconds / self.wall.as_secs_f64().max(1e-9)
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", us(d))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "input         {} (stream {:?})", self.input, self.stream)?;
        if self.interrupted {
            writeln!(f, "interrupted   by Ctrl-C; everything below is what was processed until then")?;
        }
        writeln!(f, "blocks        {}", self.blocks)?;
        writeln!(f, "samples       {} per channel x {} channels ({:.1} s of data)", self.samples, self.channels, self.stream_seconds)?;
        writeln!(f, "shards        {}", self.shards)?;
        writeln!(f, "wall time     {:.2} s ({:.1}x real time)", self.wall.as_secs_f64(), self.real_time_factor())?;
        if let Some((p50, p99, max)) = self.latency_percentiles() {
            writeln!(f, "per block     p50 {}  p99 {}  max {}", micros(p50), micros(p99), micros(max))?;
        }
        writeln!(f, "events in     {} TTL, {} spikes", self.events_in, self.spikes_in)?;
        writeln!(f, "events out    {} TTL, {} spikes", self.events_out, self.spikes_out)?;
        if self.stats.events_outside_acquisition > 0 {
            writeln!(
                f,
                "              {} more emitted outside acquisition (in __init__, stop_acquisition, or after the last block) were dropped, as the original plugin drops them",
                self.stats.events_outside_acquisition
            )?;
        }
        writeln!(f, "clipped       {} samples outside int16, clipped (never wrapped)", self.clipped)?;
        writeln!(f, "output        {}", self.output)?;
        if let Some(plots) = &self.plots {
            match &plots.dir {
                Some(dir) => writeln!(f, "plots         {} frames written to {dir} (and final.png, the last)", plots.frames)?,
                None => writeln!(f, "plots         {} frames drawn", plots.frames)?,
            }
            if let Some(url) = &plots.live_url {
                writeln!(f, "live          {url}")?;
            }
            for (error, count) in &plots.errors {
                writeln!(f, "  viewer failed {count} times; the first: {}", error.lines().next().unwrap_or_default())?;
            }
        }
        let st = &self.stats;
        if st.restarts > 0 || st.events_dropped + st.spikes_dropped + st.output_bytes_dropped > 0 || self.status != "Running" {
            writeln!(f, "processor     {}; {} restarts; dropped {} events, {} spikes, {} bytes of output", self.status, st.restarts, st.events_dropped, st.spikes_dropped, st.output_bytes_dropped)?;
        }
        if let Some(Tally { count, first }) = &self.passed {
            writeln!(f, "passed by     {count} blocks went through unprocessed; the first because {}", first.lines().next().unwrap_or_default())?;
        }
        write_denials(f, &self.denials)?;
        if self.errors.is_empty() {
            write!(f, "errors        none")
        } else {
            writeln!(f, "errors        {}", self.error_count())?;
            for (callback, Tally { count, first }) in &self.errors {
                writeln!(f, "  {callback}: {count} failed; the first:")?;
                for line in first.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
            Ok(())
        }
    }
}

/// The `denied` lines of a report (also printed by `pyproc check`): how many accesses the
/// sandbox refused, and the first ones with the flag that would allow each.
pub fn write_denials(f: &mut impl fmt::Write, denials: &pyproc_host::Denials) -> fmt::Result {
    if denials.is_empty() {
        return writeln!(f, "denied        none");
    }
    let distinct = denials.first.len();
    writeln!(f, "denied        {} accesses the script was not granted; to allow them, run with:", denials.count)?;
    for denial in &denials.first {
        writeln!(f, "  {denial}")?;
    }
    if distinct as u64 == pyproc_host::KEPT_DENIALS as u64 && denials.count > distinct as u64 {
        writeln!(f, "  (only the first {distinct} different ones are listed)")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (p50, p99, max) in microseconds, each asserted within 0.1 % (three significant
    /// digits, what the histogram keeps) of `expected`.
    fn assert_percentiles(r: &Report, expected: [f64; 3]) {
        let (p50, p99, max) = r.latency_percentiles().unwrap();
        let got = [us(p50), us(p99), us(max)];
        assert!(got.iter().zip(expected).all(|(g, e)| (g - e).abs() <= e * 1e-3), "{got:?} µs, expected {expected:?}");
    }

    #[test]
    fn percentiles_come_from_all_the_latencies_in_any_order() {
        let mut r = Report::default();
        for us in (1..=100).rev() {
            r.block_done(Duration::from_micros(us));
        }
        assert_percentiles(&r, [50.0, 99.0, 100.0]);
    }

    #[test]
    fn one_slow_block_in_a_thousand_shows_in_the_max_but_not_the_p99() {
        let mut r = Report::default();
        for _ in 0..999 {
            r.block_done(Duration::from_micros(40));
        }
        r.block_done(Duration::from_millis(25));
        assert_percentiles(&r, [40.0, 40.0, 25_000.0]);
    }

    #[test]
    fn no_blocks_means_no_percentiles() {
        assert!(Report::default().latency_percentiles().is_none());
    }

    #[test]
    fn the_json_report_has_every_field_and_errors_by_callback() {
        let mut r = Report { blocks: 3, clipped: 7, wall: Duration::from_secs(2), stream_seconds: 1.0, ..Report::default() };
        r.block_done(Duration::from_micros(10));
        let err = Error::Engine { action: "testing", message: "boom".into() };
        r.error(Callback::Process, &err);
        r.error(Callback::Process, &err);
        r.passed_through(&PassThrough::Restarting { blocks_left: 3 });
        r.passed_through(&PassThrough::Restarting { blocks_left: 2 });
        let json = serde_json::to_value(r.to_json()).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "blocks", "channels", "clipped_samples", "denied", "errors", "events_dropped", "events_in", "events_out", "events_outside_acquisition", "input", "interrupted",
                "output", "output_bytes_dropped", "passed_through", "per_block_latency", "plots", "real_time_factor", "restarts", "samples", "seconds_of_data", "shards",
                "spikes_dropped", "spikes_in", "spikes_out", "status", "stream", "wall_seconds",
            ]
        );
        assert_eq!((json["blocks"].as_u64(), json["clipped_samples"].as_u64(), json["real_time_factor"].as_f64()), (Some(3), Some(7), Some(0.5)));
        assert_eq!(json["passed_through"]["count"].as_u64(), Some(2), "{json}");
        assert!(json["passed_through"]["first"].as_str().unwrap().contains("3 more blocks"), "the first reason is kept: {json}");
        assert!((json["per_block_latency"]["max_us"].as_f64().unwrap() - 10.0).abs() < 0.01, "{json}");
        assert_eq!(json["errors"]["process"]["count"], 2);
        assert_eq!(json["errors"]["process"]["first"], err.to_string());
    }

    #[test]
    fn the_json_report_has_the_plots_frames_folder_viewer_errors_and_live_address() {
        let plots = crate::plots::PlotSummary {
            dir: Some("frames".into()),
            frames: 12,
            errors: vec![("ValueError: boom".into(), 3)],
            live_url: Some("http://127.0.0.1:8000/".into()),
        };
        let r = Report { plots: Some(plots), ..Report::default() };
        let json = serde_json::to_value(r.to_json()).unwrap();
        assert_eq!(
            json["plots"],
            serde_json::json!({"dir": "frames", "frames": 12, "viewer_errors": [{"count": 3, "error": "ValueError: boom"}], "live_url": "http://127.0.0.1:8000/"})
        );
    }

    #[test]
    fn without_plots_or_live_the_json_plots_are_null() {
        assert!(serde_json::to_value(Report::default().to_json()).unwrap()["plots"].is_null());
    }

    #[test]
    fn without_blocks_the_json_latency_is_null() {
        assert!(serde_json::to_value(Report::default().to_json()).unwrap()["per_block_latency"].is_null());
    }
}
