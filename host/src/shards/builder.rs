//! [`ShardedBuilder`]: how many shards, and whether to trust the script's word that its
//! channels are independent.

use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::processor::{Processor, ProcessorBuilder};
use crate::shards::groups::ChannelGroups;
use crate::shards::pool::{Pool, StartError};
use crate::shards::shard::{Shard, ShardOutcome};
use crate::shards::spike_list::SpikeList;
use crate::shards::ShardedProcessor;

/// Settings for a [`ShardedProcessor`]: a [`ProcessorBuilder`] (whose stream is the whole
/// stream) and the number of shards.
///
/// ```no_run
/// # let engine = pyproc_host::Engine::open()?;
/// let p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py")
///     .stream(64, 30_000.0)
///     .sharded()
///     .shards(4)
///     .build()?;
/// assert_eq!(p.shard_count(), 4); // the script declares `channel_independent = True`
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShardedBuilder {
    builder: ProcessorBuilder,
    shards: Option<usize>,
    assume_independent: bool,
}

impl ProcessorBuilder {
    /// Runs the script as several processors over contiguous groups of the stream's
    /// channels, in parallel, if its `PyProcessor` declares `channel_independent = True`;
    /// see [`ShardedBuilder`].
    pub fn sharded(self) -> ShardedBuilder {
        ShardedBuilder { builder: self, shards: None, assume_independent: false }
    }
}

impl ShardedBuilder {
    /// How many shards (default: the machine's cores, [`default_shards`]); never more than
    /// the stream has channels. 0 counts as 1.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.max(1));
        self
    }

    /// Shards the script even if it does not declare `channel_independent`. Whether its
    /// output then equals one interpreter's is the caller's responsibility: a script that
    /// mixes channels (a common reference, a channel map) would see only its group.
    pub fn assume_channel_independent(mut self, assume: bool) -> Self {
        self.assume_independent = assume;
        self
    }

    /// Starts the shards' interpreters, in parallel, each with the script loaded and its
    /// `PyProcessor` constructed for its group's channel count. Unless told to assume it,
    /// the script is first loaded for the whole stream to read its declaration; without
    /// one, that processor is the only shard.
    pub fn build(self) -> Result<ShardedProcessor> {
        let stream = self.builder.stream_info();
        let wanted = self.shards.unwrap_or_else(default_shards);
        let count = wanted.min(stream.num_channels).max(1);
        if count == 1 || !self.assume_independent {
            let whole = self.builder.clone().build()?;
            let declared = whole.channel_independent();
            if count == 1 || !declared {
                let shard = new_shard(whole, ChannelGroups::new(stream.num_channels, 1), 0);
                return Ok(ShardedProcessor::new(Pool::single(shard), stream, declared));
            }
        }
        let groups = ChannelGroups::new(stream.num_channels, count);
        let label = self.builder.label_or_default();
        let builder = self.builder;
        let make = move |index: usize| -> Result<Shard> {
            let channels = groups.range(index);
            let name = format!("{label} ch {}–{}", channels.start, channels.end - 1);
            match builder.clone().stream(channels.len(), stream.sample_rate).label(name).build() {
                Ok(processor) => Ok(new_shard(processor, groups, index)),
                Err(error) => Err(Error::Shard { channels, shard: index, shards: count, error: Arc::new(error) }),
            }
        };
        let pool = Pool::start(count, make).map_err(|failure| match failure {
            StartError::Build(error) => error,
            StartError::Spawn(e) => Error::engine("starting a shard's worker thread", e),
        })?;
        let declared = pool.shards().next().is_some_and(|s| s.processor.channel_independent());
        Ok(ShardedProcessor::new(pool, stream, declared))
    }
}

/// The default number of shards: the cores this process may use.
pub fn default_shards() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

fn new_shard(processor: Processor, groups: ChannelGroups, index: usize) -> Shard {
    Shard {
        processor,
        channels: groups.range(index),
        index,
        count: groups.len(),
        rows: None,
        outcome: ShardOutcome::Idle,
        events: Vec::new(),
        spikes: SpikeList::default(),
        blamed: None,
    }
}
