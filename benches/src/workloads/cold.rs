//! A block as the GUI's audio callback hands it over: 384 channels x 696 samples (1024
//! frames at 44.1 kHz of a 30 kHz stream) after 23 ms of idling, caches and clocks cold.

use ndarray::Array2;
use pyproc_host::{Processor, TtlEventIn};

use crate::bench::Bench;
use crate::measure::after_idle;
use crate::native::NativeProcessor;
use crate::row::{Row, Unit};
use crate::workloads::{script, RATE};

const SHAPE: (usize, usize) = (384, 696);
/// TTL events handed over before the block in the row with events.
const EVENTS: usize = 30;

/// The pass-through block, and the floor under both sides: the block copied into a buffer
/// and back, no interpreter at all.
pub fn pass_through(bench: &mut Bench) {
    let workload = "pass-through, 384 x 696, after 23 ms idle";
    if bench.wants(workload) {
        let script = script("passthrough.py");
        let mut pyproc = Processor::builder(&bench.engine(), &script).stream(SHAPE.0, RATE).build().unwrap();
        let mut native = NativeProcessor::new(&script, SHAPE.0, RATE).unwrap();
        let (mut a, mut b) = (Array2::<f32>::ones(SHAPE), Array2::<f32>::ones(SHAPE));
        let ours = after_idle(|| {
            pyproc.process(a.view_mut(), 0).unwrap();
        });
        let theirs = after_idle(|| native.process(b.as_slice_mut().unwrap()).unwrap());
        bench.record(Row::versus_time(workload, ours, theirs));
    }
    let floor = "copy in + out alone, 384 x 696, after 23 ms idle";
    if bench.wants(floor) {
        let (mut a, mut staging) = (Array2::<f32>::ones(SHAPE), Array2::<f32>::zeros(SHAPE));
        let time = after_idle(|| {
            staging.assign(&a);
            std::hint::black_box(&mut staging);
            a.assign(&staging);
            std::hint::black_box(&mut a);
        });
        bench.record(Row::alone(floor, Unit::Micros, time.as_secs_f64() * 1e6));
    }
}

/// The same cold block, with [`EVENTS`] TTL events handed to the script first, as a block
/// with a burst of events arrives.
pub fn with_events(bench: &mut Bench) {
    let workload = format!("{EVENTS} TTL in, then 384 x 696, after 23 ms idle");
    if !bench.wants(&workload) {
        return;
    }
    let script = script("ttl_listener.py");
    let mut pyproc = Processor::builder(&bench.engine(), &script).stream(SHAPE.0, RATE).build().unwrap();
    let mut native = NativeProcessor::new(&script, SHAPE.0, RATE).unwrap();
    let (mut a, mut b) = (Array2::<f32>::ones(SHAPE), Array2::<f32>::ones(SHAPE));
    let ours = after_idle(|| {
        for i in 0..EVENTS {
            let event = TtlEventIn { source_node: 100, channel: "TTL", sample_number: i as i64 * 20, line: 1, state: i % 2 == 0 };
            pyproc.handle_ttl_event(&event).unwrap();
        }
        pyproc.process(a.view_mut(), 0).unwrap();
    });
    let theirs = after_idle(|| {
        for i in 0..EVENTS {
            native.handle_ttl_event(100, "TTL", i as i64 * 20, 1, i % 2 == 0).unwrap();
        }
        native.process(b.as_slice_mut().unwrap()).unwrap();
    });
    bench.record(Row::versus_time(workload, ours, theirs));
}
