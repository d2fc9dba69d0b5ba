//! The block path allocates nothing once warm: `Processor::process` with 30 TTL events and
//! 10 spikes queued before each block, 30 events and 10 spikes emitted by the script in
//! each, and a Python exception every 100th block, makes no heap allocation on the calling
//! thread after the first few hundred blocks. Counted by this binary's global allocator.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{builder, test_script};
use ndarray::Array2;
use pyproc_host::{Error, Processed, SpikeIn, TtlEventIn};

struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted, and how many there were.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn counted() {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CHANNELS: usize = 16;
const SAMPLES: usize = 256;
const WARM_UP: usize = 300;
const COUNTED: usize = 10_000;

#[test]
fn ten_thousand_busy_blocks_allocate_nothing_after_warm_up() {
    let mut p = builder(test_script("realtime_load.py")).stream(CHANNELS, 30_000.0).build().unwrap();
    p.start_acquisition().unwrap();
    let mut block = Array2::<f32>::ones((CHANNELS, SAMPLES));
    let waveform = Array2::<f32>::zeros((4, 40));
    let (mut done, mut failed, mut events_out, mut spikes_out) = (0u64, 0u64, 0usize, 0usize);
    let mut counted_allocations = 0;
    for i in 0..WARM_UP + COUNTED {
        if i == WARM_UP {
            COUNT.with(|c| c.set(0));
            ARMED.with(|a| a.set(true));
        }
        let first = (i * SAMPLES) as i64;
        for e in 0..30 {
            let event = TtlEventIn { source_node: 100, channel: "TTL", sample_number: first + e, line: (e % 8) as u8, state: e % 2 == 0 };
            p.handle_ttl_event(&event).unwrap();
        }
        for s in 0..10 {
            let spike = SpikeIn { source_node: 101, electrode_name: "Tetrode 1", sample_number: first + s, sorted_id: 0, waveform: waveform.view() };
            p.handle_spike(&spike).unwrap();
        }
        match p.process(block.view_mut(), first) {
            Ok(Processed::Done(emitted)) => {
                done += 1;
                events_out += emitted.events.len();
                spikes_out += emitted.spikes.len();
            }
            Ok(Processed::PassedThrough(why)) => panic!("block {i} passed through: {why}"),
            Err(Error::Python { exception, .. }) => {
                assert!(exception.message.ends_with("is a hundredth block"), "block {i}: {exception}");
                failed += 1;
            }
            Err(err) => panic!("block {i}: {err}"),
        }
        if i >= WARM_UP {
            counted_allocations = COUNT.with(Cell::get);
        }
        block.fill(1.0);
    }
    ARMED.with(|a| a.set(false));
    assert_eq!(failed, ((WARM_UP + COUNTED) / 100) as u64, "one block in a hundred raised");
    assert_eq!(done + failed, (WARM_UP + COUNTED) as u64);
    assert_eq!(events_out, done as usize * 30);
    assert_eq!(spikes_out, done as usize * 10);
    assert_eq!(counted_allocations, 0, "allocations on the block path across {COUNTED} blocks after warm-up");
}
