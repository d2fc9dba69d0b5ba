//! A processor's printed lines, carried off the thread that runs its interpreter (the
//! host's real-time thread, for `process`) to a thread of the handle's own, which hands them
//! to the host's callback one at a time. The printing thread copies the line into a buffer
//! allocated once and never waits: lines that do not fit (a callback that falls behind) are
//! dropped and counted.
//!
//! Two buffers of [`CAPACITY`] bytes: printers append to the front one under its lock;
//! the relay's thread swaps it for the empty back one (holding the lock for that swap
//! only) and calls the callback for each line in it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use pyproc_host::{OutputSink, OutputStream};

use crate::ffi::OutputTarget;
use crate::locks::{lock, try_lock};

/// Bytes of lines waiting for the callback: four callbacks' worth of output at the
/// default limit (64 KiB per callback).
const CAPACITY: usize = 256 * 1024;
/// A line's record: its kind, the lengths of instance and text (u32, little-endian), then
/// their bytes.
const HEADER: usize = 9;
/// How often a printer tries the front buffer's lock before it drops its line: the lock is
/// held only while another printer copies a line in or the relay swaps the buffers.
const TRIES: u32 = 10_000;
/// How long the relay sleeps when nobody wakes it (a printer wakes it after each line).
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// `OutputKind` codes (`pyproc/output.h`).
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
pub const NOTE: u8 = 3;

pub struct OutputRelay {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    /// Lines queued for the relay, as records (see [`HEADER`]); never grown past
    /// [`CAPACITY`].
    front: Mutex<Vec<u8>>,
    open: AtomicBool,
    dropped: AtomicU64,
    relay: OnceLock<Thread>,
}

/// The C++ callback object; the C++ `Processor` keeps it alive until the relay has stopped.
struct Target(*const OutputTarget);
// SAFETY: only the relay's thread calls it, and the C++ side outlives that thread (the
// handle, which joins it, is destroyed first).
unsafe impl Send for Target {}

impl OutputRelay {
    /// Starts the thread that calls `target` (not null).
    pub fn start(target: *const OutputTarget) -> std::io::Result<OutputRelay> {
        let shared = Arc::new(Shared {
            front: Mutex::new(Vec::with_capacity(CAPACITY)),
            open: AtomicBool::new(true),
            dropped: AtomicU64::new(0),
            relay: OnceLock::new(),
        });
        let target = Target(target);
        let thread = std::thread::Builder::new().name("pyproc-output".into()).spawn({
            let shared = shared.clone();
            move || serve(&target, &shared)
        })?;
        let _ = shared.relay.set(thread.thread().clone());
        Ok(OutputRelay { shared, thread: Some(thread) })
    }

    /// The sink a processor prints into: it queues without waiting or allocating, on any
    /// thread.
    pub fn sink(&self) -> OutputSink {
        let shared = self.shared.clone();
        OutputSink::new(move |line| {
            let kind = match line.stream {
                OutputStream::Stdout => STDOUT,
                OutputStream::Stderr => STDERR,
            };
            shared.send(kind, line.instance, line.text);
        })
    }

    /// One of pyproc's own notes about the processor.
    pub fn note(&self, instance: &str, text: &str) {
        self.shared.send(NOTE, instance, text);
    }
}

