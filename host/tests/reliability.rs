//! A script cannot hurt the host: runaway loops are cut by a deadline, dying interpreters
//! are replaced, repeated failures back off and end switched off, output is capped.

mod common;

use std::time::{Duration, Instant};

use common::{builder, Done, test_script, Printed};
use ndarray::{array, Array2};
use pyproc_host::{Callback, Error, Limits, PassThrough, Processed, Processor, Status};

fn limits(deadline_ms: u64) -> Limits {
    Limits { callback_deadline: Duration::from_millis(deadline_ms), ..Limits::default() }
}

/// Runs case `case` of misbehave.py on a one-sample block; returns the result and the block.
fn run_case(p: &mut Processor, case: f32) -> (pyproc_host::Result<()>, f32) {
    let mut block = array![[case]];
    let result = match p.process(block.view_mut(), 0) {
        Ok(Processed::Done(_)) => Ok(()),
        Ok(Processed::PassedThrough(why)) => panic!("case {case}: the block passed the script by: {why}"),
        Err(err) => Err(err),
    };
    (result, block[[0, 0]])
}

/// Runs a well-behaved first block: a new interpreter's first block gets the start-up
/// deadline, and these tests are about the callback deadline of the blocks after it.
fn warm_up(p: &mut Processor) {
    let (result, _) = run_case(p, 0.0);
    result.unwrap();
}

/// A processor of `source` whose printed lines arrive on the receiver as they are printed
/// (the script's thread is then inside the callback that printed).
fn telling_when_it_prints(name: &str, source: &str, deadline_ms: u64) -> (Processor, std::sync::mpsc::Receiver<()>) {
    let (printed, lines) = std::sync::mpsc::channel();
    let printed = std::sync::Mutex::new(printed);
    let p = Processor::builder_for_source(&common::engine(), name, source)
        .limits(limits(deadline_ms))
        .output(pyproc_host::OutputSink::new(move |_| {
            let _ = printed.lock().unwrap().send(()); // nobody may be listening any more
        }))
        .build()
        .unwrap();
    (p, lines)
}

#[test]
fn a_runaway_process_is_stopped_at_its_deadline_and_the_processor_is_restarted() {
    let printed = Printed::default();
    let recording = tempfile::tempdir().unwrap();
    let mut p = builder(test_script("misbehave.py")).limits(limits(200)).recording_root(recording.path()).output(printed.sink()).build().unwrap();
    p.start_acquisition().unwrap();
    p.start_recording(recording.path()).unwrap();
    warm_up(&mut p);
    let started = Instant::now();
    let (result, value) = run_case(&mut p, 1.0);
    let took = started.elapsed();
    let err = result.unwrap_err();
    let Error::DeadlineExceeded { callback, limit, ran_for, .. } = &err else { panic!("{err}") };
    assert_eq!((*callback, *limit), (Callback::Process, Duration::from_millis(200)));
    assert!(*ran_for >= Duration::from_millis(200) && took < Duration::from_secs(2), "ran {ran_for:?}, returned after {took:?}");
    assert!(err.to_string().contains("ran for") && err.to_string().contains("restarts it"), "{err}");
    assert_eq!(value, 1.0, "the block passed through unchanged");
    assert!(matches!(p.status(), Status::Restarting { .. }));
    // The next block restarts the interpreter, with acquisition and recording replayed.
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!(value, 1.0);
    assert_eq!(p.status(), Status::Running);
    assert_eq!(p.stats().restarts, 1);
    let lines = printed.take();
    let dir = "/recordings/0";
    assert_eq!(lines, ["init", "start_acquisition", &format!("start_recording {dir}"), "init", "start_acquisition", &format!("start_recording {dir}")]);
}

#[test]
fn a_callback_blocked_in_a_host_call_past_its_deadline_fails_and_leaves_the_block() {
    let mut p = builder(test_script("misbehave.py")).limits(limits(200)).build().unwrap();
    warm_up(&mut p);
    let (result, value) = run_case(&mut p, 10.0);
    let err = result.unwrap_err();
    let Error::DeadlineExceeded { callback, ran_for, .. } = &err else { panic!("{err}") };
    assert_eq!(*callback, Callback::Process);
    assert!(*ran_for >= Duration::from_millis(500), "the sleep is not cut short: {ran_for:?}");
    assert_eq!(value, 10.0, "the late block is not copied back (the script had added 1)");
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!(value, 1.0);
}

