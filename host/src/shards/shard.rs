//! [`Shard`]: one group's [`Processor`] and what its last call left for the merge.

use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayViewMut2, RawArrayViewMut, Ix2};

use crate::error::{Error, Result};
use crate::events::TtlEvent;
use crate::outcome::{PassThrough, Processed};
use crate::processor::Processor;
use crate::shards::spike_list::SpikeList;

/// One group of channels and the processor that owns them.
pub(crate) struct Shard {
    pub processor: Processor,
    /// The group's rows in the caller's block.
    pub channels: Range<usize>,
    /// Of how many shards this is one, to name it in errors.
    pub index: usize,
    pub count: usize,
    /// The group's rows of the block being processed, given by the caller before a run.
    pub rows: Option<Rows>,
    /// The last block's outcome.
    pub outcome: ShardOutcome,
    /// What the last block emitted, spike channels made stream-wide; reused from block to
    /// block.
    pub events: Vec<TtlEvent>,
    pub spikes: SpikeList,
    /// Where the last error this shard blamed on its group was put, shared with the
    /// [`Error::Shard`] that carries it: once the caller has dropped that, the next error
    /// goes into the same place (see [`blame`](Self::blame)).
    pub blamed: Option<Arc<Error>>,
}

/// What became of the group's rows in the last block.
#[derive(Debug)]
pub(crate) enum ShardOutcome {
    /// No block, or an empty group (a stream with fewer channels than shards).
    Idle,
    Done,
    PassedThrough(PassThrough),
    Failed(Error),
}

/// The rows of the caller's block that belong to one shard, lent to the worker thread for
/// one run.
pub(crate) enum Rows {
    /// Rows of an ndarray view.
    View(RawArrayViewMut<f32, Ix2>),
    /// The group's part of the caller's list of channel pointers, `samples` floats each.
    Pointers { list: *const *mut f32, channels: usize, samples: usize },
}

// SAFETY: made from a `&mut` view (or the caller's promise about its pointers) covering
// rows no other shard gets, and used only while the caller's `process` holds that borrow:
// the pool waits for every worker before it returns.
unsafe impl Send for Rows {}

impl Rows {
    pub fn view(mut rows: ArrayViewMut2<'_, f32>) -> Rows {
        Rows::View(rows.raw_view_mut())
    }

    /// # Safety
    /// As [`Processor::process_channels`], for as long as the rows are in use.
    pub unsafe fn pointers(list: &[*mut f32], samples: usize) -> Rows {
        Rows::Pointers { list: list.as_ptr(), channels: list.len(), samples }
    }
}

impl Shard {
    /// Runs `process` on the group's rows, in place.
    pub fn process(&mut self, first_sample_number: i64) {
        self.events.clear();
        self.spikes.clear();
        self.release_blamed();
        let Some(rows) = self.rows.take() else {
            self.outcome = ShardOutcome::Idle;
            return;
        };
        let offset = self.channels.start as u32;
        // SAFETY: see `Rows`: the rows are valid and ours alone for this call.
        let processed = unsafe {
            match rows {
                Rows::View(rows) => self.processor.process(rows.deref_into_view_mut(), first_sample_number),
                Rows::Pointers { list, channels, samples } => {
                    self.processor.process_channels(std::slice::from_raw_parts(list, channels), samples, first_sample_number)
                }
            }
        };
        self.outcome = match processed {
            Ok(Processed::Done(emitted)) => {
                self.events.extend_from_slice(emitted.events);
                for spike in emitted.spikes {
                    self.spikes.push(spike, offset);
                }
                ShardOutcome::Done
            }
            Ok(Processed::PassedThrough(why)) => ShardOutcome::PassedThrough(why),
            Err(error) => ShardOutcome::Failed(self.blame(error)),
        };
    }

    /// Whether this shard sits the stream out: one of several whose group is empty (its
    /// `PyProcessor` was made for channels the stream no longer has). A lone shard takes
    /// every call, as a plain processor does, even for a stream of no channels.
    pub fn idle(&self) -> bool {
        self.channels.is_empty() && self.count > 1
    }

    /// Runs a callback other than `process`, unless the shard is [`idle`](Self::idle).
    pub fn call(&mut self, callback: impl FnOnce(&mut Processor) -> Result<()>) {
        self.outcome = if self.idle() {
            ShardOutcome::Idle
        } else {
            match callback(&mut self.processor) {
                Ok(()) => ShardOutcome::Done,
                Err(error) => ShardOutcome::Failed(self.blame(error)),
            }
        };
    }

    /// `error` with the group that raised it, when there is more than one group: in the
    /// place of the last one when the caller has let go of that, so a shard that keeps
    /// failing allocates nothing per failure.
    pub fn blame(&mut self, error: Error) -> Error {
        if self.count == 1 {
            return error;
        }
        let error = match self.blamed.as_mut().and_then(Arc::get_mut) {
            Some(place) => {
                *place = error;
                self.blamed.clone().expect("just written")
            }
            None => self.blamed.insert(Arc::new(error)).clone(),
        };
        Error::Shard { channels: self.channels.clone(), shard: self.index, shards: self.count, error }
    }

    /// Empties the place of the last blamed error once nobody else holds it, so what it
    /// held (the script's exception, whose storage the interpreter reuses for its next
    /// failure) is let go before the next call.
    fn release_blamed(&mut self) {
        if let Some(place) = self.blamed.as_mut().and_then(Arc::get_mut) {
            if !matches!(place, Error::BlockTooLarge { samples: 0, max: 0 }) {
                // An error that holds nothing: never shown, only a placeholder.
                *place = Error::BlockTooLarge { samples: 0, max: 0 };
            }
        }
    }

    /// The outcome of the last call, leaving `Idle` in its place.
    pub fn take_outcome(&mut self) -> ShardOutcome {
        std::mem::replace(&mut self.outcome, ShardOutcome::Idle)
    }
}
