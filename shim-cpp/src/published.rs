//! What the UI reads about a processor, published by the thread that last ran it: its
//! status as atomics (the reason it was switched off behind a lock the real-time side only
//! tries), and the blocks that passed through, counted by reason. Reading never touches
//! the processor, so the editor's status poll never delays a block.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use pyproc_host::Status as HostStatus;

use crate::ffi::{PassThroughCounts, Status};
use crate::locks::{lock, try_lock};

const RUNNING: u8 = 0;
const RESTARTING: u8 = 1;
const DISABLED: u8 = 2;

pub struct Published {
    kind: AtomicU8,
    blocks_left: AtomicU32,
    failures: AtomicU32,
    disabled_reason: Mutex<Option<Arc<str>>>,
    pub num_shards: AtomicU32,
    pub num_channels: AtomicU32,
    /// TTL events the running interpreter's script emitted outside acquisition (dropped),
    /// as of the last control call.
    pub events_outside_acquisition: AtomicU64,
    /// Blocks passed through, indexed by `reason_index`.
    passed_through: [AtomicU64; 7],
}

/// Where a status's blocks are counted; None for `Ok`.
fn reason_index(status: Status) -> Option<usize> {
    Some(match status {
        Status::ScriptError => 0,
        Status::DeadlineExceeded => 1,
        Status::InstanceDied => 2,
        Status::Restarting => 3,
        Status::Disabled => 4,
        Status::BadBlock => 5,
        Status::Ok => return None,
        _ => 6,
    })
}

impl Published {
    pub fn new(num_shards: u32, num_channels: u32) -> Self {
        Published {
            kind: AtomicU8::new(RUNNING),
            blocks_left: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            disabled_reason: Mutex::new(None),
            num_shards: AtomicU32::new(num_shards),
            num_channels: AtomicU32::new(num_channels),
            events_outside_acquisition: AtomicU64::new(0),
            passed_through: Default::default(),
        }
    }

    /// Records `status` as the live processor's. Allocates nothing.
    pub fn status(&self, status: HostStatus) {
        let kind = match status {
            HostStatus::Restarting { blocks_left, consecutive_failures } => {
                self.blocks_left.store(blocks_left, Ordering::Relaxed);
                self.failures.store(consecutive_failures, Ordering::Relaxed);
                RESTARTING
            }
            HostStatus::Disabled { reason } => {
                if let Some(mut slot) = try_lock(&self.disabled_reason) {
                    *slot = Some(reason);
                }
                DISABLED
            }
            _ => RUNNING,
        };
        self.kind.store(kind, Ordering::Release);
    }

    /// Counts a block that did not reach the script (every status but `Ok`).
    pub fn block(&self, status: Status) {
        if let Some(i) = reason_index(status) {
            self.passed_through[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn pass_through_counts(&self) -> PassThroughCounts {
        let n = |i: usize| self.passed_through[i].load(Ordering::Relaxed);
        PassThroughCounts { script_error: n(0), deadline_exceeded: n(1), instance_died: n(2), restarting: n(3), disabled: n(4), bad_block: n(5), failed: n(6) }
    }

    /// "running", "restarting in the background after failure N",
    /// "restarting after failure N (in M blocks)", or "switched off: …".
    pub fn text(&self) -> String {
        let failures = self.failures.load(Ordering::Relaxed);
        match self.kind.load(Ordering::Acquire) {
            RUNNING => "running".to_owned(),
            RESTARTING => match self.blocks_left.load(Ordering::Relaxed) {
                0 => format!("restarting in the background after failure {failures}"),
                blocks => format!("restarting after failure {failures} (in {blocks} blocks)"),
            },
            _ => match &*lock(&self.disabled_reason) {
                Some(reason) => format!("switched off: {reason}"),
                None => "switched off".to_owned(),
            },
        }
    }
}
