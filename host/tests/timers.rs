//! `threading.Timer` runs its function on the processor's own thread, between callbacks,
//! on the stream's clock (samples delivered to `process` / sample rate); starting any other
//! thread is refused clearly.

mod common;

use common::{engine, Done, Printed};
use ndarray::Array2;
use pyproc_host::{Processor, TtlEvent};

/// A processor of `source` on one channel at 1000 samples per second.
fn processor(name: &str, source: &str, printed: &Printed) -> Processor {
    Processor::builder_for_source(&engine(), name, source).stream(1, 1000.0).output(printed.sink()).build().unwrap()
}

/// Runs blocks of `len` samples from sample `first`; returns each block's events.
fn blocks(p: &mut Processor, first: i64, len: usize, count: usize) -> Vec<Vec<TtlEvent>> {
    (0..count)
        .map(|i| {
            let mut block = Array2::<f32>::zeros((1, len));
            p.process(block.view_mut(), first + (i * len) as i64).done().events.to_vec()
        })
        .collect()
}

const ONE_SHOT: &str = r#"
import threading

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.timer = threading.Timer(0.25, self.fire, args=(5,), kwargs={"state": True})
        self.timer.start()

    def fire(self, line, state):
        print("fired; alive:", self.timer.is_alive(), "first sample:", self.processor.first_sample_number)
        self.processor.add_python_event(line, state)

    def process(self, data):
        pass
"#;

#[test]
fn a_timer_runs_after_the_block_that_brings_the_stream_clock_to_its_interval() {
    let printed = Printed::default();
    let mut p = processor("one_shot.py", ONE_SHOT, &printed);
    // 0.25 s at 1000 Hz is 250 samples: the third block of 100 reaches it, and the event
    // goes out with that block, at its first sample.
    let events = blocks(&mut p, 7000, 100, 5);
    let expected: Vec<Vec<TtlEvent>> = vec![vec![], vec![], vec![TtlEvent { sample_number: 7200, line: 5, state: true }], vec![], vec![]];
    assert_eq!(events, expected);
    assert_eq!(printed.take(), ["fired; alive: True first sample: 7200"]);
}

const PERIODIC: &str = r#"
import threading

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.fired = 0
        self.arm()

    def arm(self):
        self.timer = threading.Timer(0.1, self.tick)
        self.timer.start()

    def tick(self):
        self.fired += 1
        self.processor.add_python_event(self.fired, True)
        self.arm()

    def process(self, data):
        pass
"#;

#[test]
fn a_timer_that_rearms_itself_keeps_its_period_on_the_stream_clock() {
    let printed = Printed::default();
    let mut p = processor("periodic.py", PERIODIC, &printed);
    // Every 100 samples; blocks of 250: due at 100, 200 | 300, 400, 500 | 600, 700 | 800, 900, 1000.
    let lines: Vec<Vec<u8>> = blocks(&mut p, 0, 250, 4).iter().map(|events| events.iter().map(|e| e.line).collect()).collect();
    assert_eq!(lines, [vec![1, 2], vec![3, 4, 5], vec![6, 7], vec![8, 9, 10]]);
}

const LIFECYCLE: &str = r#"
import threading

def noop():
    print("the cancelled timer ran")

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        t = threading.Timer(0.01, noop)
        print("before start:", t.is_alive(), isinstance(t, threading.Thread), t.daemon, t.name.startswith("Thread-"))
        t.daemon = True
        t.start()
        print("started:", t.is_alive(), repr(t).endswith("started daemon)>"))
        try:
            t.start()
        except RuntimeError as e:
            print("second start:", e)
        try:
            t.daemon = False
        except RuntimeError as e:
            print("daemon after start:", e)
        t.join()  # returns at once
        t.join(5)
        t.cancel()
        print("cancelled:", t.is_alive(), t.finished.is_set())
        self.waiting = threading.Timer(1000, noop)
        self.waiting.start()
        self.waiting.join()
        print("join did not wait:", self.waiting.is_alive())

    def process(self, data):
        pass
"#;

#[test]
fn start_cancel_is_alive_join_daemon_and_name_behave_as_in_python_and_join_never_waits() {
    let printed = Printed::default();
    let mut p = processor("lifecycle.py", LIFECYCLE, &printed);
    assert!(blocks(&mut p, 0, 100, 2).iter().all(Vec::is_empty));
    assert_eq!(
        printed.take(),
        [
            "before start: False True False True",
            "started: True True",
            "second start: threads can only be started once",
            "daemon after start: cannot set daemon status of active thread",
            "cancelled: False True",
            "join did not wait: True",
        ]
    );
}

const RAISES: &str = r#"
import threading

def broken():
    raise ValueError("timer broke")

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        threading.Timer(0.05, broken).start()

    def process(self, data):
        data += 1
"#;

