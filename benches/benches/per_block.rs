//! Per-block cost of `Processor::process` with a script that does nothing, at 1, 64 and
//! 384 channels x 1024 samples, beside the floor measured in the same run: copying the
//! same block into a buffer and back, which any host (native or sandboxed) must do.
//!
//! `cargo bench -p pyproc-benches` prints criterion's table and, at the end, the ratio of
//! each pass-through to its copy floor. The native-CPython baseline is a separate bench.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::Array2;
use pyproc_benches::{timed, us};
use pyproc_host::{Engine, Processor};

const SAMPLES: usize = 1024;
const CHANNELS: [usize; 3] = [1, 64, 384];

fn script() -> String {
    format!("{}/scripts/passthrough.py", env!("CARGO_MANIFEST_DIR"))
}

fn block(channels: usize) -> Array2<f32> {
    Array2::from_shape_fn((channels, SAMPLES), |(c, s)| (c * SAMPLES + s) as f32)
}

fn per_block(c: &mut Criterion) {
    let engine = Engine::prepare().expect("interpreter ready");
    let mut group = c.benchmark_group("pass-through per block (1024 samples)");
    let mut ratios = Vec::new();
    for channels in CHANNELS {
        let mut processor = Processor::builder(&engine, script()).stream(channels, 30_000.0).build().unwrap();
        let mut data = block(channels);
        let mut first = 0i64;
        let mut pyproc = Duration::ZERO;
        group.bench_with_input(BenchmarkId::new("pyproc", channels), &channels, |b, _| {
            b.iter_custom(|iters| {
                timed(iters, &mut pyproc, || {
                    processor.process(data.view_mut(), first).unwrap();
                    first += SAMPLES as i64;
                })
            })
        });
        let mut staging = vec![0f32; channels * SAMPLES];
        let mut copy = Duration::ZERO;
        group.bench_with_input(BenchmarkId::new("copy in+out (floor)", channels), &channels, |b, _| {
            b.iter_custom(|iters| {
                timed(iters, &mut copy, || {
                    staging.copy_from_slice(data.as_slice().unwrap());
                    black_box(&mut staging);
                    data.as_slice_mut().unwrap().copy_from_slice(&staging);
                    black_box(&mut data);
                })
            })
        });
        ratios.push((channels, pyproc, copy));
    }
    group.finish();
    println!("\npass-through per block, same run (last sample of each):");
    println!("{:>9} {:>14} {:>14} {:>16}", "channels", "pyproc", "copy floor", "pyproc - floor");
    for (channels, pyproc, copy) in ratios {
        let over = pyproc.saturating_sub(copy);
        println!("{channels:>9} {:>11.2} µs {:>11.2} µs {:>13.2} µs", us(pyproc), us(copy), us(over));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = per_block
}
criterion_main!(benches);
