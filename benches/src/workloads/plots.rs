//! Plots: what `publish` adds to a block beside a plain copy of the same array in the
//! script, and how many figures a second a viewer draws in its sandbox beside the same
//! matplotlib code in native CPython (which hands the pixels over the same way: a copy of
//! `buffer_rgba()`); and what a viewer drawing beside the block thread costs that thread.

use std::time::Instant;

use hdrhistogram::Histogram;
use pyproc_host::{Engine, Processor, Rendered, ViewerThread};

use crate::bench::Bench;
use crate::measure::head_to_head;
use crate::native::NativeViewer;
use crate::row::{Row, Unit};
use crate::{median, us};
use crate::workloads::{block, example, script, RATE, SAMPLES};

const CHANNELS: usize = 64;

pub fn publish(bench: &mut Bench, engine: &Engine) {
    let workload = format!("publish {CHANNELS} x 1024 float32 per block");
    if !bench.wants(&workload) {
        return;
    }
    let build = |name: &str| Processor::builder(engine, script(name)).stream(CHANNELS, RATE).build().expect("the bench script loads");
    let (mut publishing, mut copying) = (build("publish64.py"), build("copy64.py"));
    let (mut a, mut b) = (block(CHANNELS), block(CHANNELS));
    let (ours, theirs) = head_to_head(
        || {
            publishing.process(a.view_mut(), 0).expect("publish runs");
        },
        || {
            copying.process(b.view_mut(), 0).expect("the copy runs");
        },
    );
    bench.record(Row::beside(workload, Unit::Micros, us(ours), "np.copyto in process", us(theirs)));
}

pub fn viewer(bench: &mut Bench, engine: &Engine) {
    let workload = format!("viewer frame, {CHANNELS} lines x 1024 points, 800 x 600 px");
    if !bench.wants(&workload) {
        return;
    }
    let path = script("plot64.py");
    let builder = || Processor::builder(engine, &path).stream(CHANNELS, RATE);
    let mut processor = builder().build().expect("plot64.py loads");
    let mut viewer = builder().build_viewer().expect("plot64.py's PyVisualizer constructs");
    let mut native = NativeViewer::new(&path, CHANNELS, RATE).expect("the native viewer constructs (pip installs matplotlib once)");
    let mut data = block(CHANNELS);
    processor.process(data.view_mut(), 0).expect("publishes");
    let published = processor.published();
    let (ours, theirs) = head_to_head(
        || {
            viewer.render(&published).expect("the viewer draws").expect("a figure");
        },
        || {
            native.render(&data).expect("the native viewer draws");
        },
    );
    let rate = |d: std::time::Duration| 1.0 / d.as_secs_f64();
    bench.record(Row::versus(workload, Unit::FramesPerSecond, rate(ours), rate(theirs)));
}

/// Channels of the latency-with-a-viewer rows.
const VIEWED_CHANNELS: usize = 4;
/// How often `pyproc run --plots/--live` offers the viewer new values by default.
const VIEWER_HZ: f64 = 10.0;
/// Rounds of each side in [`with_viewer`], alternated; each round lasts [`ROUND`].
const VIEWER_ROUNDS: usize = 15;
const ROUND: std::time::Duration = std::time::Duration::from_millis(300);

/// `examples/threshold_plot.py`'s per-block time on the block thread with its viewer
/// drawing on a thread of its own at 10 Hz (values offered as `pyproc run --plots` offers
/// them: the offer and taking the drawn frames off the queue count towards the block),
/// beside the same blocks with no viewer at all. Rounds alternate and each figure is the
/// median over rounds, so a noisy neighbour slows both sides alike. Two rows: the mean
/// block, and the p99 block.
pub fn with_viewer(bench: &mut Bench, engine: &Engine) {
    let mean_row = format!("threshold_plot.py per block, {VIEWED_CHANNELS} ch, viewer drawing at 10 Hz, mean");
    let p99_row = format!("threshold_plot.py per block, {VIEWED_CHANNELS} ch, viewer drawing at 10 Hz, p99");
    if !bench.selection().wants_any([mean_row.as_str(), p99_row.as_str()]) {
        return;
    }
    let path = example("threshold_plot.py");
    let builder = || Processor::builder(engine, &path).stream(VIEWED_CHANNELS, RATE);
    let mut processor = builder().build().expect("threshold_plot.py loads");
    let viewer = ViewerThread::spawn(builder().build_viewer().expect("threshold_plot.py's PyVisualizer constructs"));
    let mut data = block(VIEWED_CHANNELS);
    let mut first = 0i64;
    let mut step = |processor: &mut Processor, data: &mut ndarray::Array2<f32>| {
        processor.process(data.view_mut(), first).expect("threshold_plot.py processes");
        first += SAMPLES as i64;
    };
    // Warm both: the viewer's first figure loads its fonts.
    for _ in 0..50 {
        step(&mut processor, &mut data);
    }
    viewer.offer(processor.published());
    while viewer.rendered().is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let interval = std::time::Duration::from_secs_f64(1.0 / VIEWER_HZ);
    // Per round: (mean, p99) of each side, in microseconds.
    let (mut alone, mut viewed) = (Vec::new(), Vec::new());
    let mut frames = 0usize;
    let mut viewed_time = std::time::Duration::ZERO;
    for _ in 0..VIEWER_ROUNDS {
        let mut times = latencies();
        let round = Instant::now();
        while round.elapsed() < ROUND {
            let t = Instant::now();
            step(&mut processor, &mut data);
            record(&mut times, t.elapsed());
        }
        alone.push(summary(&times));
        let mut times = latencies();
        let round = Instant::now();
        let mut last_offer: Option<Instant> = None;
        while round.elapsed() < ROUND {
            let t = Instant::now();
            step(&mut processor, &mut data);
            if last_offer.is_none_or(|o| o.elapsed() >= interval) && viewer.offer(processor.published()) {
                last_offer = Some(Instant::now());
            }
            frames += viewer.rendered().iter().filter(|r| matches!(r, Rendered::Frame(_))).count();
            record(&mut times, t.elapsed());
        }
        viewed_time += round.elapsed();
        viewed.push(summary(&times));
    }
    frames += viewer.finish(None).iter().filter(|r| matches!(r, Rendered::Frame(_))).count();
    bench.note(&format!("threshold_plot.py with a viewer: {frames} figures drawn in {:.1} s of blocks ({:.1} fig/s)\n", viewed_time.as_secs_f64(), frames as f64 / viewed_time.as_secs_f64()));
    let median_of = |rounds: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| us(median(rounds.iter().map(|r| std::time::Duration::from_secs_f64(pick(r) / 1e6))));
    if bench.wants(&mean_row) {
        bench.record(Row::beside(mean_row, Unit::Micros, median_of(&viewed, |r| r.0), "no viewer", median_of(&alone, |r| r.0)));
    }
    if bench.wants(&p99_row) {
        bench.record(Row::beside(p99_row, Unit::Micros, median_of(&viewed, |r| r.1), "no viewer", median_of(&alone, |r| r.1)));
    }
}

/// Per-block times in nanoseconds, to three significant digits, up to a minute.
fn latencies() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("1 ns to a minute at 3 digits is a valid histogram")
}

fn record(histogram: &mut Histogram<u64>, t: std::time::Duration) {
    histogram.saturating_record(t.as_nanos().try_into().unwrap_or(u64::MAX));
}

/// (mean, p99) in microseconds.
fn summary(times: &Histogram<u64>) -> (f64, f64) {
    (times.mean() / 1e3, times.value_at_quantile(0.99) as f64 / 1e3)
}
