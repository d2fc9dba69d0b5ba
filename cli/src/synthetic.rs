//! A deterministic synthetic recording: noise, a slow oscillation, spikes from a few units
//! and TTL pulses, generated block by block so any length fits in constant memory.
//!
//! Same settings and seed, same samples, on every machine (ChaCha8 is portable).

use ndarray::{s, Array2};
use rand::{RngExt as _, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Samples before and after a spike's peak in its waveform (as the GUI's spike detector).
pub const PRE_PEAK: usize = 8;
pub const POST_PEAK: usize = 32;
const SPIKE_LEN: usize = PRE_PEAK + POST_PEAK;
/// Channels per electrode (tetrodes).
pub const ELECTRODE_CHANNELS: usize = 4;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub channels: usize,
    pub sample_rate: f64,
    pub seconds: f64,
    pub block_size: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { channels: 64, sample_rate: 30_000.0, seconds: 10.0, block_size: 1024, seed: 1 }
    }
}

/// One TTL edge of the synthetic pulse train.
#[derive(Debug, Clone, PartialEq)]
pub struct TtlEdge {
    pub sample_number: i64,
    pub line: u8,
    pub state: bool,
}

/// A spike with the waveform on its electrode's channels.
#[derive(Debug, Clone)]
pub struct Spike {
    pub sample_number: i64,
    pub electrode: usize,
    pub unit: i64,
    pub waveform: Array2<f32>,
}

/// One block and what happened during it.
#[derive(Debug)]
pub struct Block {
    pub first_sample: i64,
    pub data: Array2<f32>,
    pub ttl: Vec<TtlEdge>,
    pub spikes: Vec<Spike>,
}

/// TTL line 0: 100 ms pulses once a second.
const TTL_PERIOD_S: f64 = 1.0;
const TTL_WIDTH_S: f64 = 0.1;
const NOISE_UV: f64 = 10.0;
const LFP_UV: f32 = 50.0;
const LFP_HZ: f32 = 8.0;
const UNITS_PER_ELECTRODE: usize = 2;
const FIRING_HZ: f64 = 5.0;

pub struct SyntheticStream {
    settings: Settings,
    total: usize,
    next: usize,
    rng: ChaCha8Rng,
    noise: Normal<f64>,
    /// Spikes whose waveform reaches past the current block, to finish in the next.
    carried: Vec<(usize, Spike)>,
}

impl SyntheticStream {
    pub fn new(settings: Settings) -> Self {
        SyntheticStream {
            settings,
            total: (settings.seconds * settings.sample_rate).round() as usize,
            next: 0,
            rng: ChaCha8Rng::seed_from_u64(settings.seed),
            noise: Normal::new(0.0, NOISE_UV).expect("finite noise level"),
            carried: Vec::new(),
        }
    }

    pub fn total_samples(&self) -> usize {
        self.total
    }

    fn electrodes(&self) -> usize {
        self.settings.channels / ELECTRODE_CHANNELS
    }

    fn ttl_edges(&self, start: usize, end: usize) -> Vec<TtlEdge> {
        let rate = self.settings.sample_rate;
        let period = (TTL_PERIOD_S * rate).round() as usize;
        let width = (TTL_WIDTH_S * rate).round() as usize;
        let mut edges = Vec::new();
        let mut pulse = start / period;
        while pulse * period < end {
            for (at, state) in [(pulse * period + period / 4, true), (pulse * period + period / 4 + width, false)] {
                if (start..end).contains(&at) {
                    edges.push(TtlEdge { sample_number: at as i64, line: 0, state });
                }
            }
            pulse += 1;
        }
        edges.sort_by_key(|e| e.sample_number);
        edges
    }

    /// A unit's waveform: a negative peak with a slower positive rebound, sized per channel.
    fn waveform(unit: usize) -> Array2<f32> {
        Array2::from_shape_fn((ELECTRODE_CHANNELS, SPIKE_LEN), |(c, s)| {
            let t = s as f32 - PRE_PEAK as f32;
            let gain = 1.0 - 0.2 * ((c + unit) % ELECTRODE_CHANNELS) as f32;
            let peak = -(120.0 + 40.0 * unit as f32) * (-(t * t) / 4.0).exp();
            let rebound = 30.0 * (-((t - 8.0) * (t - 8.0)) / 40.0).exp();
            gain * (peak + rebound)
        })
    }
}

