//! A hostile or broken script against the host: random frames sent through `_host.call` by
//! hand, and garbage written into the runtime's private objects. The host never panics and
//! never touches memory outside the guest's; each misuse is an `OSError` in the script or
//! an error for that block; the processor goes on; the host's memory stays flat.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use common::{builder, test_script, Done};
use ndarray::Array2;
use pyproc_host::{Error, Limits, OutputSink, OutputStream, Processor, TtlEvent};

/// The tests measure the process's resident memory and restart interpreters: one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn rss_bytes() -> usize {
    memory_stats::memory_stats().expect("this platform reports the resident set size").physical_mem
}

/// A normal block through a script that doubles it and emits one event on line 3 (case 0
/// of both scripts).
#[track_caller]
fn assert_still_works(p: &mut Processor, first_sample: i64) {
    let mut block = Array2::from_elem((2, 16), 0.0f32);
    block[[1, 5]] = 4.0;
    let events = p.process(block.view_mut(), first_sample).done().events.to_vec();
    assert_eq!(events, [TtlEvent { sample_number: first_sample, line: 3, state: true }]);
    assert_eq!(block[[1, 5]], 8.0, "the block was processed");
}

/// The script's stdout lines (the last one kept), and a count of the host's notes on
/// stderr about refused frames: counted, not kept, since the test measures memory.
#[derive(Clone, Default)]
struct Output {
    last_stdout: Arc<Mutex<String>>,
    notes: Arc<AtomicUsize>,
}

