//! At which sample number an event emitted with `add_python_event(line, state)` lands,
//! for every callback it can be emitted from: as in the original plugin, whose
//! `process(buffer)` calls the handlers of the block's events, then the script's
//! `process`, then sends every queued event at that block's first sample, and whose
//! `add_python_event` queues only while acquisition runs.

mod common;

use common::{builder, test_script, Done};
use ndarray::Array2;
use pyproc_host::{Processor, SpikeIn, TtlEventIn};

const BLOCK: usize = 100;
/// The script's line per callback (tests/scripts/event_timing.py).
const INIT: u8 = 1;
const START_ACQUISITION: u8 = 2;
const START_RECORDING: u8 = 3;
const TTL_HANDLER: u8 = 4;
const SPIKE_HANDLER: u8 = 5;
const PROCESS: u8 = 6;
const STOP_RECORDING: u8 = 7;
const STOP_ACQUISITION: u8 = 8;
/// `start_recording`'s event placed with `sample_number=5`.
const EXACT: u8 = 9;

/// The events (line, sample number) a block with first sample `first` sends out.
fn block(p: &mut Processor, first: i64) -> Vec<(u8, i64)> {
    let mut data = Array2::<f32>::zeros((2, BLOCK));
    p.process(data.view_mut(), first).done().events.iter().map(|e| (e.line, e.sample_number)).collect()
}

#[test]
fn each_callbacks_events_land_where_the_original_plugin_puts_them() {
    let recordings = tempfile::tempdir().unwrap();
    let dir = recordings.path().join("rec");
    let mut p = builder(test_script("event_timing.py")).stream(2, 30_000.0).recording_root(recordings.path()).build().unwrap();
    let waveform = Array2::<f32>::zeros((4, 40));

    // (what happens, then the events the next block sends, in order)
    p.start_acquisition().unwrap();
    p.start_recording(&dir).unwrap();
    let a = block(&mut p, 1000);
    p.handle_ttl_event(&TtlEventIn { source_node: 100, channel: "TTL", sample_number: 1150, line: 0, state: true }).unwrap();
    p.handle_spike(&SpikeIn { source_node: 101, electrode_name: "Tetrode 1", sample_number: 1160, sorted_id: 0, waveform: waveform.view() }).unwrap();
    let b = block(&mut p, 1100);
    p.stop_recording().unwrap(); // acquisition goes on
    let c = block(&mut p, 1200);
    p.start_recording(&dir).unwrap();
    p.stop_recording().unwrap();
    p.stop_acquisition().unwrap(); // nothing is left for a next block
    p.start_acquisition().unwrap();
    let d = block(&mut p, 1300);

    let table: &[(&str, Vec<(u8, i64)>, Vec<(u8, i64)>)] = &[
        // __init__'s event is dropped: acquisition has not started.
        (
            "start_acquisition, start_recording (one placed at sample 5), process",
            a,
            vec![(EXACT, 5), (START_ACQUISITION, 1000), (START_RECORDING, 1000), (PROCESS, 1000)],
        ),
        ("the TTL and spike handlers of the block's events, process", b, vec![(TTL_HANDLER, 1100), (SPIKE_HANDLER, 1100), (PROCESS, 1100)]),
        ("stop_recording while acquisition goes on, process", c, vec![(STOP_RECORDING, 1200), (PROCESS, 1200)]),
        // start_recording's and stop_recording's events wait for a block that never comes in
        // that acquisition; stop_acquisition's is emitted after acquisition stopped.
        ("start_acquisition again, process", d, vec![(EXACT, 5), (START_ACQUISITION, 1300), (PROCESS, 1300)]),
    ];
    for (what, got, expected) in table {
        assert_eq!(got, expected, "{what}");
    }
    // __init__'s, and start_recording's, stop_recording's and stop_acquisition's at the end
    // of the first acquisition.
    let dropped = [INIT, START_RECORDING, STOP_RECORDING, STOP_ACQUISITION].len() as u64;
    assert_eq!(p.stats().events_outside_acquisition, dropped);
}
