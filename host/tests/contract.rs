//! The script contract: what a `PyProcessor` script receives and what the host does with
//! what it returns. Each test is one behaviour.

mod common;

use common::{builder, Done, example, test_script, Printed};
use ndarray::{array, Array2};
use pyproc_host::{Callback, Error, SpikeIn, TtlEvent, TtlEventIn};
use serde_json::{json, Value};

#[test]
fn the_template_loads_and_runs_every_callback() {
    let printed = Printed::default();
    let mut p = builder(example("processor_template.py")).stream(3, 30_000.0).output(printed.sink()).build().unwrap();
    let recording = tempfile::tempdir().unwrap();
    let mut p2 = builder(example("processor_template.py")).recording_root(recording.path()).build().unwrap();
    p.start_acquisition().unwrap();
    p.handle_ttl_event(&TtlEventIn { source_node: 1, channel: "TTL", sample_number: 5, line: 0, state: true }).unwrap();
    let waveform = Array2::<f32>::zeros((4, 40));
    p.handle_spike(&SpikeIn { source_node: 2, electrode_name: "Tetrode 1", sample_number: 9, sorted_id: 0, waveform: waveform.view() })
        .unwrap();
    let mut block = Array2::from_elem((3, 16), 1.5f32);
    assert!(p.process(block.view_mut(), 0).done().events.is_empty());
    assert_eq!(block, Array2::from_elem((3, 16), 1.5f32), "the template passes data through");
    p.stop_acquisition().unwrap();
    p2.start_recording(recording.path()).unwrap();
    p2.stop_recording().unwrap();
    assert_eq!(printed.take(), ["Num Channels: 3 | Sample Rate: 30000.0"]);
}

