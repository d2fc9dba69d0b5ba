//! [`ShardedProcessor`]: one script over a stream, its channels split between shards that
//! run in parallel, and their output put back together.

use std::ops::Range;
use std::path::Path;

use ndarray::{s, ArrayViewMut2};

use crate::denied::{DenialLog, Denials};
use crate::error::{Error, Result};
use crate::events::{Emitted, SpikeIn, TtlEvent, TtlEventIn};
use crate::outcome::PassThrough;
use crate::processor::{Processor, Session, Stats, StreamInfo};
use crate::shards::groups::ChannelGroups;
use crate::shards::merge::{merge_events, merge_spikes};
use crate::shards::outcome::ShardedProcessed;
use crate::shards::pool::Pool;
use crate::shards::shard::{Rows, Shard, ShardOutcome};
use crate::shards::spike_list::SpikeList;
use crate::supervise::recovery::Status;

/// A script whose `PyProcessor` processes each channel on its own, run as K processors
/// over contiguous groups of channels, in parallel: K-1 worker threads and the caller's.
/// Built with [`ProcessorBuilder::sharded`](crate::ProcessorBuilder::sharded); with one
/// shard it is a plain [`Processor`] on the caller's thread.
///
/// ```no_run
/// use ndarray::Array2;
/// let engine = pyproc_host::Engine::open()?;
/// let mut p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py")
///     .stream(64, 30_000.0)
///     .sharded() // as many shards as cores, since the script declares channel_independent
///     .build()?;
/// p.start_acquisition()?;
/// let mut block = Array2::<f32>::zeros((64, 1024));
/// let processed = p.process(block.view_mut(), 0)?;
/// assert!(processed.failed.is_empty());
/// # Ok::<(), pyproc_host::Error>(())
/// ```
///
/// Each shard is a [`Processor`] built from the same settings, whose `PyProcessor` is
/// constructed with its group's channel count; its label (and so its random state, see
/// the crate docs) names its channels (`bandpass_filter.py ch 0–31`). TTL events go to
/// every shard. A [`SpikeIn`] carries no channel index (only its electrode's name and
/// waveform), so every spike goes to every shard too. Every shard gets the same
/// `start_recording` folder.
pub struct ShardedProcessor {
    pool: Pool<Shard>,
    groups: ChannelGroups,
    stream: StreamInfo,
    declared: bool,
    /// The last block's merged output and its failures; reused from block to block.
    events: Vec<TtlEvent>,
    spikes: SpikeList,
    /// The merge's sorting space, reused.
    scratch: Vec<(i64, usize)>,
    failed: Vec<Error>,
    passed_through: Vec<(Range<usize>, PassThrough)>,
}

impl ShardedProcessor {
    pub(crate) fn new(pool: Pool<Shard>, stream: StreamInfo, declared: bool) -> ShardedProcessor {
        let count = pool.len();
        ShardedProcessor {
            groups: ChannelGroups::new(stream.num_channels, count),
            pool,
            stream,
            declared,
            events: Vec::new(),
            spikes: SpikeList::default(),
            scratch: Vec::new(),
            // One entry per shard at most: a block that fails or passes through allocates
            // nothing here.
            failed: Vec::with_capacity(count),
            passed_through: Vec::with_capacity(count),
        }
    }

    /// Runs `process` on `block` (channels x samples) in place: each shard on its group's
    /// rows, at once. A shard that raises, runs past its deadline or is down leaves its
    /// rows exactly as they came in and is reported in the result; the others' rows are
    /// processed. An error is returned only when the block does not fit the stream.
    pub fn process(&mut self, mut block: ArrayViewMut2<'_, f32>, first_sample_number: i64) -> Result<ShardedProcessed<'_>> {
        if block.nrows() != self.stream.num_channels {
            return Err(Error::ChannelMismatch { expected: self.stream.num_channels, got: block.nrows() });
        }
        for shard in self.pool.shards_mut() {
            let rows = shard.channels.clone();
            shard.rows = (!shard.idle()).then(|| Rows::view(block.slice_mut(s![rows, ..])));
        }
        Ok(self.run_process(first_sample_number))
    }

    /// [`process`](Self::process) for a block held as one buffer per channel; see
    /// [`Processor::process_channels`].
    ///
    /// # Safety
    /// Every pointer in `channels` must be valid for reads and writes of `num_samples`
    /// floats for the length of the call, and no two may overlap.
    pub unsafe fn process_channels(&mut self, channels: &[*mut f32], num_samples: usize, first_sample_number: i64) -> Result<ShardedProcessed<'_>> {
        if channels.len() != self.stream.num_channels {
            return Err(Error::ChannelMismatch { expected: self.stream.num_channels, got: channels.len() });
        }
        for shard in self.pool.shards_mut() {
            let rows = shard.channels.clone();
            // SAFETY: the caller's promise, for the rows of this group only.
            shard.rows = (!shard.idle()).then(|| unsafe { Rows::pointers(&channels[rows], num_samples) });
        }
        Ok(self.run_process(first_sample_number))
    }

