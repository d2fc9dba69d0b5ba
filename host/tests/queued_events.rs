//! TTL events and spikes are queued on the host and travel with the next call into the
//! script: the script sees them in arrival order, each before the callback that follows it,
//! and a handler's failure is reported by that call, naming the handler.

mod common;

use std::time::Duration;

use common::{builder, test_script, Done, Printed};
use ndarray::{array, Array2};
use pyproc_host::{Callback, Error, Limits, SpikeIn, TtlEvent, TtlEventIn};
use serde_json::Value;

fn ttl(sample_number: i64, line: u8) -> TtlEventIn<'static> {
    TtlEventIn { source_node: 100, channel: "TTL", sample_number, line, state: true }
}

/// What `argument_recorder.py` printed, as `callback` or `callback@sample_number`.
fn calls(printed: &Printed) -> Vec<String> {
    printed
        .take()
        .iter()
        .map(|line| {
            let call: Value = serde_json::from_str(line).unwrap();
            let name = call["callback"].as_str().unwrap().to_owned();
            let sample = match name.as_str() {
                "handle_ttl_event" => &call["args"][2]["value"],
                "handle_spike" => &call["args"][4]["value"],
                _ => return name,
            };
            format!("{name}@{sample}")
        })
        .collect()
}

#[test]
fn the_script_sees_events_spikes_and_callbacks_in_exactly_the_order_they_arrived() {
    let printed = Printed::default();
    let recording = tempfile::tempdir().unwrap();
    let mut p = builder(test_script("argument_recorder.py")).recording_root(recording.path()).output(printed.sink()).build().unwrap();
    let waveform = Array2::<f32>::ones((4, 40));
    let spike = |sample_number| SpikeIn { source_node: 101, electrode_name: "Tetrode 1", sample_number, sorted_id: 0, waveform: waveform.view() };
    let mut block = Array2::<f32>::zeros((1, 8));
    p.start_acquisition().unwrap();
    p.handle_ttl_event(&ttl(1, 0)).unwrap();
    p.handle_spike(&spike(2)).unwrap();
    p.process(block.view_mut(), 0).done();
    p.handle_ttl_event(&ttl(3, 0)).unwrap();
    p.start_recording(recording.path()).unwrap();
    p.handle_spike(&spike(4)).unwrap();
    p.handle_ttl_event(&ttl(5, 0)).unwrap();
    p.process(block.view_mut(), 8).done();
    p.handle_ttl_event(&ttl(6, 0)).unwrap();
    p.stop_recording().unwrap();
    p.handle_spike(&spike(7)).unwrap();
    p.stop_acquisition().unwrap();
    p.handle_ttl_event(&ttl(8, 0)).unwrap();
    p.process(block.view_mut(), 16).done();
    p.handle_ttl_event(&ttl(9, 0)).unwrap();
    drop(p);
    let expected = [
        "__init__",
        "start_acquisition",
        "handle_ttl_event@1",
        "handle_spike@2",
        "process",
        "handle_ttl_event@3",
        "start_recording",
        "handle_spike@4",
        "handle_ttl_event@5",
        "process",
        "handle_ttl_event@6",
        "stop_recording",
        "handle_spike@7",
        "stop_acquisition",
        "handle_ttl_event@8",
        "process",
        "handle_ttl_event@9",
    ];
    assert_eq!(calls(&printed), expected);
}

#[test]
fn a_handler_that_raises_fails_the_block_naming_the_handler_and_its_line() {
    let printed = Printed::default();
    let mut p = builder(test_script("handler_failures.py")).output(printed.sink()).build().unwrap();
    for (sample_number, line) in [(1, 0), (2, 9), (3, 0)] {
        p.handle_ttl_event(&ttl(sample_number, line)).unwrap();
    }
    let mut block = array![[5.0f32, 6.0]];
    let err = p.process(block.view_mut(), 0).unwrap_err();
    assert_eq!(block, array![[5.0f32, 6.0]], "the block is left as it came in");
    let Error::Python { exception, .. } = &err else { panic!("{err}") };
    assert_eq!((exception.callback, exception.line), (Callback::HandleTtlEvent, Some(14)));
    assert_eq!((exception.type_name.as_str(), exception.message.as_str()), ("ValueError", "line 9 is not wired"));
    assert!(err.to_string().contains("handler_failures.py:14: handle_ttl_event raised ValueError"), "{err}");
    assert!(printed.take().is_empty(), "process did not run for the failed block");

    // The next block goes through; the event queued behind the failed one was not delivered.
    p.handle_ttl_event(&ttl(4, 0)).unwrap();
    p.process(block.view_mut(), 2).done();
    assert_eq!(block, array![[6.0f32, 7.0]]);
    assert_eq!(printed.take(), ["process saw [1, 4]"]);
}

