//! Putting the shards' emitted events and spikes back into one stream: in sample order,
//! a tie going to the shard with the lower channels (then to the order the script emitted
//! them), so the merged output does not depend on which thread finished first. Nothing
//! here allocates once the buffers have grown to what a block brings.

use crate::events::TtlEvent;
use crate::shards::spike_list::SpikeList;

/// Appends each shard's events, in shard order, to `into` and sorts them by sample
/// number, stably: equal sample numbers keep shard order, then emission order.
pub(crate) fn merge_events<'a>(into: &mut Vec<TtlEvent>, shards: impl Iterator<Item = &'a [TtlEvent]>, scratch: &mut Vec<(i64, usize)>) {
    into.clear();
    for events in shards {
        into.extend_from_slice(events);
    }
    sort_by_sample(into, |e| e.sample_number, scratch);
}

/// As [`merge_events`], for spikes (whose channels each shard already made stream-wide).
pub(crate) fn merge_spikes<'a>(into: &mut SpikeList, shards: impl Iterator<Item = &'a SpikeList>, scratch: &mut Vec<(i64, usize)>) {
    into.clear();
    for spikes in shards {
        for spike in spikes.as_slice() {
            into.push(spike, 0);
        }
    }
    sort_by_sample(into.as_mut_slice(), |s| s.sample_number, scratch);
}

/// A stable sort by `key` that allocates only to grow `scratch`: the standard stable sort
/// may allocate a buffer every time. The (key, position) pairs are unique, so sorting
/// them unstably (in place) gives the stable order, which is then applied by swaps.
fn sort_by_sample<T>(items: &mut [T], key: impl Fn(&T) -> i64, scratch: &mut Vec<(i64, usize)>) {
    // Usually in order already (one shard, or shards that emitted nothing out of order).
    if items.is_sorted_by_key(&key) {
        return;
    }
    scratch.clear();
    scratch.extend(items.iter().enumerate().map(|(i, item)| (key(item), i)));
    scratch.sort_unstable();
    // `scratch[k].1`: where the item that goes to `k` is now. Each cycle of that
    // permutation is walked once, carrying the cycle's first item along; a placed
    // position is marked with usize::MAX.
    for start in 0..items.len() {
        let mut k = start;
        while scratch[k].1 != usize::MAX {
            let from = std::mem::replace(&mut scratch[k].1, usize::MAX);
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::SpikeOut;

    fn event(sample_number: i64, line: u8) -> TtlEvent {
        TtlEvent { sample_number, line, state: true }
    }

    #[test]
    fn events_come_out_in_sample_order_with_ties_in_shard_order() {
        let first = [event(10, 0), event(30, 1)];
        let second = [event(5, 2), event(10, 3), event(30, 4)];
        let mut merged = Vec::new();
        merge_events(&mut merged, [&first[..], &second[..]].into_iter(), &mut Vec::new());
        let lines: Vec<u8> = merged.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 0, 3, 1, 4]);
    }

    #[test]
    fn spikes_come_out_in_sample_order_with_ties_in_shard_order() {
        let spike = |sample_number, channel| SpikeOut { sample_number, channel, sorted_id: 0, waveform: Some([channel as f32; 40]) };
        let mut shards = [SpikeList::default(), SpikeList::default()];
        for s in [spike(7, 0), spike(9, 1)] {
            shards[0].push(&s, 0);
        }
        for s in [spike(7, 4), spike(2, 5)] {
            shards[1].push(&s, 0);
        }
        let mut merged = SpikeList::default();
        merge_spikes(&mut merged, shards.iter(), &mut Vec::new());
        let channels: Vec<u32> = merged.as_slice().iter().map(|s| s.channel).collect();
        assert_eq!(channels, vec![5, 0, 4, 1]);
        assert!(merged.as_slice().iter().all(|s| s.waveform == Some([s.channel as f32; 40])), "each waveform moved with its spike");
    }

    #[test]
    fn the_sort_is_the_standard_stable_sort() {
        // Every arrangement of a few keys with repeats, against `sort_by_key`.
        let mut scratch = Vec::new();
        for seed in 0..2000u64 {
            let items: Vec<(i64, u64)> = (0..(seed % 9)).map(|i| ((seed.wrapping_mul(2654435761).rotate_left(i as u32 * 7) % 5) as i64, i)).collect();
            let mut ours = items.clone();
            sort_by_sample(&mut ours, |x| x.0, &mut scratch);
            let mut standard = items;
            standard.sort_by_key(|x| x.0);
            assert_eq!(ours, standard);
        }
    }
}