impl Shared {
    fn send(&self, kind: u8, instance: &str, text: &str) {
        if !self.open.load(Ordering::Acquire) {
            return;
        }
        for _ in 0..TRIES {
            let Some(mut front) = try_lock(&self.front) else {
                std::hint::spin_loop();
                continue;
            };
            if !append(&mut front, kind, instance, text) {
                break;
            }
            drop(front);
            if let Some(relay) = self.relay.get() {
                relay.unpark();
            }
            return;
        }
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Appends the line's record within the buffer's capacity; false when it does not fit.
fn append(buffer: &mut Vec<u8>, kind: u8, instance: &str, text: &str) -> bool {
    let (Ok(instance_len), Ok(text_len)) = (u32::try_from(instance.len()), u32::try_from(text.len())) else {
        return false;
    };
    if buffer.capacity() - buffer.len() < HEADER + instance.len() + text.len() {
        return false;
    }
    buffer.push(kind);
    buffer.extend_from_slice(&instance_len.to_le_bytes());
    buffer.extend_from_slice(&text_len.to_le_bytes());
    buffer.extend_from_slice(instance.as_bytes());
    buffer.extend_from_slice(text.as_bytes());
    true
}

/// The records in `buffer`, in the order they were queued.
fn records(buffer: &[u8]) -> impl Iterator<Item = (u8, &str, &str)> {
    let mut rest = buffer;
    std::iter::from_fn(move || {
        let (header, tail) = rest.split_first_chunk::<HEADER>()?;
        let instance_len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let text_len = u32::from_le_bytes([header[5], header[6], header[7], header[8]]) as usize;
        let (instance, tail) = tail.split_at(instance_len);
        let (text, tail) = tail.split_at(text_len);
        rest = tail;
        // Copied in from `&str`s whole, so valid UTF-8.
        Some((header[0], std::str::from_utf8(instance).unwrap_or(""), std::str::from_utf8(text).unwrap_or("")))
    })
}

fn serve(target: &Target, shared: &Shared) {
    // SAFETY: see `Target`.
    let target = unsafe { &*target.0 };
    let mut back = Vec::with_capacity(CAPACITY);
    let mut said = 0;
    // The instance of the last line passed on, for the note about dropped ones.
    let mut instance_seen = String::new();
    while shared.open.load(Ordering::Acquire) {
        std::mem::swap(&mut *lock(&shared.front), &mut back);
        if back.is_empty() {
            std::thread::park_timeout(IDLE_WAIT);
            continue;
        }
        for (kind, instance, text) in records(&back) {
            if !shared.open.load(Ordering::Acquire) {
                return;
            }
            target.line(kind, instance, text);
            instance_seen.clear();
            instance_seen.push_str(instance);
        }
        back.clear();
        let now = shared.dropped.load(Ordering::Relaxed);
        if now > said {
            target.line(NOTE, &instance_seen, &format!("{} lines of output were dropped: the output callback fell behind", now - said));
            said = now;
        }
    }
}

impl Drop for OutputRelay {
    /// Stops the thread: no call to the callback happens after this returns.
    fn drop(&mut self) {
        self.shared.open.store(false, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation_count::allocations_in;

    #[test]
    fn records_come_back_as_they_were_appended() {
        let mut buffer = Vec::with_capacity(64);
        assert!(append(&mut buffer, STDOUT, "a", "first line"));
        assert!(append(&mut buffer, STDERR, "b", ""));
        assert_eq!(records(&buffer).collect::<Vec<_>>(), vec![(STDOUT, "a", "first line"), (STDERR, "b", "")]);
    }

    #[test]
    fn a_line_that_does_not_fit_is_refused_and_the_buffer_never_grows() {
        let mut buffer = Vec::with_capacity(32);
        assert!(append(&mut buffer, STDOUT, "a", "0123456789"));
        assert!(!append(&mut buffer, STDOUT, "a", "0123456789"), "20 + 20 bytes exceed 32");
        assert_eq!(buffer.capacity(), 32);
        assert_eq!(records(&buffer).count(), 1);
    }

    #[test]
    fn queueing_a_line_allocates_nothing() {
        let shared = Shared { front: Mutex::new(Vec::with_capacity(CAPACITY)), open: AtomicBool::new(true), dropped: AtomicU64::new(0), relay: OnceLock::new() };
        let ((), allocated) = allocations_in(|| {
            for i in 0..100 {
                shared.send(STDOUT, "printer", if i % 2 == 0 { "a line" } else { "another, longer line of output" });
            }
        });
        assert_eq!(allocated, 0);
        assert_eq!(records(&lock(&shared.front)).count(), 100);
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 0);
    }
}