impl Output {
    fn sink(&self) -> OutputSink {
        let this = self.clone();
        OutputSink::new(move |line| match line.stream {
            // Random LOG frames print random bytes too, maybe just before the count.
            OutputStream::Stdout => {
                if let Some(at) = line.text.rfind("sent ") {
                    line.text[at..].clone_into(&mut this.last_stdout.lock().unwrap());
                }
            }
            OutputStream::Stderr => {
                if line.text.contains("the host refused a frame sent through _host.call") {
                    this.notes.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    }

    /// `sent N refused N answered N other N answers taken N`, as the fuzzer prints it when
    /// asked.
    fn counts(&self, p: &mut Processor) -> [u64; 5] {
        let mut block = Array2::from_elem((2, 16), 2.0f32);
        p.process(block.view_mut(), 0).done();
        let text = self.last_stdout.lock().unwrap().clone();
        let numbers: Vec<u64> = text.split(' ').filter_map(|w| w.parse().ok()).collect();
        numbers.try_into().unwrap_or_else(|_| panic!("the fuzzer printed {text:?}"))
    }
}

/// One round of `frames` random frames from `door_fuzzer.py`, seeded with `seed`.
#[track_caller]
fn fuzz_round(p: &mut Processor, seed: u32, frames: u32) {
    let mut block = Array2::from_elem((2, 16), 5.0f32);
    block[[0, 0]] = 1.0;
    block[[0, 1]] = seed as f32;
    block[[0, 2]] = frames as f32;
    let expected = block.clone();
    if let Err(err) = p.process(block.view_mut(), 0) {
        panic!("round {seed}: the fuzzing block failed: {err}");
    }
    assert_eq!(block, expected, "the fuzzer leaves its block alone");
}

#[test]
fn random_frames_at_the_door_are_refused_in_the_script_and_the_host_stays_flat() {
    let _serial = one_at_a_time();
    let output = Output::default();
    let mut p = builder(test_script("door_fuzzer.py")).stream(2, 30_000.0).output(output.sink()).build().unwrap();
    const FRAMES: u32 = 500;
    // Warm-up: the interpreter's heap, the host's buffers, sockets the frames opened.
    for seed in 0..4 {
        fuzz_round(&mut p, seed, FRAMES);
    }
    let before = rss_bytes();
    for seed in 4..14 {
        fuzz_round(&mut p, seed, FRAMES);
    }
    let grown = rss_bytes().saturating_sub(before);
    let [sent, refused, answered, other, answers_taken] = output.counts(&mut p);
    assert_eq!(sent, 14 * FRAMES as u64);
    assert_eq!(other, 0, "every failure at the door is the refusal's OSError");
    assert_eq!(answers_taken, 0, "no frame the script sent was taken for the answer to a command");
    assert_eq!(refused + answered, sent);
    assert!(refused > sent / 2, "most random frames are refused: {refused} of {sent}");
    let stats = p.stats();
    eprintln!("{sent} frames: {refused} refused, {answered} answered; RSS grew {grown} bytes over the last {}", 10 * FRAMES);
    assert_eq!(stats.frames_refused, refused, "the host counted each refusal the script saw");
    assert_eq!(stats.restarts, 0, "no frame stopped the interpreter");
    assert!(output.notes.load(Ordering::Relaxed) > 0, "the script's stderr says why");
    assert!(grown < 8 << 20, "the host grew by {grown} bytes over {} frames", 10 * FRAMES);
    assert_still_works(&mut p, 1000);
}

/// What a block that wrote garbage into the runtime's private objects comes to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// An exception in the script (the runtime's, naming what it cannot send, when the
    /// script wrote garbage into the lists of what it emitted).
    Python(&'static str),
    /// The host refused the answer: `Error::AnswerRefused`, naming what was wrong.
    Refused(&'static str),
    /// Nothing wrong reaches the host: the block is done with these many events and spikes.
    Done(usize, usize),
    /// Done, but the runtime cannot take the next block: that one stops the interpreter.
    DiesNextBlock,
}

#[test]
fn garbage_in_the_runtimes_private_objects_is_that_blocks_error_and_the_next_block_works() {
    use Expect::*;
    let _serial = one_at_a_time();
    let cases = [
        (1, Python("AttributeError")),
        (2, Python("TypeError")),
        (3, Python("TypeError")),
        (4, Python("TypeError")),
        (5, Python("TypeError")),
        (6, Refused("spike on channel 99, but the stream has 2 channels (0 to 1)")),
        (7, Refused("spike on channel 4294967295")),
        (8, Python("TypeError")),
        (9, Python("TypeError")),
        (10, Done(0, 1)),
        (11, Refused("spike without a waveform at sample 1000000000, outside the block being processed")),
        (12, Python("TypeError")),
        (13, Python("TypeError")),
        (14, Refused("spike on channel 500")),
        (15, Refused("outside the block being processed")),
        (16, DiesNextBlock),
        (17, Python("TypeError")),
        (18, Python("TypeError")),
        (19, Python("TypeError")),
        (20, Done(0, 10_000)),
    ];
    let mut p = builder(test_script("private_garbage.py")).stream(2, 30_000.0).build().unwrap();
    let mut first = 0i64;
    for (case, expect) in cases {
        let mut block = Array2::from_elem((2, 16), 0.5f32);
        block[[0, 0]] = case as f32;
        let untouched = block.clone();
        let restarts = p.stats().restarts;
        let got = match p.process(block.view_mut(), first) {
            Ok(pyproc_host::Processed::Done(_)) if expect == DiesNextBlock => expect,
            Ok(pyproc_host::Processed::Done(emitted)) => Done(emitted.events.len(), emitted.spikes.len()),
            Ok(other) => panic!("case {case}: passed through: {other:?}"),
            Err(Error::Python { exception, .. }) if matches!(expect, Python(t) if t == exception.type_name) => expect,
            Err(Error::AnswerRefused { why, .. }) if matches!(expect, Refused(what) if why.contains(what)) => expect,
            Err(err) => panic!("case {case}: expected {expect:?}, got {err}"),
        };
        assert_eq!(got, expect, "case {case}");
        // Done: the cases change no data; failed: the block is left as it came in.
        assert_eq!(block, untouched, "case {case}");
        first += 16;
        if expect == DiesNextBlock {
            let mut next = Array2::from_elem((2, 16), 0.0f32);
            let err = p.process(next.view_mut(), first).unwrap_err();
            assert!(matches!(err, Error::InstanceDied { .. }), "case {case}: {err}");
            first += 16;
        }
        assert_still_works(&mut p, first);
        let restarted = p.stats().restarts - restarts;
        assert_eq!(restarted, u32::from(expect == DiesNextBlock), "case {case}: only a stopped interpreter is restarted");
        first += 16;
    }
    assert_eq!(p.stats().spikes_dropped, 90_000, "case 20's spikes past the cap were counted");
}

/// `fails_but_echoes.py` on one channel, each callback allowed to emit `cap` events.
fn failing_echoer(cap: usize) -> Processor {
    builder(test_script("fails_but_echoes.py")).stream(1, 30_000.0).limits(Limits { emitted_per_callback: cap, ..Limits::default() }).build().unwrap()
}

#[test]
fn events_waiting_for_a_block_while_process_keeps_failing_are_capped_and_counted() {
    let _serial = one_at_a_time();
    let cap = 10;
    let mut p = failing_echoer(cap);
    let mut failing = Array2::from_elem((1, 8), -1.0f32);
    for round in 0..20 {
        for line in 0..5 {
            p.handle_ttl_event(&pyproc_host::TtlEventIn { source_node: 1, channel: "TTL", sample_number: round, line, state: true }).unwrap();
        }
        // Delivers the 5 queued events first (each handler echoes one), then emits one more.
        p.start_acquisition().unwrap();
        assert!(matches!(p.process(failing.view_mut(), round), Err(Error::Python { .. })));
    }
    // 20 x 6 emitted, while no block succeeded: what waits is capped at 4 callbacks' worth.
    let mut fine = Array2::from_elem((1, 8), 1.0f32);
    let events = p.process(fine.view_mut(), 100).done().events.len();
    assert_eq!(events, 4 * cap);
    assert_eq!(p.stats().events_dropped, 20 * 6 - 4 * cap as u64 + 1, "and the block's own event");
    // The cap is on what waits: the next block gets its own again.
    assert_eq!(p.process(fine.view_mut(), 108).done().events.len(), 1);
}

#[test]
fn events_queued_while_no_block_comes_go_out_as_the_queue_fills_and_what_they_emit_is_capped() {
    let _serial = one_at_a_time();
    let cap = 10;
    let mut p = failing_echoer(cap);
    let queue = |p: &mut Processor, from: i64, n: i64| {
        for sample_number in from..from + n {
            p.handle_ttl_event(&pyproc_host::TtlEventIn { source_node: 1, channel: "TTL", sample_number, line: 2, state: true }).unwrap();
        }
    };
    queue(&mut p, 0, 20_000);
    let before = rss_bytes();
    queue(&mut p, 20_000, 80_000);
    let grown = rss_bytes().saturating_sub(before);
    assert!(grown < 8 << 20, "the host grew by {grown} bytes queueing 80 000 events");
    // Every event was echoed by the handler; 4 callbacks' worth wait for this block, which
    // brings the last queued ones and emits one of its own.
    let mut block = Array2::from_elem((1, 8), 1.0f32);
    assert_eq!(p.process(block.view_mut(), 0).done().events.len(), 4 * cap);
    assert_eq!(p.stats().events_dropped, 100_000 + 1 - 4 * cap as u64);
}

#[test]
fn a_new_pyprocessor_whose_answer_is_refused_is_not_left_running_behind_the_hosts_back() {
    let _serial = one_at_a_time();
    let source = "
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        if num_channels == 3:
            processor._spikes.append((0, 7, 0, None))  # a channel the new stream lacks
    def process(self, data):
        data *= 2
        self.processor.add_python_event(3, True)
";
    let mut p = Processor::builder_for_source(&common::engine(), "refused_init.py", source).stream(2, 30_000.0).build().unwrap();
    let err = p.set_stream(3, 30_000.0).unwrap_err();
    assert!(matches!(&err, Error::InstanceDied { reason, .. } if reason.contains("spike on channel 7")), "{err}");
    // The host kept its stream of 2 channels, and so does the restarted interpreter.
    assert_eq!(p.stream().num_channels, 2);
    assert_still_works(&mut p, 0);
    assert_eq!(p.stats().restarts, 1);
}

#[test]
fn a_script_asking_for_the_next_command_or_a_new_area_itself_is_refused_and_the_block_goes_on() {
    let _serial = one_at_a_time();
    // NEXT mid-command would let the host overwrite the command the runtime is reading; an
    // AREA smaller than a block's header, or outside the guest's memory, could not hold one.
    let source = r#"
import struct, _host
from _pyproc_wire import AREA, NEXT

class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
    def process(self, data):
        refused = 0
        for frame in (bytes([NEXT]), struct.pack("<BBII", AREA, 0, 8, 16), struct.pack("<BBII", AREA, 1, 0xFFFFFF00, 4096)):
            try:
                _host.call(frame)
            except OSError:
                refused += 1
        data *= 2
        self.processor.add_python_event(3, refused == 3)
"#;
    let output = Output::default();
    let mut p = Processor::builder_for_source(&common::engine(), "asks_itself.py", source).stream(2, 30_000.0).output(output.sink()).build().unwrap();
    for round in 0..3 {
        assert_still_works(&mut p, round * 16);
    }
    assert_eq!(p.stats().frames_refused, 9);
    assert_eq!(output.notes.load(Ordering::Relaxed), 9, "each refusal is explained on the script's stderr");
    assert_eq!(p.stats().restarts, 0);
}