#[test]
fn another_processor_keeps_running_while_one_is_stuck() {
    const STUCK: &str = "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        if data[0, 0] == 1:\n            print('looping')\n            while True:\n                pass\n";
    let (mut stuck, entered) = telling_when_it_prints("stuck.py", STUCK, 1500);
    warm_up(&mut stuck);
    let mut healthy = builder(test_script("misbehave.py")).build().unwrap();
    let (done_healthy, done_stuck) = std::thread::scope(|scope| {
        let a = scope.spawn(move || {
            let _ = run_case(&mut stuck, 1.0);
            Instant::now()
        });
        let b = scope.spawn(move || {
            entered.recv().expect("the stuck script prints before it loops");
            for _ in 0..200 {
                let (result, value) = run_case(&mut healthy, 0.0);
                result.unwrap();
                assert_eq!(value, 1.0);
            }
            Instant::now()
        });
        (b.join().unwrap(), a.join().unwrap())
    });
    assert!(done_healthy < done_stuck, "the healthy processor finished its 200 blocks while the other was stuck");
}

#[test]
fn repeated_failures_back_off_and_end_switched_off_until_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("loop.py");
    std::fs::write(&script, "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        while True:\n            pass\n").unwrap();
    // Every failure here is a new interpreter's first block, which gets the start-up deadline.
    let limits = Limits { max_consecutive_restarts: 2, init_deadline: Duration::from_millis(500), ..limits(50) };
    let mut p = builder(&script).limits(limits).build().unwrap();
    let mut kinds = Vec::new();
    for _ in 0..6 {
        let mut block = array![[7.0f32]];
        let kind = match p.process(block.view_mut(), 0) {
            Err(Error::DeadlineExceeded { .. }) => "deadline",
            Ok(Processed::PassedThrough(PassThrough::Restarting { .. })) => "pause",
            Ok(Processed::PassedThrough(PassThrough::Disabled { .. })) => "off",
            other => panic!("{other:?}"),
        };
        assert_eq!(block[[0, 0]], 7.0, "every block passes through unchanged");
        kinds.push(kind);
    }
    // Failure 1: restart at once. Failure 2: one block of pause. Failure 3: switched off.
    assert_eq!(kinds, ["deadline", "deadline", "pause", "deadline", "off", "off"]);
    assert!(matches!(p.status(), Status::Disabled { reason } if reason.contains("3 consecutive failures")));
    std::fs::write(&script, "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        data += 1\n").unwrap();
    p.reload().unwrap();
    assert_eq!(p.status(), Status::Running);
    let mut block = array![[7.0f32]];
    p.process(block.view_mut(), 0).done();
    assert_eq!(block[[0, 0]], 8.0);
}


