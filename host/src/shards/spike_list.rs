//! [`SpikeList`]: spikes rewritten every block, each slot keeping its waveform buffer for
//! the next block, so a block that brings no more spikes (and waveforms) than an earlier
//! one copies them without allocating.

use crate::events::SpikeOut;

#[derive(Debug, Default)]
pub(crate) struct SpikeList {
    /// The first `len` are the list; the slots after them keep their buffers for later.
    slots: Vec<SpikeOut>,
    len: usize,
    /// Waveform buffers of slots that now hold a spike without a waveform.
    spare: Vec<Vec<f32>>,
}

impl SpikeList {
    /// Empties the list; every buffer stays.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn as_slice(&self) -> &[SpikeOut] {
        &self.slots[..self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [SpikeOut] {
        &mut self.slots[..self.len]
    }

    /// Appends a copy of `spike` whose channel is `channel_offset` further on (a shard's
    /// channel made the stream's), into a slot's own buffers.
    pub fn push(&mut self, spike: &SpikeOut, channel_offset: u32) {
        let SpikeList { slots, len, spare } = self;
        if *len == slots.len() {
            slots.push(SpikeOut { sample_number: 0, channel: 0, sorted_id: 0, waveform: None });
        }
        let slot = &mut slots[*len];
        slot.sample_number = spike.sample_number;
        slot.channel = spike.channel + channel_offset;
        slot.sorted_id = spike.sorted_id;
        match (&mut slot.waveform, &spike.waveform) {
            // `clone_from` reuses the buffer it overwrites.
            (Some(to), Some(from)) => to.clone_from(from),
            (to @ None, Some(from)) => {
                let mut buffer = spare.pop().unwrap_or_default();
                buffer.clone_from(from);
                *to = Some(buffer);
            }
            (to @ Some(_), None) => spare.extend(to.take()),
            (None, None) => {}
        }
        *len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spike(sample_number: i64, waveform: Option<f32>) -> SpikeOut {
        SpikeOut { sample_number, channel: 1, sorted_id: 2, waveform: waveform.map(|v| vec![v; 40]) }
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
    fn refilling_with_no_more_waveforms_reuses_the_buffers() {
        let mut list = SpikeList::default();
        list.push(&spike(1, Some(1.0)), 0);
        list.push(&spike(2, None), 0);
        let buffer = list.as_slice()[0].waveform.as_ref().unwrap().as_ptr();
        // The waveform moves to the other slot: its buffer goes with it through the spares.
        list.clear();
        list.push(&spike(3, None), 0);
        list.push(&spike(4, Some(2.0)), 0);
        assert_eq!(list.as_slice()[1].waveform.as_ref().unwrap().as_ptr(), buffer);
        assert_eq!(list.as_slice()[1].waveform.as_deref(), Some(&[2.0; 40][..]));
        // A waveform in the same slot again: written into the same buffer.
        list.clear();
        list.push(&spike(5, None), 0);
        list.push(&spike(6, Some(4.0)), 0);
        assert_eq!(list.as_slice()[1].waveform.as_ref().unwrap().as_ptr(), buffer);
        assert_eq!(list.as_slice()[1].waveform.as_deref(), Some(&[4.0; 40][..]));
    }
}
