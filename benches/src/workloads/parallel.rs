//! Blocks per second of band-pass at 64 channels with one processor, and with two on two
//! threads: pyproc's interpreters share nothing, native CPython's share one GIL.

use std::time::{Duration, Instant};

use pyproc_host::{Engine, Processor};

use crate::bench::Bench;
use crate::native::NativeProcessor;
use crate::row::{Row, Unit};
use crate::workloads::{block, example, RATE};

const RUN: Duration = Duration::from_secs(2);

pub fn threads(bench: &mut Bench) {
    let one = "parallel: band-pass 64 ch, 1 thread";
    let two = "parallel: band-pass 64 ch, 2 threads";
    if !bench.selection().wants_any([one, two]) {
        return;
    }
    let engine = bench.engine();
    let (p1, p2) = (pyproc_rate(&engine, 1), pyproc_rate(&engine, 2));
    let (n1, n2) = (native_rate(1), native_rate(2));
    bench.record(Row::versus(one, Unit::BlocksPerSecond, p1, n1));
    bench.record(Row::versus(two, Unit::BlocksPerSecond, p2, n2));
}

fn pyproc_rate(engine: &Engine, threads: usize) -> f64 {
    let script = example("bandpass_filter.py");
    let processors: Vec<_> =
        (0..threads).map(|i| Processor::builder(engine, &script).stream(64, RATE).label(format!("p{i}")).build().unwrap()).collect();
    let blocks: usize = std::thread::scope(|s| {
        let handles: Vec<_> = processors
            .into_iter()
            .map(|mut p| {
                s.spawn(move || {
                    let mut data = block(64);
                    let (start, mut n) = (Instant::now(), 0);
                    while start.elapsed() < RUN {
                        p.process(data.view_mut(), 0).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    blocks as f64 / RUN.as_secs_f64()
}

fn native_rate(threads: usize) -> f64 {
    let script = example("bandpass_filter.py");
    let blocks: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let script = script.clone();
                s.spawn(move || {
                    let mut p = NativeProcessor::new(&script, 64, RATE).unwrap();
                    let mut data = block(64);
                    let (start, mut n) = (Instant::now(), 0);
                    while start.elapsed() < RUN {
                        p.process(data.as_slice_mut().unwrap()).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    blocks as f64 / RUN.as_secs_f64()
}