#[test]
fn a_handler_failure_delivered_before_another_callback_is_reported_by_that_call_which_still_runs() {
    let printed = Printed::default();
    let mut p = builder(test_script("handler_failures.py")).output(printed.sink()).build().unwrap();
    p.handle_ttl_event(&ttl(2, 9)).unwrap();
    let err = p.set_stream(1, 1000.0).unwrap_err();
    assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::HandleTtlEvent), "{err}");
    assert_eq!(p.stream().sample_rate, 1000.0, "the new PyProcessor was made all the same");
    let mut block = array![[0.0f32]];
    p.process(block.view_mut(), 0).done();
    assert_eq!(printed.take(), ["process saw []"]);
}

#[test]
fn a_handler_past_the_deadline_is_blamed_and_the_interpreter_restarts_as_after_process() {
    let limits = Limits { callback_deadline: Duration::from_millis(300), ..Default::default() };
    let mut p = builder(test_script("handler_failures.py")).limits(limits).build().unwrap();
    let mut block = array![[0.0f32]];
    p.process(block.view_mut(), 0).done(); // the first block has the start-up deadline
    p.handle_ttl_event(&ttl(1, 8)).unwrap();
    let err = p.process(block.view_mut(), 1).unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { callback: Callback::HandleTtlEvent, .. }), "{err}");
    assert_eq!(block, array![[1.0f32]]);
    p.handle_ttl_event(&ttl(2, 0)).unwrap(); // restarts the interpreter, then queues
    p.process(block.view_mut(), 2).done();
    assert_eq!(p.stats().restarts, 1);
}

#[test]
fn more_events_than_the_command_area_holds_are_delivered_in_order_without_loss() {
    let mut p = builder(test_script("ttl_echo.py")).build().unwrap();
    // About 2 850 events fill the area beside a block: this is more than two areas' worth.
    let n = 7_000;
    for i in 0..n {
        p.handle_ttl_event(&ttl(i, (i % 200) as u8)).unwrap();
    }
    let mut block = Array2::<f32>::zeros((1, 4));
    let echoed = p.process(block.view_mut(), n).done().events.to_vec();
    let expected: Vec<TtlEvent> = (0..n).map(|i| TtlEvent { sample_number: i, line: (i % 200) as u8 + 10, state: true }).collect();
    assert_eq!(echoed.len(), expected.len());
    assert!(echoed == expected, "echoed in arrival order");
}

#[test]
fn a_spike_too_large_for_the_command_area_arrives_alone_and_in_its_place() {
    let printed = Printed::default();
    let mut p = builder(test_script("argument_recorder.py")).output(printed.sink()).build().unwrap();
    let big = Array2::from_shape_fn((64, 1100), |(c, _)| c as f32);
    let small = Array2::<f32>::ones((4, 40));
    let big_spike = SpikeIn { source_node: 1, electrode_name: "Probe", sample_number: 2, sorted_id: 3, waveform: big.view() };
    let mut block = Array2::<f32>::zeros((1, 4));
    p.handle_ttl_event(&ttl(1, 0)).unwrap();
    p.handle_spike(&big_spike).unwrap();
    p.process(block.view_mut(), 4).done();
    p.handle_spike(&big_spike).unwrap();
    p.handle_spike(&SpikeIn { source_node: 1, electrode_name: "Tetrode", sample_number: 3, sorted_id: 0, waveform: small.view() }).unwrap();
    p.process(block.view_mut(), 8).done();
    let lines = printed.take();
    let spike: Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(spike["args"][6]["shape"], serde_json::json!([64, 1100]));
    assert_eq!(spike["args"][6]["sum"].as_f64().unwrap(), 1100.0 * (0..64).sum::<i32>() as f64);
    let order: Vec<String> = lines.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["callback"].as_str().unwrap().to_owned()).collect();
    assert_eq!(order, ["__init__", "handle_ttl_event", "handle_spike", "process", "handle_spike", "handle_spike", "process"]);
}