    fn run_process(&mut self, first_sample_number: i64) -> ShardedProcessed<'_> {
        self.pool.run(&|_, shard: &mut Shard| shard.process(first_sample_number));
        self.failed.clear();
        self.passed_through.clear();
        let mut ran = 0;
        for shard in self.pool.shards_mut() {
            match shard.take_outcome() {
                ShardOutcome::Idle => {}
                ShardOutcome::Done => ran += 1,
                ShardOutcome::PassedThrough(why) => self.passed_through.push((shard.channels.clone(), why)),
                ShardOutcome::Failed(error) => self.failed.push(error),
            }
        }
        merge_events(&mut self.events, self.pool.shards().map(|s| &s.events[..]), &mut self.scratch);
        merge_spikes(&mut self.spikes, self.pool.shards().map(|s| &s.spikes), &mut self.scratch);
        ShardedProcessed {
            emitted: Emitted { events: &self.events, spikes: self.spikes.as_slice() },
            failed: &self.failed,
            passed_through: &self.passed_through,
            ran,
        }
    }

    /// The last block's failures (the [`ShardedProcessed::failed`] of the last
    /// [`process`](Self::process)), taken out in channel order: to hand each error on to
    /// another thread as it is, without copying or formatting it on this one.
    pub fn take_failed(&mut self) -> std::vec::Drain<'_, Error> {
        self.failed.drain(..)
    }

    /// Delivers a TTL event to every shard's `handle_ttl_event`, one shard after the
    /// other on this thread: events come one at a time, often to scripts without the
    /// callback (then a shard does nothing), and waking the workers for each would cost
    /// more than the callbacks.
    pub fn handle_ttl_event(&mut self, event: &TtlEventIn<'_>) -> Result<()> {
        self.each(|p| p.handle_ttl_event(event))
    }

    /// Delivers a spike to every shard's `handle_spike` (a spike names no channel of the
    /// stream, so no shard can be picked for it), on this thread as TTL events are.
    pub fn handle_spike(&mut self, spike: &SpikeIn<'_>) -> Result<()> {
        self.each(|p| p.handle_spike(spike))
    }

    pub fn start_acquisition(&mut self) -> Result<()> {
        self.broadcast(Processor::start_acquisition)
    }

    /// [`Processor::set_block_deadline`] for every shard.
    pub fn set_block_deadline(&mut self, deadline: Option<std::time::Duration>) {
        for shard in self.pool.shards_mut() {
            shard.processor.set_block_deadline(deadline);
        }
    }

    /// How long blocks may run (the shards share it); see [`Processor::block_deadline`].
    pub fn block_deadline(&self) -> Option<std::time::Duration> {
        self.pool.shards().next().and_then(|s| s.processor.block_deadline())
    }

    pub fn stop_acquisition(&mut self) -> Result<()> {
        self.broadcast(Processor::stop_acquisition)
    }

    /// Calls every shard's `start_recording(dir)`; see [`Processor::start_recording`].
    /// The shards share the folder: a script that writes files there should not give two
    /// groups the same file name.
    pub fn start_recording(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.broadcast(|p| p.start_recording(dir))
    }

    pub fn stop_recording(&mut self) -> Result<()> {
        self.broadcast(Processor::stop_recording)
    }

    /// What the shards are in the middle of (they are told the same); see
    /// [`Processor::session`].
    pub fn session(&self) -> Session {
        self.pool.shards().next().map(|s| s.processor.session()).unwrap_or_default()
    }

    /// Every shard joins `session`; see [`Processor::join`].
    pub fn join(&mut self, session: &Session) -> Result<()> {
        self.broadcast(|p| p.join(session))
    }

    /// Splits the new stream's channels between the same shards again and re-creates each
    /// shard's `PyProcessor` for its new group; see [`Processor::set_stream`]. With fewer
    /// channels than shards, the extra shards sit idle until a stream gives them channels.
    /// A shard whose constructor raises keeps its old `PyProcessor`, and its channels pass
    /// through with an error naming them until a later `set_stream` succeeds.
    pub fn set_stream(&mut self, num_channels: usize, sample_rate: f64) -> Result<()> {
        self.groups = ChannelGroups::new(num_channels, self.pool.len());
        for (index, shard) in self.pool.shards_mut().enumerate() {
            shard.channels = self.groups.range(index);
        }
        self.stream = StreamInfo { num_channels, sample_rate };
        self.broadcast_shards(|shard| {
            let channels = shard.channels.len();
            shard.call(|p| p.set_stream(channels, sample_rate))
        })
    }

    /// How many shards run the script (1: one plain processor).
    pub fn shard_count(&self) -> usize {
        self.pool.len()
    }

    /// The channels each shard holds, in order.
    pub fn groups(&self) -> ChannelGroups {
        self.groups
    }

    /// Whether the script declares `channel_independent = True`.
    pub fn channel_independent(&self) -> bool {
        self.declared
    }

    pub fn stream(&self) -> StreamInfo {
        self.stream
    }

    /// The script's path; see [`Processor::script`].
    pub fn script(&self) -> &Path {
        self.pool.shards().next().map(|s| s.processor.script()).expect("a pool has at least one shard")
    }

    /// Whether `dir` lies inside a recording root the shards were built with; see
    /// [`Processor::can_record_in`].
    pub fn can_record_in(&self, dir: impl AsRef<Path>) -> bool {
        self.pool.shards().all(|s| s.processor.can_record_in(dir.as_ref()))
    }

    /// Running when every shard is; else the first (in channel order) that is not.
    pub fn status(&self) -> Status {
        self.pool.shards().map(|s| s.processor.status()).find(|s| *s != Status::Running).unwrap_or(Status::Running)
    }

    /// Each shard's channels and status, in order.
    pub fn statuses(&self) -> Vec<(Range<usize>, Status)> {
        self.pool.shards().map(|s| (s.channels.clone(), s.processor.status())).collect()
    }

    /// What the shards published ([`Processor::published`]), shard after shard in channel
    /// order; a name several shards publish keeps the first shard's value.
    pub fn published(&self) -> crate::published::Published {
        let mut all = crate::published::Published::default();
        self.published_into(&mut all);
        all
    }

    /// [`published`](Self::published) into `out`, reusing its storage: once `out` has held
    /// values of these names and sizes, this allocates nothing.
    pub fn published_into(&self, out: &mut crate::published::Published) {
        let mut kept = 0;
        for shard in self.pool.shards() {
            shard.processor.with_published(|p| kept = out.copy_after(kept, p));
        }
        out.keep_first(kept);
    }

    /// The shards' restarts and dropped output, added up.
    pub fn stats(&self) -> Stats {
        self.pool.shards().map(|s| s.processor.stats()).fold(Stats::default(), |mut sum, s| {
            sum.restarts += s.restarts;
            sum.events_dropped += s.events_dropped;
            sum.spikes_dropped += s.spikes_dropped;
            sum.output_bytes_dropped += s.output_bytes_dropped;
            sum.frames_refused += s.frames_refused;
            sum.events_outside_acquisition += s.events_outside_acquisition;
            sum
        })
    }

    /// Whether a shard's interpreter stopped and waits for the caller to replace the
    /// processor; see [`Processor::needs_replacement`].
    pub fn needs_replacement(&self) -> bool {
        self.pool.shards().any(|s| s.processor.needs_replacement())
    }

    /// Each shard takes over the consecutive failures of the shard in `earlier` that held
    /// the same place; see [`Processor::carry_failures_from`]. Allocates nothing.
    pub fn carry_failures_from(&mut self, earlier: &ShardedProcessor) {
        for (shard, old) in self.pool.shards_mut().zip(earlier.pool.shards()) {
            shard.processor.carry_failures_from(&old.processor);
        }
    }

    /// Counts a failed replacement against every shard waiting for one; see
    /// [`Processor::replacement_failed`].
    pub fn replacement_failed(&mut self, reason: &str) {
        for shard in self.pool.shards_mut() {
            if shard.processor.needs_replacement() {
                shard.processor.replacement_failed(reason);
            }
        }
    }

    /// The shards' refusal logs, to read from another thread; see
    /// [`Processor::denial_log`].
    pub fn denial_logs(&self) -> Vec<DenialLog> {
        self.pool.shards().map(|s| s.processor.denial_log()).collect()
    }

    /// Every access a shard tried and was refused; see [`Processor::denials`].
    pub fn denials(&self) -> Denials {
        self.pool.shards().fold(Denials::default(), |mut all, s| {
            all.merge(s.processor.denials());
            all
        })
    }

    fn broadcast(&mut self, callback: impl Fn(&mut Processor) -> Result<()> + Sync) -> Result<()> {
        self.broadcast_shards(|shard| shard.call(&callback))
    }

    /// Runs `task` on every shard at once; their failures, in channel order, become one
    /// error.
    fn broadcast_shards(&mut self, task: impl Fn(&mut Shard) + Sync) -> Result<()> {
        self.pool.run(&|_, shard: &mut Shard| task(shard));
        self.failures()
    }

    /// Calls `callback` on every shard in turn, on this thread.
    fn each(&mut self, callback: impl Fn(&mut Processor) -> Result<()>) -> Result<()> {
        for shard in self.pool.shards_mut() {
            shard.call(&callback);
        }
        self.failures()
    }

    /// The last call's failures, in channel order, as one error. One failure allocates
    /// nothing here (a handler refused on every call while an interpreter is replaced).
    fn failures(&mut self) -> Result<()> {
        let mut first = None;
        let mut more = Vec::new();
        for shard in self.pool.shards_mut() {
            if let ShardOutcome::Failed(error) = shard.take_outcome() {
                match first {
                    None => first = Some(error),
                    Some(_) => more.push(error),
                }
            }
        }
        match first {
            None => Ok(()),
            Some(error) if more.is_empty() => Err(error),
            Some(error) => {
                more.insert(0, error);
                Err(Error::Shards(more))
            }
        }
    }
}

impl std::fmt::Debug for ShardedProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedProcessor").field("script", &self.script()).field("stream", &self.stream).field("groups", &self.groups).finish()
    }
}
