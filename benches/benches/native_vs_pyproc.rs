//! pyproc against the original plugin's approach (CPython embedded natively, see
//! `pyproc_benches::native`), same scripts, same blocks, same run: pass-through and the
//! band-pass example at 1, 64 and 384 channels x 1024 samples. Prints the ratio table at
//! the end.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::Array2;
use pyproc_benches::native::NativeProcessor;
use pyproc_benches::{timed, us};
use pyproc_host::{Engine, Processor};

const SAMPLES: usize = 1024;
const CHANNELS: [usize; 3] = [1, 64, 384];

fn scripts() -> [(&'static str, PathBuf); 2] {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [("pass-through", root.join("scripts/passthrough.py")), ("bandpass", root.join("../examples/bandpass_filter.py"))]
}

fn block(channels: usize) -> Array2<f32> {
    Array2::from_shape_fn((channels, SAMPLES), |(c, s)| ((s as f32) * 0.01 + c as f32).sin() * 100.0)
}

fn native_vs_pyproc(c: &mut Criterion) {
    let engine = Engine::prepare().expect("interpreter ready");
    let mut rows = Vec::new();
    for (workload, script) in scripts() {
        let mut group = c.benchmark_group(format!("{workload} per block (1024 samples)"));
        for channels in CHANNELS {
            let mut pyproc = Processor::builder(&engine, &script).stream(channels, 30_000.0).build().unwrap();
            let mut native = NativeProcessor::new(&script, channels, 30_000.0).unwrap();
            let (mut ours, mut theirs) = (Duration::ZERO, Duration::ZERO);
            let mut data = block(channels);
            group.bench_with_input(BenchmarkId::new("pyproc", channels), &channels, |b, _| {
                b.iter_custom(|iters| timed(iters, &mut ours, || {
                    pyproc.process(data.view_mut(), 0).unwrap();
                }))
            });
            let mut data = block(channels);
            group.bench_with_input(BenchmarkId::new("native CPython", channels), &channels, |b, _| {
                b.iter_custom(|iters| timed(iters, &mut theirs, || native.process(data.as_slice_mut().unwrap()).unwrap()))
            });
            rows.push((workload, channels, ours, theirs));
        }
        group.finish();
    }
    println!("\nper block, same run (mean of the last sample of each):");
    println!("{:>13} {:>9} {:>13} {:>16} {:>8}", "workload", "channels", "pyproc", "native CPython", "ratio");
    for (workload, channels, ours, theirs) in rows {
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64().max(1e-12);
        println!("{workload:>13} {channels:>9} {:>10.1} µs {:>13.1} µs {ratio:>7.2}x", us(ours), us(theirs));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = native_vs_pyproc
}
criterion_main!(benches);
