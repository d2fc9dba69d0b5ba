//! `pyproc-bench [SCRIPT]`: pyproc's performance table, beside CPython embedded natively
//! (the original plugin's approach) measured in the same run.
//!
//! ```sh
//! cargo run --release -p pyproc-benches --bin pyproc-bench                   # examples
//! cargo run --release -p pyproc-benches --bin pyproc-bench -- my_script.py   # + yours
//! ```
//!
//! Per-block figures interleave pyproc and native rounds and report the median round, so a
//! noisy neighbour slows both sides alike. Ratios are pyproc / native (lower is better).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayView2};
use pyproc_benches::median;
use pyproc_benches::native::{ensure_venv, NativeProcessor};
use pyproc_host::{Engine, Processor, SpikeIn, TtlEventIn};

const SAMPLES: usize = 1024;
const RATE: f64 = 30_000.0;
const ROUNDS: usize = 7;
/// TTL events per block at 1000 per second, 1024-sample blocks, 30 kHz.
const EVENTS_PER_BLOCK: usize = 34;
const SPIKES_PER_BLOCK: usize = 10;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn block(channels: usize) -> Array2<f32> {
    Array2::from_shape_fn((channels, SAMPLES), |(c, s)| ((s as f32) * 0.01 + c as f32).sin() * 100.0)
}

