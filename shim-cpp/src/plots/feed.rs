//! [`Feed`]: how published values travel from the real-time thread to the viewer's thread
//! without the real-time thread allocating or waiting. At most `per_second` times a second
//! (and only while a viewer draws) it copies the live processor's values into one slot
//! whose storage is reused, when it finds the slot's lock free; the viewer's thread swaps
//! the slot's contents with its own buffer, so the storage goes round between the two and,
//! once it has held values of these names and sizes, nothing is allocated on either side.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;
use std::time::Instant;

use pyproc_host::{Published, ShardedProcessor};

use crate::locks::{lock, try_lock};

/// Copies a second by default: a figure's worth of drawing each time keeps one core of a
/// typical machine well below busy.
pub const DEFAULT_PER_SECOND: f64 = 10.0;

pub struct Feed {
    /// Whether a viewer draws what is copied (set by the viewer's thread).
    active: AtomicBool,
    slot: Mutex<Published>,
    /// The slot holds values the viewer has not taken yet.
    fresh: AtomicBool,
    epoch: Instant,
    /// Microseconds since `epoch` of the last copy (real-time thread only).
    last_copy_us: AtomicU64,
    /// Microseconds between copies.
    interval_us: AtomicU64,
    /// The sum of the values' update counts at the last copy: unchanged values are not
    /// offered again.
    last_updates: AtomicU64,
    /// The viewer's thread, woken when values arrive.
    pub viewer: OnceLock<Thread>,
}

impl Feed {
    pub fn new() -> Self {
        let feed = Feed {
            active: AtomicBool::new(false),
            slot: Mutex::new(Published::default()),
            fresh: AtomicBool::new(false),
            epoch: Instant::now(),
            last_copy_us: AtomicU64::new(0),
            interval_us: AtomicU64::new(0),
            last_updates: AtomicU64::new(0),
            viewer: OnceLock::new(),
        };
        feed.set_per_second(DEFAULT_PER_SECOND);
        feed
    }

    /// Copies at most this many times a second (at least once every ten minutes).
    pub fn set_per_second(&self, per_second: f64) {
        let per_second = if per_second.is_finite() && per_second > 0.0 { per_second } else { DEFAULT_PER_SECOND };
        let interval = (1e6 / per_second).clamp(0.0, 600e6) as u64;
        self.interval_us.store(interval, Ordering::Relaxed);
    }

    /// Viewer's thread: whether the real-time thread should copy values at all.
    pub fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Release);
    }

    /// Real-time thread, after a block: copies `live`'s published values into the slot
    /// when a viewer draws, it is time, and nobody holds the slot; wakes the viewer when
    /// they changed. Never waits; allocates nothing once the slot has held values of these
    /// names and sizes.
    pub fn offer(&self, live: &ShardedProcessor) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let now = self.epoch.elapsed().as_micros() as u64;
        let last = self.last_copy_us.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < self.interval_us.load(Ordering::Relaxed) {
            return;
        }
        let Some(mut slot) = try_lock(&self.slot) else { return };
        live.published_into(&mut slot);
        let updates = slot.iter().map(|v| v.updates()).sum::<u64>();
        drop(slot);
        self.last_copy_us.store(now.max(1), Ordering::Relaxed);
        if updates != self.last_updates.swap(updates, Ordering::Relaxed) {
            self.fresh.store(true, Ordering::Release);
            if let Some(viewer) = self.viewer.get() {
                viewer.unpark();
            }
        }
    }

    /// Viewer's thread: swaps the values the real-time thread offered into `values`
    /// (and `values`' storage into the slot for its next copy); false when none are new.
    pub fn take_into(&self, values: &mut Published) -> bool {
        if !self.fresh.swap(false, Ordering::AcqRel) {
            return false;
        }
        std::mem::swap(&mut *lock(&self.slot), values);
        true
    }
}
