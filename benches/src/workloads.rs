//! What the benchmark runs, one kind of workload per file. Each measures pyproc and
//! native CPython on the same script and input, and records its rows only if the run
//! wants them.

pub mod callbacks;
pub mod cold;
pub mod memory;
pub mod offline;
pub mod parallel;
pub mod per_block;
pub mod plots;
pub mod shards;
pub mod startup;

use std::path::PathBuf;

use ndarray::Array2;

/// Samples per block in the per-block rows.
pub const SAMPLES: usize = 1024;
pub const RATE: f64 = 30_000.0;

/// A script of the benchmark's own (`benches/scripts/`).
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

/// One of the product's examples (`examples/`).
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

/// A block of sines, 100 µV peak, channels x [`SAMPLES`].
pub fn block(channels: usize) -> Array2<f32> {
    Array2::from_shape_fn((channels, SAMPLES), |(c, s)| ((s as f32) * 0.01 + c as f32).sin() * 100.0)
}
