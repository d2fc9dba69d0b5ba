//! The summary printed after a run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use pyproc_host::{Callback, Error, PassThrough};

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
    latencies: Vec<Duration>,
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
    /// The processor's state at the end, and what it survived or dropped.
    pub status: String,
    pub stats: pyproc_host::Stats,
    pub stream_seconds: f64,
    /// Blocks that passed the script by untouched (its interpreter restarting or switched
    /// off), and why the first did.
    passed: Option<(usize, String)>,
    /// Per callback: how many calls failed, and the first error in full.
    errors: BTreeMap<&'static str, (usize, String)>,
}

impl Report {
    pub fn block_done(&mut self, latency: Duration) {
        self.latencies.push(latency);
    }

    pub fn error(&mut self, callback: Callback, err: &Error) {
        let entry = self.errors.entry(callback.python_name()).or_insert_with(|| (0, err.to_string()));
        entry.0 += 1;
    }

    pub fn passed_through(&mut self, why: &PassThrough) {
        self.passed.get_or_insert_with(|| (0, why.to_string())).0 += 1;
    }

    pub fn error_count(&self) -> usize {
        self.errors.values().map(|(n, _)| n).sum()
    }

    /// (p50, p99, max) of the per-block latencies.
    pub fn latency_percentiles(&self) -> Option<(Duration, Duration, Duration)> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        (!sorted.is_empty()).then(|| (at(0.5), at(0.99), *sorted.last().unwrap()))
    }
}

impl Report {
    /// The same report as JSON, for scripts and notebooks.
    pub fn to_json(&self) -> serde_json::Value {
        let latency = self.latency_percentiles().map(|(p50, p99, max)| {
            serde_json::json!({"p50_us": us(p50), "p99_us": us(p99), "max_us": us(max)})
        });
        let errors: serde_json::Map<String, serde_json::Value> = self
            .errors
            .iter()
            .map(|(cb, (n, first))| (cb.to_string(), serde_json::json!({"count": n, "first": first})))
            .collect();
        serde_json::json!({
            "input": self.input, "stream": self.stream, "output": self.output,
            "interrupted": self.interrupted, "blocks": self.blocks, "samples": self.samples,
            "channels": self.channels, "seconds_of_data": self.stream_seconds,
            "wall_seconds": self.wall.as_secs_f64(),
            "real_time_factor": self.stream_seconds / self.wall.as_secs_f64().max(1e-9),
            "per_block_latency": latency,
            "events_in": self.events_in, "spikes_in": self.spikes_in,
            "events_out": self.events_out, "spikes_out": self.spikes_out,
            "clipped_samples": self.clipped, "errors": errors, "status": self.status,
            "restarts": self.stats.restarts, "events_dropped": self.stats.events_dropped,
            "spikes_dropped": self.stats.spikes_dropped, "output_bytes_dropped": self.stats.output_bytes_dropped,
        })
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "input         {} (stream {:?})", self.input, self.stream)?;
        if self.interrupted {
            writeln!(f, "interrupted   by Ctrl-C; everything below is what was processed until then")?;
        }
        writeln!(f, "blocks        {}", self.blocks)?;
        writeln!(f, "samples       {} per channel x {} channels ({:.1} s of data)", self.samples, self.channels, self.stream_seconds)?;
        let speed = self.stream_seconds / self.wall.as_secs_f64().max(1e-9);
        writeln!(f, "wall time     {:.2} s ({speed:.1}x real time)", self.wall.as_secs_f64())?;
        if let Some((p50, p99, max)) = self.latency_percentiles() {
            writeln!(f, "per block     p50 {}  p99 {}  max {}", micros(p50), micros(p99), micros(max))?;
        }
        writeln!(f, "events in     {} TTL, {} spikes", self.events_in, self.spikes_in)?;
        writeln!(f, "events out    {} TTL, {} spikes", self.events_out, self.spikes_out)?;
        writeln!(f, "clipped       {} samples outside int16, clipped (never wrapped)", self.clipped)?;
        writeln!(f, "output        {}", self.output)?;
        let st = &self.stats;
        if st.restarts > 0 || st.events_dropped + st.spikes_dropped + st.output_bytes_dropped > 0 || self.status != "Running" {
            writeln!(f, "processor     {}; {} restarts; dropped {} events, {} spikes, {} bytes of output", self.status, st.restarts, st.events_dropped, st.spikes_dropped, st.output_bytes_dropped)?;
        }
        if let Some((count, first)) = &self.passed {
            writeln!(f, "passed by     {count} blocks went through unprocessed; the first because {}", first.lines().next().unwrap_or_default())?;
        }
        if self.errors.is_empty() {
            write!(f, "errors        none")
        } else {
            writeln!(f, "errors        {}", self.error_count())?;
            for (callback, (count, first)) in &self.errors {
                writeln!(f, "  {callback}: {count} failed; the first:")?;
                for line in first.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_sorted_latencies() {
        let mut r = Report::default();
        for us in (1..=100).rev() {
            r.block_done(Duration::from_micros(us));
        }
        let (p50, p99, max) = r.latency_percentiles().unwrap();
        assert_eq!((p50, p99, max), (Duration::from_micros(51), Duration::from_micros(99), Duration::from_micros(100)));
    }

    #[test]
    fn no_blocks_means_no_percentiles() {
        assert!(Report::default().latency_percentiles().is_none());
    }
}