#[test]
fn a_timer_that_raises_is_reported_like_a_thread_and_the_block_goes_through() {
    let printed = Printed::default();
    let mut p = processor("raises.py", RAISES, &printed);
    let mut block = Array2::<f32>::zeros((1, 100));
    p.process(block.view_mut(), 0).done();
    assert_eq!(block[[0, 0]], 1.0, "the block was processed");
    let said = printed.take().join("\n");
    assert!(said.starts_with("Exception in thread Thread-"), "{said}");
    assert!(said.contains("File \"raises.py\", line 5, in broken") && said.ends_with("ValueError: timer broke"), "{said}");
    assert!(!said.contains("<pyproc>"), "pyproc's own frames are left out: {said}");
    p.process(block.view_mut(), 100).done();
    assert_eq!(p.stats().restarts, 0);
}

const THREADS: &str = r#"
import threading

class Worker(threading.Thread):
    def run(self):
        pass

class RepeatTimer(threading.Timer):
    def run(self):
        while not self.finished.wait(self.interval):
            self.function(*self.args, **self.kwargs)

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        case = int(data[0, 0])
        if case == 0:
            threading.Thread(target=print, name="reader").start()
        elif case == 1:
            Worker().start()
        else:
            RepeatTimer(1.0, print).start()
"#;

#[test]
fn starting_a_thread_raises_a_runtime_error_that_says_what_to_use_instead() {
    let printed = Printed::default();
    let mut p = processor("threads.py", THREADS, &printed);
    let expected = [
        ("name=\"reader\"", "threads are not available in pyproc's sandbox: <Thread(reader, initial)> cannot start. Use a threading.Timer instead"),
        ("Worker().start()", "threads are not available in pyproc's sandbox: <Worker(Thread-"),
        ("RepeatTimer(1.0", "RepeatTimer overrides run(): pyproc runs a timer's function on the processor's own thread between callbacks"),
    ];
    for (case, (call, text)) in expected.iter().enumerate() {
        let line = THREADS.lines().position(|l| l.contains(call)).unwrap() as u32 + 1;
        let mut block = Array2::from_elem((1, 10), case as f32);
        let err = p.process(block.view_mut(), 0).unwrap_err();
        let e = err.python_exception().unwrap_or_else(|| panic!("{err}"));
        assert_eq!((e.type_name.as_str(), e.line), ("RuntimeError", Some(line)), "{}", e.summary());
        assert!(e.message.starts_with(text), "case {case}: {}", e.message);
    }
    assert!(printed.take().is_empty());
}

const RELOADED: &str = r#"
import threading

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        threading.Timer(0.15, self.fire).start()

    def fire(self):
        self.processor.add_python_event(LINE, True)

    def process(self, data):
        pass
"#;

#[test]
fn a_new_pyprocessor_cancels_the_timers_started_before_it_and_a_failed_one_keeps_them() {
    let printed = Printed::default();
    let mut p = processor("reloaded.py", &RELOADED.replace("LINE", "1"), &printed);
    blocks(&mut p, 0, 100, 1);
    // The reloaded script's timer starts at 100 samples; the first one, due at 150, is gone.
    p.reload_from_source(RELOADED.replace("LINE", "2")).unwrap();
    let fired: Vec<Vec<u8>> = blocks(&mut p, 100, 100, 3).iter().map(|e| e.iter().map(|e| e.line).collect()).collect();
    assert_eq!(fired, [vec![], vec![2], vec![]]);
    // A script that fails to construct leaves the running one's timers alone.
    p.reload_from_source(RELOADED.replace("LINE", "3")).unwrap();
    let broken = RELOADED.replace("LINE", "4").replace(".start()\n", ".start()\n        raise ValueError('no')\n");
    assert!(p.reload_from_source(broken).is_err());
    // Started at 400, due at 550: it fires after the block that ends at 600.
    let fired: Vec<Vec<u8>> = blocks(&mut p, 400, 100, 3).iter().map(|e| e.iter().map(|e| e.line).collect()).collect();
    assert_eq!(fired, [vec![], vec![3], vec![]]);
}

const DIES: &str = r#"
import os
import threading

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        if data[0, 0] == 1:
            threading.Timer(0.15, self.processor.add_python_event, args=(9, True)).start()
        elif data[0, 0] == 2:
            os._exit(1)
"#;

#[test]
fn timers_die_with_their_interpreter() {
    let printed = Printed::default();
    let mut p = processor("dies.py", DIES, &printed);
    let mut block = Array2::from_elem((1, 100), 1.0f32);
    p.process(block.view_mut(), 0).done();
    block.fill(2.0);
    assert!(p.process(block.view_mut(), 100).is_err(), "the interpreter ended");
    // The restarted interpreter never saw the timer (it would have been due at 250).
    block.fill(0.0);
    for first in [200, 300, 400] {
        assert!(p.process(block.view_mut(), first).done().events.is_empty());
    }
    assert_eq!(p.stats().restarts, 1);
}