#[test]
fn each_callback_receives_exactly_the_documented_arguments() {
    let printed = Printed::default();
    let recording = tempfile::tempdir().unwrap();
    let mut p = builder(test_script("argument_recorder.py"))
        .stream(2, 25_000.0)
        .recording_root(recording.path())
        .output(printed.sink())
        .build()
        .unwrap();
    p.start_acquisition().unwrap();
    p.start_recording(recording.path()).unwrap();
    p.handle_ttl_event(&TtlEventIn { source_node: 104, channel: "Rhythm Data TTL", sample_number: 77, line: 3, state: true })
        .unwrap();
    let waveform = Array2::from_shape_fn((4, 40), |(c, s)| (c * 40 + s) as f32);
    p.handle_spike(&SpikeIn { source_node: 105, electrode_name: "Stereotrode 2", sample_number: 1234, sorted_id: 7, waveform: waveform.view() })
        .unwrap();
    let mut block = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    p.process(block.view_mut(), 500).done();
    p.stop_recording().unwrap();
    p.stop_acquisition().unwrap();

    let calls: Vec<Value> = printed.take().iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The granted root, as the script sees it (see the host's sandbox/preopens.rs).
    let dir = "/recordings/0";
    let expected = [
        json!({"callback": "__init__", "args": [
            {"type": "str", "value": "oe_pyprocessor.PythonProcessor"},
            {"type": "int", "value": 2}, {"type": "float", "value": 25000.0}]}),
        json!({"callback": "start_acquisition", "args": []}),
        json!({"callback": "start_recording", "args": [{"type": "str", "value": dir}]}),
        json!({"callback": "handle_ttl_event", "args": [
            {"type": "int", "value": 104}, {"type": "str", "value": "Rhythm Data TTL"},
            {"type": "int", "value": 77}, {"type": "int", "value": 3}, {"type": "bool", "value": true}]}),
        json!({"callback": "handle_spike", "args": [
            {"type": "int", "value": 105}, {"type": "str", "value": "Stereotrode 2"},
            {"type": "int", "value": 4}, {"type": "int", "value": 40}, {"type": "int", "value": 1234},
            {"type": "int", "value": 7},
            {"type": "ndarray", "dtype": "float32", "shape": [4, 40], "writeable": false,
             "sum": waveform.sum() as f64}]}),
        json!({"callback": "process", "args": [
            {"type": "ndarray", "dtype": "float32", "shape": [2, 3], "writeable": true, "sum": 21.0}]}),
        json!({"callback": "stop_recording", "args": []}),
        json!({"callback": "stop_acquisition", "args": []}),
    ];
    assert_eq!(calls, expected);
}

#[test]
fn optional_callbacks_that_the_script_lacks_are_skipped() {
    let recording = tempfile::tempdir().unwrap();
    let mut p = builder(test_script("minimal.py")).stream(1, 1000.0).recording_root(recording.path()).build().unwrap();
    p.start_acquisition().unwrap();
    p.start_recording(recording.path()).unwrap();
    p.handle_ttl_event(&TtlEventIn { source_node: 0, channel: "x", sample_number: 0, line: 0, state: false }).unwrap();
    let w = Array2::<f32>::zeros((1, 1));
    p.handle_spike(&SpikeIn { source_node: 0, electrode_name: "e", sample_number: 0, sorted_id: 0, waveform: w.view() }).unwrap();
    p.stop_recording().unwrap();
    p.stop_acquisition().unwrap();
    let mut block = array![[1.0f32, 2.0]];
    p.process(block.view_mut(), 0).done();
    assert_eq!(block, array![[2.0f32, 3.0]]);
}

#[test]
fn an_exception_in_process_leaves_the_block_unchanged_and_names_process_and_the_line() {
    let mut p = builder(test_script("raises_in_process.py")).stream(2, 30_000.0).build().unwrap();
    let mut block = array![[11.0f32, 1.0], [2.0, 3.0]];
    let err = p.process(block.view_mut(), 0).unwrap_err();
    assert_eq!(block, array![[11.0f32, 1.0], [2.0, 3.0]], "the block passes through untouched");
    let Error::Python { script, exception } = &err else { panic!("{err}") };
    let (callback, line, traceback) = (&exception.callback, &exception.line, &exception.traceback);
    assert_eq!(*callback, Callback::Process);
    assert_eq!(*line, Some(12));
    assert_eq!((exception.type_name.as_str(), exception.message.as_str()), ("ValueError", "sample too large"));
    let innermost = exception.frames.last().expect("the script's frame");
    assert!(innermost.file.ends_with("raises_in_process.py") && innermost.line == 12 && innermost.function == "process", "{innermost:?}");
    assert!(exception.frames.iter().all(|f| !f.file.starts_with("<pyproc>")), "runtime frames are hidden: {:?}", exception.frames);
    assert!(traceback.contains("raises_in_process.py\", line 12, in process"), "{traceback}");
    assert!(traceback.contains("raise ValueError(\"sample too large\")"), "source line shown: {traceback}");
    assert!(!traceback.contains("<pyproc>"), "runtime frames are hidden: {traceback}");
    assert!(script.ends_with("raises_in_process.py"));
    assert!(err.to_string().contains("raises_in_process.py:12: process raised ValueError"), "{err}");

    // The instance keeps working, and the failed block's event was dropped with it.
    let mut ok = array![[1.0f32, 1.0], [1.0, 1.0]];
    let events = p.process(ok.view_mut(), 2).done().events;
    assert_eq!(events, [TtlEvent { sample_number: 2, line: 2, state: true }]);
    assert_eq!(ok, array![[10.0f32, 10.0], [10.0, 10.0]]);
}

#[test]
fn add_python_event_arguments_the_original_plugin_refuses_raise_its_type_error_in_the_script() {
    let mut p = builder(test_script("bad_events.py")).stream(1, 30_000.0).build().unwrap();
    let expected = [
        "line '1' (str) is not an int that fits a C int",
        "line 1.5 (float) is not an int that fits a C int: floats are refused",
        "state 'on' (str) is not a bool",
        "line 2147483648 (int) is not an int that fits a C int",
        "state [1] (list) is not a bool",
        "sample_number 2.5 (float) is not an int that fits in 64 bits",
        "1 argument(s) too many",
        "line and state are both required",
        "no keyword argument 'when'",
    ];
    for (case, text) in expected.iter().enumerate() {
        let mut block = array![[case as f32]];
        let err = p.process(block.view_mut(), 0).unwrap_err();
        let Some(e) = err.python_exception() else { panic!("{err}") };
        let (callback, line) = (&e.callback, &e.line);
        assert_eq!(*callback, Callback::Process);
        assert!(e.type_name == "TypeError" && e.message.starts_with("add_python_event(): incompatible function arguments."), "case {case}: {}", e.summary());
        assert!(e.message.contains(text), "case {case}: {}", e.summary());
        assert!(line.is_some(), "case {case} points at the script's line");
    }
    let mut good = array![[-1.0f32]];
    let events = p.process(good.view_mut(), 1000).done().events;
    assert_eq!(
        events,
        [
            TtlEvent { sample_number: 1000, line: 7, state: true },
            TtlEvent { sample_number: 1003, line: 0, state: false },
            TtlEvent { sample_number: 1000, line: 255, state: true },
            TtlEvent { sample_number: 1000, line: 0, state: true },
            TtlEvent { sample_number: 1000, line: 255, state: false },
        ]
    );
}

#[test]
fn spike_data_is_read_only() {
    let mut p = builder(test_script("spike_writer.py")).build().unwrap();
    let w = Array2::<f32>::zeros((2, 8));
    p.handle_spike(&SpikeIn { source_node: 0, electrode_name: "e", sample_number: 0, sorted_id: 0, waveform: w.view() }).unwrap();
    let mut block = Array2::<f32>::zeros((1, 4));
    let err = p.process(block.view_mut(), 0).unwrap_err();
    let Some(e) = err.python_exception() else { panic!("{err}") };
    let (callback, summary) = (&e.callback, e.summary());
    assert_eq!(*callback, Callback::HandleSpike);
    assert!(summary.contains("read-only"), "{summary}");
}

#[test]
fn events_emitted_in_handle_ttl_event_are_returned_with_the_next_block() {
    let mut p = builder(test_script("ttl_echo.py")).build().unwrap();
    for (sample_number, line) in [(990, 1), (995, 2)] {
        p.handle_ttl_event(&TtlEventIn { source_node: 1, channel: "TTL", sample_number, line, state: true }).unwrap();
    }
    let mut block = Array2::<f32>::zeros((1, 16));
    let echoed = p.process(block.view_mut(), 1000).done().events;
    assert_eq!(
        echoed,
        [TtlEvent { sample_number: 990, line: 11, state: true }, TtlEvent { sample_number: 995, line: 12, state: true }]
    );
    assert!(p.process(block.view_mut(), 1016).done().events.is_empty(), "each event is returned once");
}

#[test]
fn set_stream_constructs_a_new_pyprocessor_for_the_new_stream() {
    let printed = Printed::default();
    let mut p = builder(example("processor_template.py")).stream(2, 30_000.0).output(printed.sink()).build().unwrap();
    p.set_stream(5, 1000.0).unwrap();
    assert_eq!(printed.take(), ["Num Channels: 2 | Sample Rate: 30000.0", "Num Channels: 5 | Sample Rate: 1000.0"]);
    let mut block = Array2::<f32>::ones((5, 4));
    p.process(block.view_mut(), 0).done();
    let mut wrong = Array2::<f32>::ones((2, 4));
    assert!(matches!(p.process(wrong.view_mut(), 0), Err(Error::ChannelMismatch { expected: 5, got: 2 })));
}

#[test]
fn a_script_written_for_the_original_plugin_runs_unchanged() {
    let printed = Printed::default();
    let mut p = builder(test_script("plugin_era.py")).stream(4, 30_000.0).output(printed.sink()).build().unwrap();
    p.start_acquisition().unwrap();
    let mut events = Vec::new();
    for i in 0..4 {
        let mut block = Array2::from_shape_fn((4, 256), |(c, s)| ((s + c) as f32 * 0.3).sin() * 50.0 + 20.0);
        events.extend_from_slice(p.process(block.view_mut(), i * 256).done().events);
        assert!(block.iter().all(|v| v.is_finite()));
        assert!(block.mean().unwrap().abs() < 20.0, "the 300 Hz high-pass removed the offset");
    }
    assert_eq!(events.iter().map(|e| e.sample_number).collect::<Vec<_>>(), [256, 768]);
    assert_eq!(printed.take(), ["Num Channels:  4  | Sample Rate:  30000.0", "start acquisition"]);
}

#[test]
fn start_recording_grants_the_recording_directory_read_write() {
    let root = tempfile::tempdir().unwrap();
    let rec = root.path().join("Record Node 101/experiment1/recording1");
    std::fs::create_dir_all(&rec).unwrap();
    let mut p = builder(test_script("recording_writer.py")).recording_root(root.path()).build().unwrap();
    p.start_recording(&rec).unwrap();
    let mut block = Array2::<f32>::zeros((1, 8));
    p.process(block.view_mut(), 0).done();
    p.stop_recording().unwrap();
    let written = std::fs::read_to_string(rec.join("from_script.txt")).unwrap();
    assert_eq!(written, "recorded by the script\nblocks seen: 1\n");
}

#[test]
fn start_recording_outside_the_granted_roots_is_refused_before_the_script_runs() {
    let granted = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut p = builder(test_script("recording_writer.py")).recording_root(granted.path()).build().unwrap();
    let err = p.start_recording(other.path()).unwrap_err();
    assert!(matches!(err, Error::RecordingNotGranted { .. }), "{err}");
    assert!(!other.path().join("from_script.txt").exists());
}

#[test]
fn add_python_spike_emits_spikes_and_refuses_bad_arguments() {
    let mut p = builder(test_script("spike_emitter.py")).stream(4, 30_000.0).build().unwrap();
    let mut block = Array2::<f32>::from_elem((4, 16), -1.0);
    let emitted = p.process(block.view_mut(), 1000).done();
    assert_eq!(emitted.spikes[0], pyproc_host::SpikeOut { sample_number: 1002, channel: 1, sorted_id: 0, waveform: None });
    let own = &emitted.spikes[1];
    assert_eq!((own.sample_number, own.channel, own.sorted_id), (500, 3, 9));
    assert_eq!(own.waveform.unwrap().as_slice(), (0..40).map(|v| v as f32).collect::<Vec<_>>().as_slice());
    let expected = ["channel must be from 0 to 3", "must lie in the current block (1000 to 1015)", "must have 40 samples",
        "sorted_id must be from 0 to 65535", "channel must be an int", "waveform must be 40 numbers"];
    for (case, text) in expected.iter().enumerate() {
        let mut block = Array2::<f32>::from_elem((4, 16), case as f32);
        let err = p.process(block.view_mut(), 1000).unwrap_err();
        assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::Process && e.message.contains(text)), "case {case}: {err}");
    }
    p.handle_ttl_event(&TtlEventIn { source_node: 0, channel: "c", sample_number: 5, line: 0, state: true }).unwrap();
    let mut block = Array2::<f32>::zeros((4, 16));
    let err = p.process(block.view_mut(), 1016).unwrap_err();
    assert!(matches!(err.python_exception(), Some(e) if e.callback == Callback::HandleTtlEvent), "{err}");
    assert!(err.to_string().contains("this is not process()"), "{err}");
}

