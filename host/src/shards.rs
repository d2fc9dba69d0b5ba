//! Channel-parallel processing: a script that processes each channel on its own (its
//! `PyProcessor` says `channel_independent = True`) runs as K interpreters over contiguous
//! groups of the stream's channels, on K threads, and their output is put back together
//! as one processor's.
//!
//! - [`groups`]: which channels each shard holds.
//! - [`pool`]: the threads, and the allocation-free hand-off of each block.
//! - [`shard`]: one group's [`Processor`](crate::Processor) and its last outcome.
//! - [`merge`]: the shards' events and spikes in sample order.
//! - [`processor`] and [`outcome`]: the merged processor and what it makes of a block.
//! - [`builder`]: how many shards, and whether the script's word is needed.

mod builder;
mod groups;
mod merge;
mod outcome;
mod pool;
mod processor;
mod shard;
mod spike_list;

pub use builder::{default_shards, ShardedBuilder};
pub use groups::ChannelGroups;
pub use outcome::ShardedProcessed;
pub use processor::ShardedProcessor;
