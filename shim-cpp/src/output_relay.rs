//! A processor's printed lines, carried off the thread that runs its interpreter (the
//! host's real-time thread, for `process`) to a thread of the handle's own, which hands them
//! to the host's callback one at a time. Bounded: lines a slow callback cannot take in time
//! are dropped and counted, never waited for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use pyproc_host::{OutputSink, OutputStream};

use crate::ffi::OutputTarget;

/// Lines waiting for the callback.
const QUEUED: usize = 1024;
/// `OutputKind` codes (`pyproc/output.h`).
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
pub const NOTE: u8 = 3;

enum Message {
    Line { kind: u8, instance: String, text: String },
    Stop,
}

pub struct OutputRelay {
    sender: SyncSender<Message>,
    open: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// The C++ callback object; the C++ `Processor` keeps it alive until the relay has stopped.
struct Target(*const OutputTarget);
// SAFETY: only the relay's thread calls it, and the C++ side outlives that thread (the
// handle, which joins it, is destroyed first).
unsafe impl Send for Target {}

impl OutputRelay {
    /// Starts the thread that calls `target` (not null).
    pub fn start(target: *const OutputTarget) -> std::io::Result<OutputRelay> {
        let (sender, receiver) = sync_channel(QUEUED);
        let open = Arc::new(AtomicBool::new(true));
        let dropped = Arc::new(AtomicU64::new(0));
        let target = Target(target);
        let thread = std::thread::Builder::new().name("pyproc-output".into()).spawn({
            let (open, dropped) = (open.clone(), dropped.clone());
            move || serve(&target, &receiver, &open, &dropped)
        })?;
        Ok(OutputRelay { sender, open, dropped, thread: Some(thread) })
    }

    /// The sink a processor prints into: it queues without waiting, on any thread.
    pub fn sink(&self) -> OutputSink {
        let (sender, open, dropped) = (self.sender.clone(), self.open.clone(), self.dropped.clone());
        OutputSink::new(move |line| {
            let kind = match line.stream {
                OutputStream::Stdout => STDOUT,
                OutputStream::Stderr => STDERR,
            };
            send(&sender, &open, &dropped, kind, line.instance, line.text);
        })
    }

    /// One of pyproc's own notes about the processor.
    pub fn note(&self, instance: &str, text: &str) {
        send(&self.sender, &self.open, &self.dropped, NOTE, instance, text);
    }
}

fn send(sender: &SyncSender<Message>, open: &AtomicBool, dropped: &AtomicU64, kind: u8, instance: &str, text: &str) {
    if !open.load(Ordering::Acquire) {
        return;
    }
    let message = Message::Line { kind, instance: instance.to_owned(), text: text.to_owned() };
    if let Err(TrySendError::Full(_)) = sender.try_send(message) {
        dropped.fetch_add(1, Ordering::Relaxed);
    }
}

fn serve(target: &Target, receiver: &Receiver<Message>, open: &AtomicBool, dropped: &AtomicU64) {
    // SAFETY: see `Target`.
    let target = unsafe { &*target.0 };
    let mut said = 0;
    while let Ok(Message::Line { kind, instance, text }) = receiver.recv() {
        if !open.load(Ordering::Acquire) {
            return;
        }
        target.line(kind, &instance, &text);
        let now = dropped.load(Ordering::Relaxed);
        if now > said {
            target.line(NOTE, &instance, &format!("{} lines of output were dropped: the output callback fell behind", now - said));
            said = now;
        }
    }
}

impl Drop for OutputRelay {
    /// Stops the thread: no call to the callback happens after this returns.
    fn drop(&mut self) {
        self.open.store(false, Ordering::Release);
        // The queue may be full of lines nobody will see: the stop must get through anyway.
        while let Err(TrySendError::Full(_)) = self.sender.try_send(Message::Stop) {
            std::thread::yield_now();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
