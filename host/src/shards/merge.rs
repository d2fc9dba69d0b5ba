//! Putting the shards' emitted events and spikes back into one stream: in sample order,
//! a tie going to the shard with the lower channels (then to the order the script emitted
//! them), so the merged output does not depend on which thread finished first.

use crate::events::{SpikeOut, TtlEvent};

/// Appends each shard's events, in shard order, to `into` and sorts them by sample
/// number. The sort is stable: equal sample numbers keep shard order, then emission order.
pub(crate) fn merge_events<'a>(into: &mut Vec<TtlEvent>, shards: impl Iterator<Item = &'a [TtlEvent]>) {
    into.clear();
    for events in shards {
        into.extend_from_slice(events);
    }
    // Usually in order already (one shard, or shards that emitted nothing out of order):
    // then the stable sort, which may allocate its buffer, is skipped.
    if !into.is_sorted_by_key(|e| e.sample_number) {
        into.sort_by_key(|e| e.sample_number);
    }
}

/// As [`merge_events`], for spikes (whose channels each shard already made stream-wide).
pub(crate) fn merge_spikes<'a>(into: &mut Vec<SpikeOut>, shards: impl Iterator<Item = &'a mut Vec<SpikeOut>>) {
    into.clear();
    for spikes in shards {
        into.append(spikes);
    }
    if !into.is_sorted_by_key(|s| s.sample_number) {
        into.sort_by_key(|s| s.sample_number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(sample_number: i64, line: u8) -> TtlEvent {
        TtlEvent { sample_number, line, state: true }
    }

    #[test]
    fn events_come_out_in_sample_order_with_ties_in_shard_order() {
        let first = [event(10, 0), event(30, 1)];
        let second = [event(5, 2), event(10, 3), event(30, 4)];
        let mut merged = Vec::new();
        merge_events(&mut merged, [&first[..], &second[..]].into_iter());
        let lines: Vec<u8> = merged.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 0, 3, 1, 4]);
    }

    #[test]
    fn spikes_come_out_in_sample_order_with_ties_in_shard_order() {
        let spike = |sample_number, channel| SpikeOut { sample_number, channel, sorted_id: 0, waveform: None };
        let mut shards = vec![vec![spike(7, 0), spike(9, 1)], vec![spike(7, 4), spike(2, 5)]];
        let mut merged = Vec::new();
        merge_spikes(&mut merged, shards.iter_mut());
        let channels: Vec<u32> = merged.iter().map(|s| s.channel).collect();
        assert_eq!(channels, vec![5, 0, 4, 1]);
        assert!(shards.iter().all(Vec::is_empty));
    }
}