/// Median over rounds of the mean time of one `step`, for two contenders run alternately.
fn head_to_head(mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (Duration, Duration) {
    let per_round = |step: &mut dyn FnMut()| {
        for _ in 0..5 {
            step(); // warm caches and the guest's buffers
        }
        let mut n = 0u32;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(150) || n < 5 {
            step();
            n += 1;
        }
        start.elapsed() / n
    };
    let rounds: Vec<(Duration, Duration)> = (0..ROUNDS).map(|_| (per_round(&mut ours), per_round(&mut theirs))).collect();
    (median(rounds.iter().map(|r| r.0)), median(rounds.iter().map(|r| r.1)))
}

fn row(what: &str, ours: Duration, theirs: Duration) {
    let (o, t) = (ours.as_secs_f64() * 1e6, theirs.as_secs_f64() * 1e6);
    println!("{what:<44} {o:>11.1} µs {t:>11.1} µs {:>7.2}x", o / t.max(1e-9));
}

fn per_block(engine: &Engine, name: &str, script: &Path) {
    for channels in [1, 64, 384] {
        let mut pyproc = Processor::builder(engine, script).stream(channels, RATE).build().expect("pyproc loads the script");
        let mut native = NativeProcessor::new(script, channels, RATE).expect("native CPython loads the script");
        let (mut a, mut b) = (block(channels), block(channels));
        let (ours, theirs) = head_to_head(
            || {
                pyproc.process(a.view_mut(), 0).unwrap();
            },
            || native.process(b.as_slice_mut().unwrap()).unwrap(),
        );
        row(&format!("{name}, {channels} ch"), ours, theirs);
    }
}

/// A block after 23 ms of idling, as an audio callback sees it (caches and clocks cold),
/// 384 channels x 696 samples (1024 frames at 44.1 kHz of a 30 kHz stream, as in the GUI).
fn cold_block(engine: &Engine) {
    let script = root().join("scripts/passthrough.py");
    let mut pyproc = Processor::builder(engine, &script).stream(384, RATE).build().unwrap();
    let mut native = NativeProcessor::new(&script, 384, RATE).unwrap();
    let shape = (384, 696);
    let (mut a, mut b) = (Array2::<f32>::ones(shape), Array2::<f32>::ones(shape));
    let time = |step: &mut dyn FnMut()| {
        median((0..40).map(|_| {
            std::thread::sleep(Duration::from_millis(23));
            let start = Instant::now();
            step();
            start.elapsed()
        }))
    };
    let ours = time(&mut || {
        pyproc.process(a.view_mut(), 0).unwrap();
    });
    let theirs = time(&mut || native.process(b.as_slice_mut().unwrap()).unwrap());
    row("pass-through, 384 x 696, after 23 ms idle", ours, theirs);
    // The floor under both: the block copied into a buffer and back, no interpreter at all.
    let mut staging = Array2::<f32>::zeros(shape);
    let floor = time(&mut || {
        staging.assign(&a);
        std::hint::black_box(&mut staging);
        a.assign(&staging);
        std::hint::black_box(&mut a);
    });
    println!("{:<44} {:>11.1} µs {:>14}", "  its copy in + out alone, after 23 ms idle", floor.as_secs_f64() * 1e6, "");
}

fn events(engine: &Engine) {
    let script = root().join("scripts/events.py");
    let mut pyproc = Processor::builder(engine, &script).stream(64, RATE).build().unwrap();
    let mut native = NativeProcessor::new(&script, 64, RATE).unwrap();
    let (mut a, mut b) = (block(64), block(64));
    let (ours, theirs) = head_to_head(
        || {
            for i in 0..EVENTS_PER_BLOCK {
                let event = TtlEventIn { source_node: 100, channel: "TTL", sample_number: i as i64 * 30, line: 1, state: i % 2 == 0 };
                pyproc.handle_ttl_event(&event).unwrap();
            }
            let emitted = pyproc.process(a.view_mut(), 0).unwrap().emitted();
            assert_eq!(emitted.events.len(), EVENTS_PER_BLOCK + 1);
        },
        || {
            for i in 0..EVENTS_PER_BLOCK {
                native.handle_ttl_event(100, "TTL", i as i64 * 30, 1, i % 2 == 0).unwrap();
            }
            native.process(b.as_slice_mut().unwrap()).unwrap();
        },
    );
    row(&format!("events: {EVENTS_PER_BLOCK} TTL in + out per block, 64 ch"), ours, theirs);
}

fn spikes(engine: &Engine) {
    let script = root().join("scripts/spikes.py");
    let mut pyproc = Processor::builder(engine, &script).stream(64, RATE).build().unwrap();
    let mut native = NativeProcessor::new(&script, 64, RATE).unwrap();
    let waveform: Vec<f32> = (0..4 * 40).map(|i| (i as f32 * 0.3).sin() * 80.0).collect();
    let view = ArrayView2::from_shape((4, 40), &waveform).unwrap();
    let (mut a, mut b) = (block(64), block(64));
    let (ours, theirs) = head_to_head(
        || {
            for i in 0..SPIKES_PER_BLOCK {
                let spike = SpikeIn { source_node: 101, electrode_name: "Tetrode 1", sample_number: i as i64 * 100, sorted_id: 0, waveform: view };
                pyproc.handle_spike(&spike).unwrap();
            }
            pyproc.process(a.view_mut(), 0).unwrap();
        },
        || {
            for i in 0..SPIKES_PER_BLOCK {
                native.handle_spike("Tetrode 1", i as i64 * 100, &waveform, 4).unwrap();
            }
            native.process(b.as_slice_mut().unwrap()).unwrap();
        },
    );
    row(&format!("spikes: {SPIKES_PER_BLOCK} tetrode spikes in per block, 64 ch"), ours, theirs);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn instance_ready(engine: &Engine) {
    let script = root().join("scripts/imports.py");
    let ours = median((0..3).map(|_| {
        let start = Instant::now();
        let mut p = Processor::builder(engine, &script).stream(64, RATE).build().unwrap();
        p.process(block(64).view_mut(), 0).unwrap();
        start.elapsed()
    }));
    // Native: a fresh interpreter process from its start to the first processed block.
    let python = ensure_venv().ancestors().find(|p| p.join("bin/python").exists()).map(|p| p.join("bin/python")).expect("venv python");
    let probe = format!(
        "import sys; sys.modules['oe_pyprocessor'] = type(sys)('oe_pyprocessor')\n\
         import numpy as np\nsrc = open({:?}).read(); ns = {{}}; exec(compile(src, 'imports.py', 'exec'), ns)\n\
         p = ns['PyProcessor'](None, 64, 30000.0); p.process(np.zeros((64, 1024), np.float32))",
        script.display().to_string()
    );
    let theirs = median((0..3).map(|_| {
        let start = Instant::now();
        let ok = Command::new(&python).args(["-c", &probe]).status().map(|s| s.success()).unwrap_or(false);
        assert!(ok, "native start-up probe failed");
        start.elapsed()
    }));
    println!("{:<44} {:>11.1} ms {:>11.1} ms {:>7.2}x", "instance ready: numpy + scipy.signal, 1st block", ms(ours), ms(theirs), ms(ours) / ms(theirs));
}

fn rss_bytes() -> usize {
    memory_stats::memory_stats().expect("this platform reports the process's memory").physical_mem
}

fn memory(engine: &Engine) {
    let script = root().join("../examples/bandpass_filter.py");
    let mut alive = Vec::new();
    let mut rss = Vec::new();
    for n in 1..=8 {
        let mut p = Processor::builder(engine, &script).stream(64, RATE).label(format!("m{n}")).build().unwrap();
        for _ in 0..3 {
            p.process(block(64).view_mut(), 0).unwrap();
        }
        alive.push(p);
        rss.push(rss_bytes());
    }
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!(
        "{:<44} {:>14} RSS with 1 / 4 / 8 alive: {:.0} / {:.0} / {:.0} MiB; per extra instance {:.1} MiB",
        "memory: band-pass 64 ch instances",
        "",
        mib(rss[0]),
        mib(rss[3]),
        mib(rss[7]),
        mib(rss[7] - rss[0]) / 7.0
    );
}

/// Blocks per second of band-pass at 64 channels, with one instance and with two on two
/// threads (each its own processor).
fn parallel(engine: &Engine) {
    let script = root().join("../examples/bandpass_filter.py");
    let run = Duration::from_secs(2);
    let pyproc_rate = |threads: usize| -> f64 {
        let processors: Vec<_> = (0..threads)
            .map(|i| Processor::builder(engine, &script).stream(64, RATE).label(format!("p{i}")).build().unwrap())
            .collect();
        let blocks: usize = std::thread::scope(|s| {
            let handles: Vec<_> = processors
                .into_iter()
                .map(|mut p| {
                    s.spawn(move || {
                        let mut data = block(64);
                        let (start, mut n) = (Instant::now(), 0);
                        while start.elapsed() < run {
                            p.process(data.view_mut(), 0).unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        blocks as f64 / run.as_secs_f64()
    };
    let native_rate = |threads: usize| -> f64 {
        let blocks: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let script = script.clone();
                    s.spawn(move || {
                        let mut p = NativeProcessor::new(&script, 64, RATE).unwrap();
                        let mut data = block(64);
                        let (start, mut n) = (Instant::now(), 0);
                        while start.elapsed() < run {
                            p.process(data.as_slice_mut().unwrap()).unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        blocks as f64 / run.as_secs_f64()
    };
    let (p1, p2) = (pyproc_rate(1), pyproc_rate(2));
    let (n1, n2) = (native_rate(1), native_rate(2));
    println!(
        "{:<44} pyproc {:.0} -> {:.0} blocks/s ({:.2}x); native {:.0} -> {:.0} blocks/s ({:.2}x, one GIL)",
        "parallel: band-pass 64 ch, 1 -> 2 threads",
        p1,
        p2,
        p2 / p1,
        n1,
        n2,
        n2 / n1
    );
}

/// The same per-block rows from an interpreter compiled without deadline checks, to show
/// what deadlines cost (its own cached module: the first run compiles it, about 90 s).
fn without_deadlines() {
    let engine = Engine::builder().without_deadlines().prepare().expect("the interpreter without deadline checks compiles");
    per_block(&engine, "pass-through, no deadline", &root().join("scripts/passthrough.py"));
    per_block(&engine, "band-pass, no deadline", &root().join("../examples/bandpass_filter.py"));
}

fn main() {
    let own_script = std::env::args().nth(1).map(PathBuf::from);
    let started = Instant::now();
    let engine = Engine::prepare().expect("the interpreter is installed and compiled (first run: minutes)");
    println!("engine ready in {:.0} ms (compiled interpreter loaded from the cache)\n", ms(started.elapsed()));
    println!("{:<44} {:>14} {:>14} {:>8}", "workload (1024 samples per block, 30 kHz)", "pyproc", "native CPython", "ratio");
    if let Some(script) = &own_script {
        per_block(&engine, &script.file_name().unwrap().to_string_lossy(), script);
    }
    per_block(&engine, "pass-through", &root().join("scripts/passthrough.py"));
    per_block(&engine, "band-pass (examples/bandpass_filter.py)", &root().join("../examples/bandpass_filter.py"));
    cold_block(&engine);
    events(&engine);
    spikes(&engine);
    instance_ready(&engine);
    memory(&engine);
    parallel(&engine);
    // Last: compiling that variant (first run only) would inflate the memory figures.
    without_deadlines();
}
