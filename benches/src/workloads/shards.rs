//! The per-channel loop split over several interpreters: the script runs as K shards, each
//! over a contiguous group of the channels, in parallel, against one native interpreter
//! (the original plugin's single GIL) on the same block.

use std::path::Path;

use pyproc_host::{Engine, Processor};

use crate::bench::Bench;
use crate::workloads::per_block::versus_native;
use crate::workloads::RATE;

/// Records `<name>, <channels> ch, <k> shards` for each shard count the run wants. On a
/// machine with fewer cores than shards the row shows what oversubscription costs.
pub fn run(bench: &mut Bench, engine: &Engine, name: &str, script: &Path, channels: usize, shard_counts: &[usize]) {
    for &shards in shard_counts {
        let workload = format!("{name}, {channels} ch, {shards} shard{}", if shards == 1 { "" } else { "s" });
        if !bench.wants(&workload) {
            continue;
        }
        let mut pyproc = Processor::builder(engine, script)
            .stream(channels, RATE)
            .sharded()
            .shards(shards)
            .build()
            .expect("pyproc loads the script's shards");
        assert_eq!(pyproc.shard_count(), shards, "{} declares channel_independent", script.display());
        let row = versus_native(workload, script, channels, |block| {
            pyproc.process(block, 0).unwrap();
        });
        bench.record(row);
    }
}
