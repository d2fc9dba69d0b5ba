//! The real-time contract, with a thread calling `process` as an audio thread does: control
//! calls run between two blocks and no block skips the script for them; a stopped
//! interpreter is replaced without the real-time thread starting one; the UI's readers
//! never wait for a block or a control call.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::*;
use crate::allocation_count::{allocations_in, frees_in};
use crate::engine_handle::engine_new;
use super::tests::options;

/// How long a test waits for something that should come (wall time, generous: the machine
/// may be busy); it never asserts on speed.
const PATIENCE: Duration = Duration::from_secs(120);


fn script(name: &str) -> String {
    format!("{}/tests/scripts/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// An empty folder of this test's own under the system's temporary folder.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pyproc-shim-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One block of `value` in every sample, processed in place; the status and the samples.
fn block(handle: &ProcessorHandle, data: &mut [Vec<f32>], first: i64, value: f32) -> (Status, u64) {
    let (result, allocated) = block_result(handle, data, first, value);
    (result.status, allocated)
}

/// What `process` said of a block of `value`s, and the allocations it made.
fn block_result(handle: &ProcessorHandle, data: &mut [Vec<f32>], first: i64, value: f32) -> (ProcessResult, u64) {
    for channel in data.iter_mut() {
        channel.fill(value);
    }
    let channels: Vec<usize> = data.iter_mut().map(|c| c.as_mut_ptr() as usize).collect();
    let samples = data[0].len();
    allocations_in(|| unsafe { handle.process(&channels, samples, first, &mut [], &mut []) })
}

/// Every sample of the block has one value: the block ran entirely before or entirely after
/// a control call.
fn uniform(data: &[Vec<f32>]) -> Option<f32> {
    let first = data[0][0];
    data.iter().flatten().all(|&x| x == first).then_some(first)
}

#[test]
fn slow_recording_calls_and_a_reload_run_between_blocks_and_every_block_reaches_the_script() {
    let engine = engine_new("").expect("the interpreter is prepared");
    let root = folder("slow-recording");
    let session = root.join("session");
    std::fs::create_dir_all(&session).unwrap();
    let options = ProcessorOptions { recording_root: root.to_str().unwrap().to_owned(), ..options() };
    let handle = unsafe { processor_load(&engine, &script("slow_recording.py"), 2, 30_000.0, &options, std::ptr::null()) }.expect("the script loads");
    let blocks = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let more_blocks = |n: u64| {
        let target = blocks.load(Ordering::SeqCst) + n;
        wait_until("blocks", || blocks.load(Ordering::SeqCst) >= target);
    };

    let outputs = std::thread::scope(|scope| {
        let audio = scope.spawn(|| {
            let mut data = vec![vec![0.0f32; 64]; 2];
            let mut outputs = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let first = outputs.len() as i64 * 64;
                let (result, _) = block_result(&handle, &mut data, first, 1.0);
                outputs.push((result.status, uniform(&data), result.control_us));
                blocks.fetch_add(1, Ordering::SeqCst);
            }
            outputs
        });
        more_blocks(5);
        assert_eq!(handle.start_recording(session.to_str().unwrap()), Status::Ok);
        more_blocks(5);
        // The old interpreter stops recording before the new one starts.
        assert_eq!(handle.reload(), Status::Ok);
        more_blocks(5);
        assert_eq!(handle.stop_recording(), Status::Ok);
        more_blocks(5);
        stop.store(true, Ordering::SeqCst);
        audio.join().unwrap()
    });

    assert!(outputs.iter().all(|(status, ..)| *status == Status::Ok), "every block processed: {:?}", outputs.iter().find(|(s, ..)| *s != Status::Ok));
    let values: Vec<f32> = outputs.iter().map(|(_, v, _)| v.expect("no block ran half before, half after a control call")).collect();
    // start_recording and stop_recording each busy-wait 50 ms; the reload's swap runs the
    // old interpreter's stop_recording and the new one's start_recording: three blocks
    // waited for a control call, and each says so (the script's process takes far less).
    let waited: Vec<u64> = outputs.iter().map(|(.., control_us)| *control_us).filter(|us| *us >= 45_000).collect();
    assert_eq!(waited.len(), 3, "blocks that ran a control call first: {waited:?}");
    assert!(waited.iter().any(|us| *us >= 95_000), "the reload's swap ran two recording calls: {waited:?}");
    assert!(values.iter().all(|v| *v == 2.0 || *v == 1002.0), "the gain, plus 1000 while recording");
    let changes = values.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!((values[0], changes, values[values.len() - 1]), (2.0, 2, 2.0), "recording started once and stopped once, between blocks");
    assert_eq!(std::fs::read_to_string(session.join("log.txt")).unwrap(), "start\nstop\nstart\nstop\n");
    assert_eq!(handle.pass_through_counts(), PassThroughCounts::default());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_hung_block_is_replaced_by_the_spare_at_the_next_block_and_freed_off_the_real_time_thread() {
    spare_replaces_hung_block(1);
}

#[test]
fn with_shards_the_spare_replaces_every_group_at_the_next_block() {
    spare_replaces_hung_block(2);
}

/// `blocks_before` blocks of 256 samples that end where the hanging block starts (see
/// hang_once.py), each multiplied by `gain`, then the hanging block; its status.
fn run_to_hang(handle: &ProcessorHandle, data: &mut [Vec<f32>], blocks_before: i64, gain: f32) -> Status {
    for i in 0..blocks_before {
        assert_eq!(block(handle, data, 768 - (blocks_before - i) * 256, 1.0).0, Status::Ok);
        assert_eq!(uniform(data), Some(gain));
    }
    let ((status, frees), _) = allocations_in(|| frees_in(|| block(handle, data, 768, 1.0).0));
    assert_eq!(uniform(data), Some(1.0), "the hung block passed through");
    // Freeing an interpreter's store is a hundred frees and more; the failed block itself
    // makes a couple.
    assert!(frees < 20, "the stopped interpreter was freed on the real-time thread ({frees} frees)");
    status
}

fn spare_replaces_hung_block(shards: u32) {
    let engine = engine_new("").expect("the interpreter is prepared");
    let root = folder(&format!("spare-{shards}"));
    let session = root.join("session");
    std::fs::create_dir_all(&session).unwrap();
    let options = ProcessorOptions { callback_deadline_ms: 50, shards, recording_root: root.to_str().unwrap().to_owned(), ..options() };
    let handle = unsafe { processor_load(&engine, &script("hang_once_recording.py"), 2, 30_000.0, &options, std::ptr::null()) }.expect("the script loads");
    assert_eq!(handle.num_shards(), shards);
    let mut data = vec![vec![0.0f32; 256]; 2];
    assert_eq!(handle.start_acquisition(), Status::Ok);
    assert_eq!(handle.start_recording(session.to_str().unwrap()), Status::Ok);
    for round in 1..=2 {
        wait_until("the spare", || handle.spare_ready());
        assert_eq!(run_to_hang(&handle, &mut data, 3, 1002.0), Status::DeadlineExceeded);
        // The next block goes to the spare, which joined the acquisition and the recording.
        assert_eq!(block(&handle, &mut data, 1024, 1.0).0, Status::Ok, "round {round}");
        assert_eq!(uniform(&data), Some(1002.0), "the spare processes the block after the hung one, acquiring and recording");
        assert_eq!(handle.status_text(), "running");
        let counts = handle.pass_through_counts();
        assert_eq!((counts.deadline_exceeded, counts.restarting), (round, 0), "only the hung blocks passed through");
    }
    assert_eq!(handle.stop_recording(), Status::Ok);
    assert_eq!(handle.num_shards(), shards);
    // Each shard of the first interpreters and of the two spares started recording; only
    // the last ones stopped (the others were stopped mid-block).
    let log = std::fs::read_to_string(session.join("log.txt")).unwrap();
    let expected = "start\n".repeat(3 * shards as usize) + &"stop\n".repeat(shards as usize);
    assert_eq!(log, expected);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_spare_built_for_the_old_stream_is_not_put_in() {
    let engine = engine_new("").expect("the interpreter is prepared");
    let options = ProcessorOptions { callback_deadline_ms: 50, ..options() };
    let handle = unsafe { processor_load(&engine, &script("hang_once.py"), 2, 30_000.0, &options, std::ptr::null()) }.expect("the script loads");
    wait_until("the spare", || handle.spare_ready());
    assert_eq!(handle.set_stream(3, 30_000.0), Status::Ok);
    let mut data = vec![vec![0.0f32; 256]; 3];
    // This block finds the spare built for two channels and throws it away.
    assert_eq!(block(&handle, &mut data, 0, 1.0).0, Status::Ok);
    wait_until("the spare for three channels", || handle.spare_ready());
    assert_eq!(run_to_hang(&handle, &mut data, 2, 2.0), Status::DeadlineExceeded);
    assert_eq!(block(&handle, &mut data, 1024, 1.0).0, Status::Ok);
    assert_eq!(uniform(&data), Some(2.0), "a spare for three channels went in");
}

#[test]
fn without_a_spare_a_hung_block_is_replaced_off_the_real_time_thread_which_passes_blocks_through_without_allocating() {
    hung_block_is_replaced(1);
}

#[test]
fn without_a_spare_with_shards_the_hung_groups_are_replaced_off_the_real_time_thread_too() {
    hung_block_is_replaced(2);
}

fn hung_block_is_replaced(shards: u32) {
    let engine = engine_new("").expect("the interpreter is prepared");
    let options = ProcessorOptions { callback_deadline_ms: 50, shards, spare_interpreter: false, ..options() };
    let handle = unsafe { processor_load(&engine, &script("hang_once.py"), 2, 30_000.0, &options, std::ptr::null()) }.expect("the script loads");
    assert_eq!(handle.num_shards(), shards);
    let mut data = vec![vec![0.0f32; 256]; 2];
    assert_eq!(run_to_hang(&handle, &mut data, 3, 2.0), Status::DeadlineExceeded);

    let start = Instant::now();
    let mut restarting = 0;
    for i in 4.. {
        assert!(start.elapsed() < PATIENCE, "the interpreter was not replaced");
        let (status, allocated) = block(&handle, &mut data, i * 256, 1.0);
        match status {
            Status::Restarting => {
                assert_eq!(allocated, 0, "a block passing through during the replacement allocates nothing");
                assert_eq!(uniform(&data), Some(1.0));
                restarting += 1;
                // Pacing only: the replacement thread shares the cores.
                std::thread::sleep(Duration::from_millis(1));
            }
            Status::Ok => {
                assert_eq!(uniform(&data), Some(2.0), "the fresh interpreter processes the block");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(restarting >= 1, "the block after the failure passed through: no interpreter was started on this thread");
    assert_eq!(handle.status_text(), "running");
    assert_eq!(handle.num_shards(), shards);
    let counts = handle.pass_through_counts();
    assert_eq!((counts.deadline_exceeded, counts.restarting), (1, restarting));
}

#[test]
fn a_reload_during_the_back_off_puts_a_running_script_in() {
    let engine = engine_new("").expect("the interpreter is prepared");
    // A fresh interpreter's first block gets the start-up deadline: short here.
    let options = ProcessorOptions { callback_deadline_ms: 50, init_deadline_ms: 500, ..options() };
    let handle = unsafe { processor_load(&engine, &script("hang_between.py"), 2, 30_000.0, &options, std::ptr::null()) }.expect("the script loads");
    let mut data = vec![vec![0.0f32; 256]; 2];
    for i in 0..3 {
        assert_eq!(block(&handle, &mut data, i * 256, 1.0).0, Status::Ok);
    }
    assert_eq!(block(&handle, &mut data, 3 * 256, 1.0).0, Status::DeadlineExceeded);
    // The replacement's first block hangs too: a second failure in a row.
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < PATIENCE, "the interpreter was not replaced");
        match block(&handle, &mut data, 1024, 1.0).0 {
            Status::Restarting => std::thread::sleep(Duration::from_millis(1)),
            Status::DeadlineExceeded => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(handle.status_text(), "restarting after failure 2 (in 1 blocks)", "the replacement carried the first failure on");
    assert_eq!(handle.reload(), Status::Ok);
    assert_eq!(handle.status_text(), "running");
    assert_eq!(block(&handle, &mut data, 4096, 1.0).0, Status::Ok);
    assert_eq!(uniform(&data), Some(2.0));
}

/// A script whose marked block, and whose `stop_acquisition`, wait for a file the test
/// creates: the test knows the call is running while it reads.
fn waiting_script(dir: &Path) -> PathBuf {
    let io = dir.join("io");
    std::fs::create_dir_all(&io).unwrap();
    let source = format!(
        r#"import os
IO = {io:?}


def wait(name):
    open(os.path.join(IO, name + ".started"), "w").close()
    while not os.path.exists(os.path.join(IO, name + ".go")):
        pass


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        if data[0, 0] == 7.0:
            wait("block")
        data *= 2.0

    def stop_acquisition(self):
        wait("stop")
"#,
        io = io.to_str().unwrap()
    );
    let path = dir.join("waiting.py");
    std::fs::write(&path, source).unwrap();
    path
}

#[test]
fn the_readers_answer_while_a_block_and_while_a_control_call_run() {
    let engine = engine_new("").expect("the interpreter is prepared");
    let dir = folder("readers");
    let script = waiting_script(&dir);
    let io = dir.join("io");
    // A reader that waited for the call would make it run into this deadline.
    let options = ProcessorOptions { callback_deadline_ms: 20_000, allow_write: vec![io.to_str().unwrap().to_owned()], ..options() };
    let handle = unsafe { processor_load(&engine, script.to_str().unwrap(), 2, 30_000.0, &options, std::ptr::null()) }.expect("the script loads");
    let read_all = || (handle.status_text(), handle.last_error().sequence, handle.num_shards(), handle.denials().count, handle.pass_through_counts());

    std::thread::scope(|scope| {
        let audio = scope.spawn(|| {
            let mut data = vec![vec![0.0f32; 64]; 2];
            block(&handle, &mut data, 0, 7.0).0
        });
        wait_until("the block to start", || io.join("block.started").exists());
        let read = read_all();
        std::fs::write(io.join("block.go"), "").unwrap();
        assert_eq!(audio.join().unwrap(), Status::Ok, "the block ended normally, after the readers had answered");
        assert_eq!(read, ("running".to_owned(), 0, 1, 0, PassThroughCounts::default()));

        let control = scope.spawn(|| handle.stop_acquisition());
        wait_until("stop_acquisition to start", || io.join("stop.started").exists());
        let read = read_all();
        std::fs::write(io.join("stop.go"), "").unwrap();
        assert_eq!(control.join().unwrap(), Status::Ok, "stop_acquisition ended normally, after the readers had answered");
        assert_eq!(read.0, "running");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
