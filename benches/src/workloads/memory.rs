//! What instances cost in memory: the process's resident size as band-pass processors are
//! added (pyproc only; native CPython has one interpreter whatever the count).

use pyproc_host::Processor;

use crate::bench::Bench;
use crate::row::{Row, Unit};
use crate::workloads::{block, example, RATE};

const ALIVE: [usize; 3] = [1, 4, 8];

pub fn instances(bench: &mut Bench) {
    let names: Vec<String> = ALIVE.iter().map(|n| format!("memory: band-pass 64 ch, RSS with {n} alive")).collect();
    let per_extra = "memory: band-pass 64 ch, RSS per extra instance";
    if !bench.selection().wants_any(names.iter().map(String::as_str).chain([per_extra])) {
        return;
    }
    let script = example("bandpass_filter.py");
    let engine = bench.engine();
    let mut alive = Vec::new();
    let mut rss = Vec::new();
    for n in 1..=ALIVE[ALIVE.len() - 1] {
        let mut p = Processor::builder(&engine, &script).stream(64, RATE).label(format!("m{n}")).build().unwrap();
        for _ in 0..3 {
            p.process(block(64).view_mut(), 0).unwrap();
        }
        alive.push(p);
        rss.push(mib(memory_stats::memory_stats().expect("this platform reports the process's memory").physical_mem));
    }
    for (name, n) in names.into_iter().zip(ALIVE) {
        bench.record(Row::alone(name, Unit::MiB, rss[n - 1]));
    }
    bench.record(Row::alone(per_extra, Unit::MiB, (rss[rss.len() - 1] - rss[0]) / (rss.len() - 1) as f64));
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
