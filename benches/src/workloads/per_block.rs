//! One script, one block after another: the time of `process` on a 1024-sample block.

use std::path::Path;

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
        let mut native = NativeProcessor::new(script, channels, RATE).expect("native CPython loads the script");
        let (mut a, mut b) = (block(channels), block(channels));
        let (ours, theirs) = head_to_head(
            || {
                pyproc.process(a.view_mut(), 0).unwrap();
            },
            || native.process(b.as_slice_mut().unwrap()).unwrap(),
        );
        bench.record(Row::versus_time(workload, ours, theirs));
    }
}
