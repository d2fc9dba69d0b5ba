//! Replacing a stopped interpreter without the real-time thread's help. This module's
//! thread builds processors (import and `__init__`) from the handle's settings: with a
//! spare kept, one waits built before anything fails, so a stopped interpreter is replaced
//! at the next block; without, one is built when asked, after a failure. The real-time
//! thread only asks (an atomic and a wake-up) and, between two blocks, swaps in what was
//! built; the thread frees what it swapped out.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use crate::fresh::Fresh;
use crate::locks::{lock, try_lock};

/// What the replacement thread made.
pub enum Built {
    Fresh(Box<Fresh>),
    /// Building failed (import or `__init__` raised, or ran too long): the reason, to be
    /// counted as another failure of the stopped interpreter it would have replaced.
    Failed(String),
}

/// A build, and the generation of the handle's settings it was made from.
pub struct Ready {
    pub built: Built,
    pub generation: u64,
}

const IDLE: u8 = 0;
const REQUESTED: u8 = 1;
const BUILDING: u8 = 2;
const READY: u8 = 3;

/// How long the thread sleeps when nobody wakes it (it also wakes for shutdown).
const IDLE_WAIT: Duration = Duration::from_millis(100);

pub struct Replacement {
    state: AtomicU8,
    /// Keep a build waiting (a spare) rather than build after a failure.
    keep_spare: bool,
    incoming: Mutex<Option<Ready>>,
    /// What the real-time thread took out, for the replacement thread to free.
    outgoing: Mutex<Option<Built>>,
    /// The last swap replaced a stopped interpreter: the thread says so.
    replaced: AtomicBool,
    /// What waits in `incoming`, for readers that must not lock it: whether it was built
    /// (not failed), and from which generation of the settings.
    ready_built: AtomicBool,
    ready_generation: AtomicU64,
    pub thread: OnceLock<Thread>,
    shutdown: AtomicBool,
}

impl Replacement {
    /// With `keep_spare`, the first spare is built as soon as the thread serves.
    pub fn new(keep_spare: bool) -> Self {
        Replacement {
            state: AtomicU8::new(if keep_spare { REQUESTED } else { IDLE }),
            keep_spare,
            incoming: Mutex::new(None),
            outgoing: Mutex::new(None),
            replaced: AtomicBool::new(false),
            ready_built: AtomicBool::new(false),
            ready_generation: AtomicU64::new(0),
            thread: OnceLock::new(),
            shutdown: AtomicBool::new(false),
        }
    }

    /// Real-time thread: asks for a build, unless one is under way or waiting. Allocates
    /// nothing and never waits.
    pub fn request(&self) {
        if self.state.compare_exchange(IDLE, REQUESTED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    /// The thread that holds the processor, between two blocks. A build from the settings
    /// of `generation` goes to `put_in` when `needed` (the live processor waits for a
    /// replacement), and otherwise waits (a spare); `put_in` says whether it swapped a
    /// processor in. A build from earlier settings (a reload or a new stream since) is
    /// thrown away. What is taken out is left for the replacement thread to free, and with
    /// a spare kept the next one is asked for. Allocates nothing and never waits: when a
    /// lock is taken, it is for the next block.
    pub fn take_ready(&self, generation: u64, needed: bool, put_in: impl FnOnce(&mut Built) -> bool) {
        if self.state.load(Ordering::Acquire) != READY {
            return;
        }
        let Some(mut outgoing) = try_lock(&self.outgoing) else { return };
        if outgoing.is_some() {
            return;
        }
        let Some(mut incoming) = try_lock(&self.incoming) else { return };
        let current = incoming.as_ref().is_some_and(|ready| ready.generation == generation);
        if current && !needed {
            return;
        }
        let Some(mut ready) = incoming.take() else { return };
        drop(incoming);
        if current && put_in(&mut ready.built) {
            self.replaced.store(true, Ordering::Release);
        }
        *outgoing = Some(ready.built);
        drop(outgoing);
        self.state.store(if self.keep_spare { REQUESTED } else { IDLE }, Ordering::Release);
        self.wake();
    }

    /// The replacement thread's loop, until `stop`: frees what was swapped out (calling
    /// `replaced` first when it was a stopped interpreter), and builds with `build` when a
    /// build is asked for.
    pub fn serve(&self, build: impl Fn() -> Ready, replaced: impl Fn()) {
        while !self.shutdown.load(Ordering::Acquire) {
            let old = lock(&self.outgoing).take();
            if old.is_some() && self.replaced.swap(false, Ordering::AcqRel) {
                replaced();
            }
            drop(old);
            if self.state.compare_exchange(REQUESTED, BUILDING, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                let ready = build();
                self.ready_built.store(matches!(ready.built, Built::Fresh(_)), Ordering::Release);
                self.ready_generation.store(ready.generation, Ordering::Release);
                *lock(&self.incoming) = Some(ready);
                self.state.store(READY, Ordering::Release);
            }
            std::thread::park_timeout(IDLE_WAIT);
        }
    }

    /// Whether a spare waits built from the settings of `generation`. Reads atomics only:
    /// any thread, without delaying the one that takes it.
    pub fn spare_ready(&self, generation: u64) -> bool {
        self.keep_spare
            && self.state.load(Ordering::Acquire) == READY
            && self.ready_built.load(Ordering::Acquire)
            && self.ready_generation.load(Ordering::Acquire) == generation
    }

    /// Ends `serve` (after the build in progress, if any).
    pub fn stop(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.wake();
    }
}
