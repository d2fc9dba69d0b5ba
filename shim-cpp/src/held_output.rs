//! [`HeldOutput`]: what a spare interpreter prints, held until it goes in. The spare's
//! `__init__` runs before anything has failed; its lines belong to the moment it takes
//! over, and a spare that never goes in printed nothing anyone sees.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyproc_host::{OutputLine, OutputSink, OutputStream};

use crate::locks::{lock, try_lock};

/// Lines held at most; later ones are dropped (a constructor rarely prints more).
const MAX_HELD_LINES: usize = 256;

pub struct HeldOutput {
    held: AtomicBool,
    lines: Mutex<Vec<HeldLine>>,
    /// Where the lines go once the spare is in.
    sink: OutputSink,
}

struct HeldLine {
    instance: String,
    stream: OutputStream,
    text: String,
}

impl HeldOutput {
    pub fn new(sink: OutputSink) -> Arc<HeldOutput> {
        Arc::new(HeldOutput { held: AtomicBool::new(true), lines: Mutex::new(Vec::new()), sink })
    }

    /// The sink the spare prints into.
    pub fn sink(self: &Arc<Self>) -> OutputSink {
        let this = Arc::clone(self);
        OutputSink::new(move |line| {
            if !this.held.load(Ordering::Acquire) {
                return this.sink.send(line);
            }
            // Only the spare's own building thread prints while it is held.
            let mut lines = lock(&this.lines);
            if lines.len() < MAX_HELD_LINES {
                lines.push(HeldLine { instance: line.instance.to_owned(), stream: line.stream, text: line.text.to_owned() });
            }
        })
    }

    /// As the spare goes in (on the real-time thread): the held lines go on, and later ones
    /// go straight through. Allocates nothing: the lines are freed with the spare.
    pub fn release(&self) {
        // Nothing prints into a spare that waits: the lock is free.
        if let Some(lines) = try_lock(&self.lines) {
            for line in lines.iter() {
                self.sink.send(OutputLine::new(&line.instance, line.stream, &line.text));
            }
        }
        self.held.store(false, Ordering::Release);
    }
}
