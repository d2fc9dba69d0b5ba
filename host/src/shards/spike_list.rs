//! [`SpikeList`]: spikes rewritten every block in storage kept from block to block (a
//! spike holds its waveform in place), so a block that brings no more spikes than an
//! earlier one copies them without allocating.

use crate::events::SpikeOut;

#[derive(Debug, Default)]
pub(crate) struct SpikeList(Vec<SpikeOut>);

impl SpikeList {
    /// Empties the list; its storage stays.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn as_slice(&self) -> &[SpikeOut] {
        &self.0
    }

    pub fn as_mut_slice(&mut self) -> &mut [SpikeOut] {
        &mut self.0
    }

    /// Appends a copy of `spike` whose channel is `channel_offset` further on (a shard's
    /// channel made the stream's).
    pub fn push(&mut self, spike: &SpikeOut, channel_offset: u32) {
        self.0.push(SpikeOut { channel: spike.channel + channel_offset, ..spike.clone() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spike(sample_number: i64, waveform: Option<f32>) -> SpikeOut {
        SpikeOut { sample_number, channel: 1, sorted_id: 2, waveform: waveform.map(|v| [v; 40]) }
    }

    #[test]
    fn a_refilled_list_holds_the_new_spikes_with_their_channels_moved() {
        let mut list = SpikeList::default();
        list.push(&spike(5, Some(1.0)), 0);
        list.push(&spike(6, None), 0);
        list.clear();
        list.push(&spike(7, None), 10);
        list.push(&spike(8, Some(3.0)), 10);
        let expected = [SpikeOut { channel: 11, ..spike(7, None) }, SpikeOut { channel: 11, ..spike(8, Some(3.0)) }];
        assert_eq!(list.as_slice(), &expected[..]);
    }

    #[test]
    fn refilling_with_no_more_spikes_keeps_the_storage() {
        let mut list = SpikeList::default();
        list.push(&spike(1, Some(1.0)), 0);
        list.push(&spike(2, None), 0);
        let storage = list.as_slice().as_ptr();
        list.clear();
        list.push(&spike(3, None), 0);
        list.push(&spike(4, Some(2.0)), 0);
        assert_eq!(list.as_slice().as_ptr(), storage);
        assert_eq!(list.as_slice()[1].waveform, Some([2.0; 40]));
    }
}
