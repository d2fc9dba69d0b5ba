//! When blocks arrive, as the control thread needs to know it: whether a block is running
//! now and whether blocks are flowing, so a control call is left for the real-time thread
//! (between two blocks) or run at once when none is coming. Atomics only: the real-time
//! thread's share is two clock reads and three stores per block.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The shortest and the longest the control thread waits for a block to pick its call up.
const MIN_HANDOFF: Duration = Duration::from_millis(5);
const MAX_HANDOFF: Duration = Duration::from_millis(500);

pub struct BlockClock {
    epoch: Instant,
    /// Nanoseconds from `epoch` to the start of the last block (0: none yet).
    last_start: AtomicU64,
    /// Nanoseconds between the starts of the last two blocks (0: not known).
    interval: AtomicU64,
    in_block: AtomicBool,
}

impl BlockClock {
    pub fn new() -> Self {
        BlockClock { epoch: Instant::now(), last_start: AtomicU64::new(0), interval: AtomicU64::new(0), in_block: AtomicBool::new(false) }
    }

    fn now(&self) -> u64 {
        // Never 0, which means "no block yet".
        (self.epoch.elapsed().as_nanos() as u64).max(1)
    }

    /// Real-time thread, as a block starts.
    pub fn block_starts(&self) {
        self.in_block.store(true, Ordering::SeqCst);
        let now = self.now();
        let last = self.last_start.swap(now, Ordering::Relaxed);
        if last != 0 {
            self.interval.store(now - last, Ordering::Relaxed);
        }
    }

    /// Real-time thread, as the block ends.
    pub fn block_ends(&self) {
        self.in_block.store(false, Ordering::SeqCst);
    }

    /// Whether the control thread should stop waiting for a block to run its call: none is
    /// running and none started within two block periods (at least `MIN_HANDOFF`, at
    /// most `MAX_HANDOFF`).
    pub fn blocks_stopped(&self) -> bool {
        if self.in_block.load(Ordering::SeqCst) {
            return false;
        }
        let last = self.last_start.load(Ordering::Relaxed);
        let window = Duration::from_nanos(self.interval.load(Ordering::Relaxed).saturating_mul(2)).clamp(MIN_HANDOFF, MAX_HANDOFF);
        last == 0 || Duration::from_nanos(self.now().saturating_sub(last)) > window
    }
}
