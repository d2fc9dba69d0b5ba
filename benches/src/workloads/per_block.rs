//! One script, one block after another: the time of `process` on a 1024-sample block.

use std::path::Path;

use ndarray::ArrayViewMut2;
use pyproc_host::{Engine, Processor};

use crate::bench::Bench;
use crate::measure::head_to_head;
use crate::native::NativeProcessor;
use crate::row::Row;
use crate::workloads::{block, RATE};

/// Records `<name>, <channels> ch` for each channel count the run wants.
pub fn run(bench: &mut Bench, engine: &Engine, name: &str, script: &Path, channel_counts: &[usize]) {
    for &channels in channel_counts {
        let workload = format!("{name}, {channels} ch");
        if !bench.wants(&workload) {
            continue;
        }
        let mut pyproc = Processor::builder(engine, script).stream(channels, RATE).build().expect("pyproc loads the script");
        let row = versus_native(workload, script, channels, |block| {
            pyproc.process(block, 0).unwrap();
        });
        bench.record(row);
    }
}

/// The row of `ours` (pyproc processing a block in place) against native CPython running
/// `script` on the same block, rounds interleaved.
pub(crate) fn versus_native(workload: String, script: &Path, channels: usize, mut ours: impl FnMut(ArrayViewMut2<'_, f32>)) -> Row {
    let mut native = NativeProcessor::new(script, channels, RATE).expect("native CPython loads the script");
    let (mut a, mut b) = (block(channels), block(channels));
    let (ours, theirs) = head_to_head(|| ours(a.view_mut()), || native.process(b.as_slice_mut().unwrap()).unwrap());
    Row::versus_time(workload, ours, theirs)
}
