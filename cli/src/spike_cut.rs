//! Cutting waveforms for spikes the script emitted without one: 8 samples before the peak
//! and 32 from it on, from the *processed* data, across block edges.

use ndarray::{Array2, ArrayView2};

use pyproc_host::{SpikeOut, SPIKE_PRE_SAMPLES, SPIKE_SAMPLES};

/// A spike with its complete waveform.
#[derive(Debug, Clone, PartialEq)]
pub struct CutSpike {
    pub sample_number: i64,
    pub channel: u32,
    pub sorted_id: u16,
    pub waveform: [f32; SPIKE_SAMPLES],
}

/// Keeps the last few processed samples and the spikes still waiting for later samples.
#[derive(Debug)]
pub struct SpikeCutter {
    /// The last SPIKE_PRE_SAMPLES processed samples per channel (zeros before the start).
    history: Array2<f32>,
    pending: Vec<Pending>,
}

#[derive(Debug)]
struct Pending {
    spike: CutSpike,
    /// Waveform samples filled so far (from the start).
    filled: usize,
}

impl SpikeCutter {
    pub fn new(channels: usize) -> Self {
        SpikeCutter { history: Array2::zeros((channels, SPIKE_PRE_SAMPLES)), pending: Vec::new() }
    }

    /// Takes a processed block and the spikes emitted for it; returns the spikes whose
    /// waveforms are now complete (spikes with their own waveform at once).
    pub fn push(&mut self, block: ArrayView2<'_, f32>, first_sample: i64, spikes: &[SpikeOut]) -> Vec<CutSpike> {
        let mut done = Vec::new();
        for spike in spikes {
            let mut cut = CutSpike { sample_number: spike.sample_number, channel: spike.channel, sorted_id: spike.sorted_id, waveform: [0.0; SPIKE_SAMPLES] };
            match &spike.waveform {
                Some(w) => {
                    cut.waveform.copy_from_slice(&w[..SPIKE_SAMPLES]);
                    done.push(cut);
                }
                None => {
                    // The part before this block comes from the history.
                    let start = spike.sample_number - SPIKE_PRE_SAMPLES as i64;
                    let c = spike.channel as usize;
                    let mut filled = 0;
                    while filled < SPIKE_SAMPLES && start + (filled as i64) < first_sample {
                        let back = (first_sample - start - filled as i64) as usize; // 1..=PRE
                        if back <= SPIKE_PRE_SAMPLES {
                            cut.waveform[filled] = self.history[[c, SPIKE_PRE_SAMPLES - back]];
                        }
                        filled += 1;
                    }
                    self.pending.push(Pending { spike: cut, filled });
                }
            }
        }
        let n = block.ncols() as i64;
        let mut still = Vec::new();
        for mut p in self.pending.drain(..) {
            let start = p.spike.sample_number - SPIKE_PRE_SAMPLES as i64;
            let c = p.spike.channel as usize;
            while p.filled < SPIKE_SAMPLES {
                let at = start + p.filled as i64 - first_sample;
                if at >= n {
                    break;
                }
                if at >= 0 {
                    p.spike.waveform[p.filled] = block[[c, at as usize]];
                }
                p.filled += 1;
            }
            if p.filled == SPIKE_SAMPLES {
                done.push(p.spike);
            } else {
                still.push(p);
            }
        }
        self.pending = still;
        self.remember(block);
        done
    }

    /// The spikes still waiting when the stream ends, their missing samples zero.
    pub fn finish(self) -> Vec<CutSpike> {
        self.pending.into_iter().map(|p| p.spike).collect()
    }