impl Iterator for SyntheticStream {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        if self.next >= self.total {
            return None;
        }
        let start = self.next;
        let end = (start + self.settings.block_size).min(self.total);
        let n = end - start;
        self.next = end;
        let rate = self.settings.sample_rate as f32;
        let mut data = Array2::from_shape_fn((self.settings.channels, n), |(c, s)| {
            let t = (start + s) as f32 / rate;
            LFP_UV * (2.0 * std::f32::consts::PI * LFP_HZ * t + c as f32 * 0.1).sin()
        });
        for v in data.iter_mut() {
            *v += self.noise.sample(&mut self.rng) as f32;
        }
        // Finish waveforms that started in the previous block.
        for (done, spike) in std::mem::take(&mut self.carried) {
            self.add_waveform(&mut data, start, &spike, done);
        }
        let p = FIRING_HZ / self.settings.sample_rate;
        let mut spikes = Vec::new();
        for s in 0..n {
            for electrode in 0..self.electrodes() {
                for unit in 0..UNITS_PER_ELECTRODE {
                    if self.rng.random::<f64>() < p {
                        let peak = start + s;
                        let spike = Spike { sample_number: peak as i64, electrode, unit: unit as i64 + 1, waveform: Self::waveform(unit) };
                        spikes.push(spike);
                    }
                }
            }
        }
        for spike in &spikes {
            let first = spike.sample_number as usize - PRE_PEAK.min(spike.sample_number as usize);
            if first >= start {
                self.add_waveform(&mut data, start, spike, 0);
            }
        }
        Some(Block { first_sample: start as i64, data, ttl: self.ttl_edges(start, end), spikes })
    }
}

impl SyntheticStream {
    /// Adds `spike`'s waveform from its sample `from` on, carrying what does not fit.
    fn add_waveform(&mut self, data: &mut Array2<f32>, block_start: usize, spike: &Spike, from: usize) {
        let first = spike.sample_number as usize - PRE_PEAK.min(spike.sample_number as usize) + from;
        let offset = first - block_start;
        let fit = (SPIKE_LEN - from).min(data.ncols().saturating_sub(offset));
        let rows = spike.electrode * ELECTRODE_CHANNELS..(spike.electrode + 1) * ELECTRODE_CHANNELS;
        let mut target = data.slice_mut(s![rows, offset..offset + fit]);
        target += &spike.waveform.slice(s![.., from..from + fit]);
        if from + fit < SPIKE_LEN {
            self.carried.push((from + fit, spike.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Settings {
        Settings { channels: 8, sample_rate: 30_000.0, seconds: 2.0, block_size: 1000, seed: 7 }
    }

    #[test]
    fn the_same_seed_gives_the_same_samples() {
        let a: Vec<_> = SyntheticStream::new(small()).map(|b| b.data).collect();
        let b: Vec<_> = SyntheticStream::new(small()).map(|b| b.data).collect();
        assert_eq!(a, b);
        let c: Vec<_> = SyntheticStream::new(Settings { seed: 8, ..small() }).map(|b| b.data).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn blocks_cover_every_sample_once_with_a_short_last_block() {
        let s = Settings { seconds: 0.1, block_size: 1024, ..small() };
        let blocks: Vec<_> = SyntheticStream::new(s).collect();
        let lens: Vec<_> = blocks.iter().map(|b| b.data.ncols()).collect();
        assert_eq!(lens.iter().sum::<usize>(), 3000);
        assert_eq!(*lens.last().unwrap(), 3000 % 1024);
        let starts: Vec<_> = blocks.iter().map(|b| b.first_sample).collect();
        assert_eq!(starts, [0, 1024, 2048]);
    }

    #[test]
    fn ttl_pulses_are_100_ms_once_a_second_and_spikes_arrive_at_about_the_firing_rate() {
        let blocks: Vec<_> = SyntheticStream::new(small()).collect();
        let edges: Vec<_> = blocks.iter().flat_map(|b| b.ttl.clone()).collect();
        let at: Vec<_> = edges.iter().map(|e| (e.sample_number, e.state)).collect();
        assert_eq!(at, [(7500, true), (10500, false), (37500, true), (40500, false)]);
        let spikes: usize = blocks.iter().map(|b| b.spikes.len()).sum();
        // 2 electrodes x 2 units x 5 Hz x 2 s = 40 expected.
        assert!((20..=60).contains(&spikes), "{spikes} spikes");
    }

    #[test]
    fn a_spike_on_a_block_edge_is_drawn_across_both_blocks() {
        let mut stream = SyntheticStream::new(Settings { channels: 4, ..small() });
        let spike = Spike { sample_number: 995, electrode: 0, unit: 1, waveform: SyntheticStream::waveform(0) };
        let mut first = Array2::zeros((4, 1000)); // samples 0..1000
        stream.add_waveform(&mut first, 0, &spike, 0);
        let mut second = Array2::zeros((4, 1000)); // samples 1000..2000
        for (done, carried) in std::mem::take(&mut stream.carried) {
            stream.add_waveform(&mut second, 1000, &carried, done);
        }
        // The waveform starts PRE_PEAK before the peak: 987..1000 here, 1000..1027 there.
        let joined = ndarray::concatenate![ndarray::Axis(1), first.slice(s![.., 987..]), second.slice(s![.., ..27])];
        assert_eq!(joined, spike.waveform);
        assert!(second.slice(s![.., 27..]).iter().all(|v| *v == 0.0));
    }
}
