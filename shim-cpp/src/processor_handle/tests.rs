//! The allocation contract of the real-time path: queueing events allocates nothing, and a
//! block allocates only what wasmtime's call into the guest does.

use super::*;
use crate::allocation_count::allocations_in;
use crate::engine_handle::engine_new;

const CHANNELS: usize = 4;
const SAMPLES: usize = 256;
const EVENTS: usize = 34;
const SPIKES: usize = 10;

/// Default options: one shard, the default deadlines, the script's folder readable.
pub(super) fn options() -> ProcessorOptions {
    ProcessorOptions {
        seed: 1,
        label: String::new(),
        recording_root: String::new(),
        callback_deadline_ms: 0,
        block_deadline_ms: 0,
        init_deadline_ms: 0,
        memory_limit_mb: 0,
        script_folder: true,
        allow_read: Vec::new(),
        allow_write: Vec::new(),
        allow_net: Vec::new(),
        allow_listen: Vec::new(),
        shards: 1,
        assume_channel_independent: false,
        spare_interpreter: true,
    }
}

/// Queues `events` TTL events and `spikes` spikes, as the real-time thread does before a
/// block; returns the allocations that made, and every status.
fn queue(handle: &ProcessorHandle, events: usize, spikes: usize, waveform: &[f32]) -> (Vec<Status>, u64) {
    let mut statuses = Vec::with_capacity(events + spikes);
    let ((), allocated) = allocations_in(|| {
        for i in 0..events {
            statuses.push(handle.handle_ttl_event(104, "TTL", i as i64 * 30, 1, i % 2 == 0));
        }
        for i in 0..spikes {
            statuses.push(handle.handle_spike(105, "Tetrode 1", i as i64 * 100, 0, waveform, 4, 40));
        }
    });
    (statuses, allocated)
}

#[test]
fn queueing_events_and_spikes_allocates_nothing_and_a_block_carrying_them_no_more_than_one_without() {
    let engine = engine_new("").expect("the interpreter is prepared");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts/cpp_contract.py");
    let handle = unsafe { processor_load(&engine, script, CHANNELS as u32, 30_000.0, &options(), std::ptr::null()) }.expect("the script loads");
    let mut data = vec![vec![1.0f32; SAMPLES]; CHANNELS];
    let waveform: Vec<f32> = (0..4 * 40).map(|i| (i as f32 * 0.3).sin() * 80.0).collect();
    let mut out = [TtlEventOut { sample_number: 0, line: 0, state: false }; 64];
    let mut block = |first: i64, out: &mut [TtlEventOut]| {
        let channels: Vec<usize> = data.iter_mut().map(|c| c.as_mut_ptr() as usize).collect();
        allocations_in(|| unsafe { handle.process(&channels, SAMPLES, first, out, &mut []) })
    };
    // Steady state: the buffers on both sides have grown to what a block needs.
    for round in 0..5 {
        queue(&handle, EVENTS, SPIKES, &waveform);
        block(round * SAMPLES as i64, &mut out);
    }

    let (statuses, allocated) = queue(&handle, EVENTS, SPIKES, &waveform);
    assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
    assert_eq!(allocated, 0, "handle_ttl_event and handle_spike allocate nothing");
    let (with_events, allocated_with) = block(5 * SAMPLES as i64, &mut out);
    assert_eq!((with_events.status, with_events.num_events), (Status::Ok, EVENTS + SPIKES), "every event echoed");

    // The same mix (events, then spikes: one change of handler, announced to the host),
    // one of each.
    let (_, allocated) = queue(&handle, 1, 1, &waveform);
    assert_eq!(allocated, 0);
    let (one_each, allocated_one) = block(6 * SAMPLES as i64, &mut out);
    assert_eq!((one_each.status, one_each.num_events), (Status::Ok, 2));
    assert_eq!(allocated_with, allocated_one, "a block allocates nothing per event or spike it carries");

    // A control call (run here: no blocks flow) leaves the steady state as it was, and
    // a block after it takes no slower path.
    let (plain, allocated_before) = block(7 * SAMPLES as i64, &mut out);
    assert_eq!(handle.start_acquisition(), Status::Ok);
    let (after, allocated_after) = block(8 * SAMPLES as i64, &mut out);
    assert_eq!((plain.status, after.status), (Status::Ok, Status::Ok));
    assert_eq!(allocated_before, allocated_after, "a block allocates the same before and after a control call");
    // Only wasmtime's call into the guest allocates: its boxed future (two small boxes).
    assert!(allocated_after <= 2, "a plain block allocated {allocated_after} times");
    assert_eq!(handle.pass_through_counts(), PassThroughCounts::default());
}
