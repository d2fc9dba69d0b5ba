//! [`ChannelGroups`]: how a stream's channels are split between shards — contiguous
//! ranges, as even as they can be, the larger ones first.

use std::ops::Range;

/// `num_channels` channels split into `shards` contiguous groups whose sizes differ by at
/// most one (the first `num_channels % shards` groups hold one more). With fewer channels
/// than shards, the last groups are empty.
///
/// ```
/// let groups = pyproc_host::ChannelGroups::new(8, 3);
/// assert_eq!(groups.ranges().collect::<Vec<_>>(), vec![0..3, 3..6, 6..8]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelGroups {
    num_channels: usize,
    shards: usize,
}

impl ChannelGroups {
    /// # Panics
    /// If `shards` is 0.
    pub fn new(num_channels: usize, shards: usize) -> ChannelGroups {
        assert!(shards > 0, "at least one shard");
        ChannelGroups { num_channels, shards }
    }

    pub fn len(&self) -> usize {
        self.shards
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// The channels (block rows) of group `index`.
    pub fn range(&self, index: usize) -> Range<usize> {
        let (base, extra) = (self.num_channels / self.shards, self.num_channels % self.shards);
        let start = index * base + index.min(extra);
        start..start + base + usize::from(index < extra)
    }

    /// Every group's channels, in order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        (0..self.shards).map(|i| self.range(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cover_every_channel_once_in_order() {
        for channels in 0..40 {
            for shards in 1..9 {
                let groups = ChannelGroups::new(channels, shards);
                let ranges: Vec<_> = groups.ranges().collect();
                assert_eq!(ranges.first().unwrap().start, 0);
                assert_eq!(ranges.last().unwrap().end, channels);
                assert!(ranges.windows(2).all(|w| w[0].end == w[1].start), "{ranges:?}");
                let sizes: Vec<_> = ranges.iter().map(|r| r.len()).collect();
                assert!(sizes.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1), "{sizes:?}");
            }
        }
    }

    #[test]
    fn fewer_channels_than_shards_leaves_the_last_groups_empty() {
        let ranges: Vec<_> = ChannelGroups::new(2, 4).ranges().collect();
        assert_eq!(ranges, vec![0..1, 1..2, 2..2, 2..2]);
    }
}
