//! The other callbacks: TTL events and spikes handed to the script with every block.

use ndarray::ArrayView2;
use pyproc_host::{Processor, SpikeIn, TtlEventIn};

use crate::bench::Bench;
use crate::measure::head_to_head;
use crate::native::NativeProcessor;
use crate::row::Row;
use crate::workloads::{block, script, RATE};

/// TTL events per block at 1000 per second, 1024-sample blocks, 30 kHz.
const EVENTS_PER_BLOCK: usize = 34;
const SPIKES_PER_BLOCK: usize = 10;

pub fn events(bench: &mut Bench) {
    let workload = format!("events: {EVENTS_PER_BLOCK} TTL in + out per block, 64 ch");
    if !bench.wants(&workload) {
        return;
    }
    let script = script("events.py");
    let mut pyproc = Processor::builder(&bench.engine(), &script).stream(64, RATE).build().unwrap();
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
    bench.record(Row::versus_time(workload, ours, theirs));
}

pub fn spikes(bench: &mut Bench) {
    let workload = format!("spikes: {SPIKES_PER_BLOCK} tetrode spikes in per block, 64 ch");
    if !bench.wants(&workload) {
        return;
    }
    let script = script("spikes.py");
    let mut pyproc = Processor::builder(&bench.engine(), &script).stream(64, RATE).build().unwrap();
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
    bench.record(Row::versus_time(workload, ours, theirs));
}
