//! Endurance: 8 processors through the band-pass and threshold examples on a 384-channel,
//! 30 kHz stream. No block lost or repeated, memory flat after warm-up, and every
//! processor's output identical to a single-processor reference.
//!
//! The default run covers 2 s of data (CI). The full soak is one hour of data:
//!
//! ```sh
//! PYPROC_SOAK_SECONDS=3600 cargo test --release -p pyproc-host --test soak -- --ignored
//! ```

mod common;

use std::time::Instant;

use common::{builder, Done, example};
use ndarray::Array2;
use pyproc_host::{Processor, TtlEvent};

const CHANNELS: usize = 384;
const BLOCK: usize = 1024;
const INSTANCES: usize = 8;

/// Block `b` of a deterministic test signal: a tone per channel plus bursts that cross the
/// threshold example's 100 µV on channel 0.
fn block(b: usize) -> Array2<f32> {
    Array2::from_shape_fn((CHANNELS, BLOCK), |(c, s)| {
        let t = (b * BLOCK + s) as f32 / 30_000.0;
        let tone = 60.0 * (2.0 * std::f32::consts::PI * (300.0 + 10.0 * c as f32) * t).sin();
        let burst = if c == 0 && (b * BLOCK + s) % 3000 < 300 { 150.0 } else { 0.0 };
        tone + burst
    })
}

/// FNV-1a over the block's bytes: a compact fingerprint of each output block.
fn fingerprint(a: &Array2<f32>) -> u64 {
    a.iter().flat_map(|v| v.to_le_bytes()).fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

fn rss_bytes() -> usize {
    memory_stats::memory_stats().expect("this platform reports the resident set size").physical_mem
}

/// Per block: the fingerprints of the data before and after the filter, and the events of
/// the threshold step.
type Trace = Vec<(u64, u64, Vec<TtlEvent>)>;

fn chain() -> (Processor, Processor) {
    let bandpass = builder(example("bandpass_filter.py")).stream(CHANNELS, 30_000.0).build().unwrap();
    let threshold = builder(example("threshold_events.py")).stream(CHANNELS, 30_000.0).build().unwrap();
    (bandpass, threshold)
}

/// Runs `blocks` blocks through a chain; returns the trace and (guest memory, RSS) after
/// warm-up and at the end.
fn run_chain(blocks: usize, warm_up: usize) -> (Trace, [(usize, usize); 2]) {
    let (mut bandpass, mut threshold) = chain();
    let mut trace = Vec::with_capacity(blocks);
    let mut marks = [(0, 0); 2];
    for b in 0..blocks {
        let first = (b * BLOCK) as i64;
        let mut data = block(b);
        let mut raw = data.clone();
        bandpass.process(data.view_mut(), first).done();
        let events = threshold.process(raw.view_mut(), first).done().events.to_vec();
        // The threshold script leaves the data as it is: `raw` is still the input.
        trace.push((fingerprint(&raw), fingerprint(&data), events));
        if b + 1 == warm_up {
            marks[0] = (bandpass.memory_bytes().unwrap() + threshold.memory_bytes().unwrap(), rss_bytes());
        }
    }
    marks[1] = (bandpass.memory_bytes().unwrap() + threshold.memory_bytes().unwrap(), rss_bytes());
    (trace, marks)
}

fn soak(seconds: f64) {
    let blocks = (seconds * 30_000.0 / BLOCK as f64).ceil() as usize;
    let warm_up = (blocks / 4).max(2);
    let started = Instant::now();
    let (reference, _) = run_chain(blocks, warm_up);
    // Every block is there once, in order: the threshold events' sample numbers only grow.
    let samples: Vec<i64> = reference.iter().flat_map(|(_, _, e)| e.iter().map(|e| e.sample_number)).collect();
    assert!(samples.windows(2).all(|w| w[0] < w[1]), "events in order, none repeated");
    assert!(samples.len() >= 2 * (blocks * BLOCK / 3000), "a rising and a falling edge per burst");
    let runs: Vec<(Trace, [(usize, usize); 2])> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..INSTANCES).map(|_| s.spawn(move || run_chain(blocks, warm_up))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, (trace, [(mem_warm, _), (mem_end, _)])) in runs.iter().enumerate() {
        assert!(trace.iter().all(|(input, output, _)| input != output), "instance {i}: every block went through the filter");
        assert!(trace == &reference, "instance {i}: output identical to the single-instance reference");
        assert_eq!(mem_warm, mem_end, "instance {i}: guest memory flat after warm-up");
    }
    let rss_warm = runs.iter().map(|r| r.1[0].1).max().unwrap();
    let rss_end = runs.iter().map(|r| r.1[1].1).max().unwrap();
    // RSS is shared by all threads; allow a little allocator slack, not growth per block.
    assert!(rss_end <= rss_warm + (64 << 20), "host RSS grew from {} MiB to {} MiB", rss_warm >> 20, rss_end >> 20);
    eprintln!(
        "soak: {INSTANCES} x 2 processors, {blocks} blocks of {CHANNELS} x {BLOCK} ({seconds} s of data) in {:.1} s; RSS {} -> {} MiB",
        started.elapsed().as_secs_f64(),
        rss_warm >> 20,
        rss_end >> 20
    );
}

#[test]
fn soak_short() {
    soak(2.0);
}

#[test]
#[ignore = "an hour of data on 8 instances: run it by hand (see the module docs)"]
fn soak_long() {
    let seconds = std::env::var("PYPROC_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3600.0);
    soak(seconds);
}