    fn remember(&mut self, block: ArrayView2<'_, f32>) {
        let n = block.ncols();
        let keep = SPIKE_PRE_SAMPLES.min(n);
        let mut next = Array2::zeros(self.history.raw_dim());
        let old = SPIKE_PRE_SAMPLES - keep;
        next.slice_mut(ndarray::s![.., ..old]).assign(&self.history.slice(ndarray::s![.., keep..]));
        next.slice_mut(ndarray::s![.., old..]).assign(&block.slice(ndarray::s![.., n - keep..]));
        self.history = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_near_the_end_of_a_block_waits_for_the_next_one() {
        let mut cutter = SpikeCutter::new(1);
        let block = Array2::from_shape_fn((1, 100), |(_, s)| s as f32);
        let spike = SpikeOut { sample_number: 90, channel: 0, sorted_id: 0, waveform: None };
        assert!(cutter.push(block.view(), 0, &[spike]).is_empty(), "needs samples up to 121");
        let next = Array2::from_shape_fn((1, 100), |(_, s)| (100 + s) as f32);
        let done = cutter.push(next.view(), 100, &[]);
        assert_eq!(done[0].waveform[0], 82.0, "8 samples before the peak at 90");
        assert_eq!(done[0].waveform[39], 121.0);
    }

    /// A 2-channel ramp: sample s of channel c is c * 10000 + s.
    fn ramp(start: usize, len: usize) -> Array2<f32> {
        Array2::from_shape_fn((2, len), |(c, s)| (c * 10_000 + start + s) as f32)
    }

    fn expected(channel: usize, peak: i64) -> Vec<f32> {
        (0..SPIKE_SAMPLES as i64).map(|k| (channel as i64 * 10_000 + peak - 8 + k) as f32).collect()
    }

    fn spike(sample_number: i64, channel: u32) -> SpikeOut {
        SpikeOut { sample_number, channel, sorted_id: 1, waveform: None }
    }

    #[test]
    fn waveforms_spanning_three_blocks_of_uneven_length_are_cut_exactly() {
        let mut cutter = SpikeCutter::new(2);
        let mut done = Vec::new();
        // Blocks 0..13, 13..20, 20..100: the spike at 17 needs 9..49.
        done.extend(cutter.push(ramp(0, 13).view(), 0, &[spike(10, 0)]));
        done.extend(cutter.push(ramp(13, 7).view(), 13, &[spike(17, 1)]));
        done.extend(cutter.push(ramp(20, 80).view(), 20, &[spike(20, 0), spike(60, 1)]));
        let by_peak = |p: i64| done.iter().find(|s| s.sample_number == p).unwrap().waveform.to_vec();
        assert_eq!(by_peak(10), expected(0, 10));
        assert_eq!(by_peak(17), expected(1, 17));
        assert_eq!(by_peak(20), expected(0, 20), "pre-peak samples come from the previous blocks");
        assert_eq!(by_peak(60), expected(1, 60));
        assert_eq!(done.len(), 4);
        assert!(cutter.finish().is_empty());
    }

    #[test]
    fn a_spike_at_the_very_start_has_zeros_before_the_recording() {
        let mut cutter = SpikeCutter::new(1);
        let block = Array2::from_elem((1, 64), 5.0f32);
        let done = cutter.push(block.view(), 1000, &[spike(1003, 0)]);
        assert_eq!(&done[0].waveform[..5], &[0.0; 5]);
        assert_eq!(&done[0].waveform[5..], &[5.0; 35]);
    }

    #[test]
    fn spikes_waiting_at_the_end_are_returned_zero_padded() {
        let mut cutter = SpikeCutter::new(1);
        assert!(cutter.push(Array2::from_elem((1, 20), 1.0f32).view(), 0, &[spike(15, 0)]).is_empty());
        let left = cutter.finish();
        // Starts at sample 7: samples 7..20 exist, 13 of them.
        assert_eq!(left[0].waveform[..13], [1.0; 13]);
        assert_eq!(left[0].waveform[13..], [0.0; 27]);
    }

    #[test]
    fn a_spike_with_its_own_waveform_is_returned_at_once() {
        let mut cutter = SpikeCutter::new(1);
        let own = SpikeOut { sample_number: 5, channel: 0, sorted_id: 3, waveform: Some([2.0; SPIKE_SAMPLES]) };
        let done = cutter.push(Array2::zeros((1, 4)).view(), 0, &[own]);
        assert_eq!(done[0].waveform, [2.0; SPIKE_SAMPLES]);
        assert_eq!(done[0].sorted_id, 3);
    }
}
