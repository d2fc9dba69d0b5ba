//! [`ShardedProcessed`]: what became of a block split between shards — each group
//! processed, passed through, or failed, and what the processed ones emitted.

use std::ops::Range;

use crate::error::Error;
use crate::events::Emitted;
use crate::outcome::PassThrough;

/// The result of [`ShardedProcessor::process`](crate::ShardedProcessor::process): the
/// shards that ran processed their channels in place; the channels of the others are
/// exactly as they came in.
///
/// ```no_run
/// # let engine = pyproc_host::Engine::open()?;
/// # let mut p = pyproc_host::Processor::builder(&engine, "examples/bandpass_filter.py").stream(8, 30_000.0).sharded().build()?;
/// # let mut block = ndarray::Array2::<f32>::zeros((8, 1024));
/// let processed = p.process(block.view_mut(), 0)?;
/// for error in processed.failed {
///     eprintln!("{error}"); // names the shard's channels, which passed through unchanged
/// }
/// println!("{} events", processed.emitted.events.len());
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ShardedProcessed<'a> {
    /// What the shards that ran emitted (and their other callbacks since the last block),
    /// merged in sample order, ties in channel order; spike channels are the stream's.
    pub emitted: Emitted<'a>,
    /// One error per shard whose `process` raised or ran past its deadline, in channel
    /// order; an [`Error::Shard`] naming the group's channels when there is more than one
    /// shard.
    pub failed: &'a [Error],
    /// The groups whose interpreter was down (restarting or switched off), with the reason.
    pub passed_through: &'a [(Range<usize>, PassThrough)],
    /// How many shards ran `process` on their channels.
    pub ran: usize,
}
