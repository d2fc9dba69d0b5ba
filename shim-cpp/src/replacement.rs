//! Replacing a stopped interpreter without the real-time thread's help: it only asks
//! (an atomic and a wake-up) and, between two blocks, swaps in what this module's thread
//! built. The thread imports the script and runs `__init__` in a fresh processor, and
//! frees the processors the real-time thread swapped out.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use crate::fresh::Fresh;
use crate::locks::{lock, try_lock};

/// What the replacement thread made of a request.
pub enum Built {
    Fresh(Box<Fresh>),
    /// Building failed (import or `__init__` raised, or ran too long): the reason, to be
    /// counted as another failure of the stopped interpreter.
    Failed(String),
}

const IDLE: u8 = 0;
const REQUESTED: u8 = 1;
const BUILDING: u8 = 2;
const READY: u8 = 3;

/// How long the thread sleeps when nobody wakes it (it also wakes for shutdown).
const IDLE_WAIT: Duration = Duration::from_millis(100);

pub struct Replacement {
    state: AtomicU8,
    /// The swap count the request was made at: a build for a processor that has since been
    /// swapped out (by a reload) is not put in.
    requested_for: AtomicU64,
    incoming: Mutex<Option<Built>>,
    /// What the real-time thread took out, for the replacement thread to free.
    outgoing: Mutex<Option<Built>>,
    pub thread: OnceLock<Thread>,
    shutdown: AtomicBool,
}

impl Replacement {
    pub fn new() -> Self {
        Replacement {
            state: AtomicU8::new(IDLE),
            requested_for: AtomicU64::new(0),
            incoming: Mutex::new(None),
            outgoing: Mutex::new(None),
            thread: OnceLock::new(),
            shutdown: AtomicBool::new(false),
        }
    }

    /// Real-time thread: asks for a replacement of the processor live after `swaps` swaps,
    /// unless one is under way. Allocates nothing and never waits.
    pub fn request(&self, swaps: u64) {
        if self.state.load(Ordering::Acquire) == IDLE {
            self.requested_for.store(swaps, Ordering::Relaxed);
            if self.state.compare_exchange(IDLE, REQUESTED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                self.wake();
            }
        }
    }

    fn wake(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    /// The thread that holds the processor, between two blocks: hands a ready replacement
    /// to `put_in` (with the swap count it was requested at) and keeps what `put_in` leaves
    /// in it for the replacement thread to free. Never waits: when a lock is taken, it is
    /// for the next block.
    pub fn take_ready(&self, put_in: impl FnOnce(&mut Built, u64)) {
        if self.state.load(Ordering::Acquire) != READY {
            return;
        }
        let Some(mut outgoing) = try_lock(&self.outgoing) else { return };
        if outgoing.is_some() {
            return;
        }
        let Some(mut incoming) = try_lock(&self.incoming) else { return };
        let Some(mut built) = incoming.take() else { return };
        drop(incoming);
        put_in(&mut built, self.requested_for.load(Ordering::Relaxed));
        *outgoing = Some(built);
        drop(outgoing);
        self.state.store(IDLE, Ordering::Release);
        self.wake();
    }

    /// The replacement thread's loop, until `stop`: frees what was swapped out, and builds
    /// a replacement with `build` when one is asked for.
    pub fn serve(&self, build: impl Fn() -> Built) {
        while !self.shutdown.load(Ordering::Acquire) {
            drop(lock(&self.outgoing).take());
            if self.state.compare_exchange(REQUESTED, BUILDING, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                let built = build();
                *lock(&self.incoming) = Some(built);
                self.state.store(READY, Ordering::Release);
            }
            std::thread::park_timeout(IDLE_WAIT);
        }
    }

    /// Ends `serve` (after the build in progress, if any).
    pub fn stop(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.wake();
    }
}