#[test]
fn events_reach_a_reloaded_script_only_when_it_handles_them() {
    // The host skips callbacks a script lacks; after a reload to one that has them, they
    // must arrive again (and the other way round).
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("switch.py");
    std::fs::write(&script, std::fs::read_to_string(test_script("minimal.py")).unwrap()).unwrap();
    let mut p = builder(&script).build().unwrap();
    let event = pyproc_host::TtlEventIn { source_node: 1, channel: "TTL", sample_number: 7, line: 2, state: true };
    p.handle_ttl_event(&event).unwrap();
    let mut block = ndarray::Array2::<f32>::zeros((1, 4));
    assert!(p.process(block.view_mut(), 0).done().events.is_empty());

    std::fs::write(&script, std::fs::read_to_string(test_script("ttl_echo.py")).unwrap()).unwrap();
    p.reload().unwrap();
    p.handle_ttl_event(&event).unwrap();
    let echoed = p.process(block.view_mut(), 4).done().events.to_vec();
    assert_eq!(echoed, [pyproc_host::TtlEvent { sample_number: 7, line: 12, state: true }]);

    // A reload that fails keeps the echoing script, and its handler.
    std::fs::write(&script, "class PyProcessor(:\n").unwrap();
    assert!(p.reload().is_err());
    p.handle_ttl_event(&event).unwrap();
    assert_eq!(p.process(block.view_mut(), 8).done().events.len(), 1);
}

#[test]
fn a_block_of_no_samples_first_reaches_process_as_an_empty_array() {
    let printed = Printed::default();
    let mut p = builder(test_script("argument_recorder.py")).stream(2, 30_000.0).output(printed.sink()).build().unwrap();
    let mut empty = Array2::<f32>::zeros((2, 0));
    p.process(empty.view_mut(), 0).done();
    let mut block = array![[1.0f32, 2.0], [3.0, 4.0]];
    p.process(block.view_mut(), 0).done();
    let calls: Vec<Value> = printed.take().iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let shapes: Vec<&Value> = calls.iter().filter(|c| c["callback"] == "process").map(|c| &c["args"][0]["shape"]).collect();
    assert_eq!(shapes, [&json!([2, 0]), &json!([2, 2])]);
}