#[test]
fn an_init_that_never_returns_is_stopped_by_the_init_deadline() {
    common::engine(); // made before the clock starts: only the init is timed
    let started = Instant::now();
    let err = builder(test_script("slow_init.py"))
        .limits(Limits { init_deadline: Duration::from_millis(2000), ..Limits::default() })
        .build()
        .unwrap_err();
    assert!(matches!(&err, Error::DeadlineExceeded { callback: Callback::Init, .. }), "the hang is __init__'s: {err}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn sys_exit_keyboard_interrupt_and_recursion_are_python_errors_and_the_processor_goes_on() {
    let mut p = builder(test_script("misbehave.py")).build().unwrap();
    for (case, kind) in [(2.0, "SystemExit"), (3.0, "KeyboardInterrupt"), (5.0, "RecursionError")] {
        let (result, value) = run_case(&mut p, case);
        let err = result.unwrap_err();
        assert!(matches!(err.python_exception(), Some(e) if e.type_name == kind), "case {case}: {err}");
        assert_eq!(value, case, "unchanged");
    }
    run_case(&mut p, 0.0).0.unwrap();
    assert_eq!(p.stats().restarts, 0);
}

#[test]
fn os_exit_ends_the_interpreter_which_is_then_replaced() {
    let mut p = builder(test_script("misbehave.py")).build().unwrap();
    let (result, value) = run_case(&mut p, 4.0);
    let err = result.unwrap_err();
    assert!(matches!(&err, Error::InstanceDied { callback: Callback::Process, .. }), "{err}");
    assert_eq!(value, 4.0);
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!(value, 1.0);
    assert_eq!(p.stats().restarts, 1);
}

#[test]
fn printing_past_the_output_cap_is_dropped_and_counted() {
    let printed = Printed::default();
    let mut p = builder(test_script("misbehave.py"))
        .limits(Limits { output_bytes_per_callback: 10_000, ..Limits::default() })
        .output(printed.sink())
        .build()
        .unwrap();
    printed.take();
    run_case(&mut p, 6.0).0.unwrap();
    let lines = printed.take();
    assert_eq!(lines.len(), 11, "10 000 bytes = 9 full lines of 1001, a partial one, and the note");
    assert!(lines[10].contains("more bytes of output dropped"), "{}", lines[10]);
    assert!(p.stats().output_bytes_dropped >= 1_000_000 - 10_000);
}

#[test]
fn events_past_the_cap_are_dropped_and_counted() {
    let mut p = builder(test_script("misbehave.py")).limits(Limits { emitted_per_callback: 20, ..Limits::default() }).build().unwrap();
    let mut block = Array2::from_elem((1, 4), 7.0f32);
    assert_eq!(p.process(block.view_mut(), 0).done().events.len(), 20);
    assert_eq!(p.stats().events_dropped, 30);
}

#[test]
fn allocating_past_the_memory_cap_is_a_memory_error_in_the_script() {
    let mut p = builder(test_script("misbehave.py")).limits(Limits { memory_bytes: 512 << 20, ..Limits::default() }).build().unwrap();
    let (result, value) = run_case(&mut p, 8.0);
    let err = result.unwrap_err();
    assert!(matches!(err.python_exception(), Some(e) if e.type_name == "MemoryError"), "{err}");
    assert_eq!(value, 8.0);
    run_case(&mut p, 0.0).0.unwrap();
    assert_eq!(p.stats().restarts, 0, "no restart needed");
}

#[test]
fn deeply_nested_generators_never_hurt_the_host_and_the_processor_goes_on() {
    let mut p = builder(test_script("misbehave.py")).build().unwrap();
    // CPython 3.15 runs 200 000 nested generators without C recursion; whether it completes,
    // raises or traps, the block and the processor must come through.
    let (result, value) = run_case(&mut p, 9.0);
    match result {
        Ok(()) => assert_eq!(value, 10.0),
        Err(Error::Python { .. } | Error::InstanceDied { .. }) => assert_eq!(value, 9.0),
        Err(other) => panic!("{other}"),
    }
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!(value, 1.0);
}

#[test]
fn a_cancelled_callback_stops_and_the_next_block_restarts_the_interpreter() {
    const LOOPS: &str = "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        if data[0, 0] == 1:\n            print('looping')\n            while True:\n                pass\n        data += 1\n";
    // A deadline far beyond the test's life: only the cancel can end the loop in time.
    let (mut p, entered) = telling_when_it_prints("loops.py", LOOPS, 60_000);
    let cancel = p.cancel_handle();
    let canceller = std::thread::spawn(move || {
        entered.recv().unwrap();
        cancel.cancel();
    });
    let (result, value) = run_case(&mut p, 1.0);
    canceller.join().unwrap();
    let err = result.unwrap_err();
    assert!(matches!(&err, Error::Cancelled { callback: Callback::Process, .. }), "{err}");
    assert_eq!(value, 1.0, "the block passed through unchanged");
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!((value, p.stats().restarts), (1.0, 1));
}

#[test]
fn a_new_interpreters_first_block_gets_the_start_up_deadline_and_later_blocks_the_callback_deadline() {
    // The first block allocates (here: sleeps 0.6 s), as scripts that size their buffers on
    // the first data do; a block marked 1 is slow every time.
    const SLOW_FIRST: &str = "import time\n\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        self.blocks = 0\n    def process(self, data):\n        self.blocks += 1\n        if self.blocks == 1 or data[0, 0] == 1:\n            time.sleep(0.6)\n        data += 1\n";
    let limits = Limits { callback_deadline: Duration::from_millis(200), init_deadline: Duration::from_secs(20), ..Limits::default() };
    let mut p = Processor::builder_for_source(&common::engine(), "slow_first.py", SLOW_FIRST).limits(limits).build().unwrap();
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!((value, p.stats().restarts), (1.0, 0), "the first block ran to its end");
    let (result, value) = run_case(&mut p, 1.0);
    let err = result.unwrap_err();
    assert!(matches!(&err, Error::DeadlineExceeded { callback: Callback::Process, limit, .. } if *limit == Duration::from_millis(200)), "{err}");
    assert_eq!(value, 1.0, "the slow block passed through unchanged");
    // The restarted interpreter's first block is a first block again.
    let (result, value) = run_case(&mut p, 0.0);
    result.unwrap();
    assert_eq!((value, p.stats().restarts), (1.0, 1));
    let (result, _) = run_case(&mut p, 1.0);
    assert!(matches!(result, Err(Error::DeadlineExceeded { .. })), "later blocks are cut again");
}

#[test]
fn the_block_deadline_holds_process_and_leaves_the_control_callbacks_theirs() {
    let recordings = tempfile::tempdir().unwrap();
    let limits = Limits { block_deadline: Some(Duration::from_millis(40)), ..Limits::default() };
    let mut p = builder(test_script("busy_everywhere.py")).recording_root(recordings.path()).limits(limits).build().unwrap();
    let mut block = ndarray::Array2::<f32>::zeros((1, 64));
    // The first block has the start-up deadline (buffers are allocated there).
    p.process(block.view_mut(), 0).done();
    p.start_recording(recordings.path().join("r")).unwrap();
    p.stop_recording().expect("100 ms is inside the 1 s callback deadline");
    let err = p.process(block.view_mut(), 64).unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { callback: Callback::Process, .. }), "{err}");
    p.set_block_deadline(None);
    p.process(block.view_mut(), 128).unwrap(); // the restart's first block
    p.process(block.view_mut(), 192).expect("without a block deadline, process has the callback's 1 s");
}
