//! What `pyproc compare` found: per channel the largest difference between the two sides'
//! output, the TTL events that differ, and what either side raised.

use std::fmt;

/// Two outputs agree when every value is within this many float32 steps (units in the last
/// place) of the other side's: the rounding two numpy/scipy builds may differ by.
pub const TOLERANCE_ULPS: f32 = 8.0;

/// The largest difference seen on one channel.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelDifference {
    pub max_uv: f32,
    /// Values beyond [`TOLERANCE_ULPS`], and where the first was (block, sample number).
    pub beyond: u64,
    pub first_beyond: Option<(usize, i64)>,
}

/// One TTL event in a side's output: (sample number, line, state).
pub type Event = (i64, u8, bool);

/// One spike a side emitted with `add_python_spike`; `waveform` only when the script gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    pub sample_number: i64,
    pub channel: u32,
    pub sorted_id: u16,
    pub waveform: Option<Vec<f32>>,
}

/// A block whose events or spikes out differ.
#[derive(Debug, Clone)]
pub struct EventDifference {
    pub block: usize,
    pub pyproc: Vec<Event>,
    pub native: Vec<Event>,
    pub pyproc_spikes: Vec<Spike>,
    pub native_spikes: Vec<Spike>,
}

#[derive(Debug, Clone)]
pub struct Exception {
    pub side: &'static str,
    pub callback: String,
    /// The block it happened in, if it was one's.
    pub block: Option<usize>,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Comparison {
    pub script: String,
    pub input: String,
    pub native: String,
    pub bit_volts: Vec<f64>,
    pub channels: Vec<ChannelDifference>,
    pub blocks: usize,
    /// Blocks whose output was compared (neither side raised in them).
    pub compared_blocks: usize,
    pub events_equal: usize,
    pub spikes_equal: usize,
    /// Blocks whose events or spikes differ; the first few in `event_differences`.
    pub blocks_with_event_differences: usize,
    pub event_differences: Vec<EventDifference>,
    pub exceptions: Vec<Exception>,
}

/// At most this many event differences and exceptions are listed in the report.
const LISTED: usize = 5;

/// Below a ten-thousandth of the recording's step (its `bit_volts`) a difference is not
/// one: it cannot change a recorded value, and values near zero have no relative scale.
const FLOOR_STEPS: f64 = 1e-4;

impl Comparison {
    pub fn new(channels: usize, bit_volts: Vec<f64>) -> Comparison {
        Comparison { channels: vec![ChannelDifference::default(); channels], bit_volts, ..Default::default() }
    }

    /// Adds one block's outputs (channels x samples, row by row).
    pub fn data(&mut self, block: usize, first_sample: i64, samples: usize, pyproc: &[f32], native: &[f32]) {
        self.compared_blocks += 1;
        let rows = pyproc.chunks_exact(samples).zip(native.chunks_exact(samples));
        for ((channel, (ours, theirs)), bit_volts) in self.channels.iter_mut().zip(rows).zip(&self.bit_volts) {
            let floor = (FLOOR_STEPS * bit_volts) as f32;
            for (s, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
                let d = difference(a, b);
                if d > channel.max_uv {
                    channel.max_uv = d;
                }
                if !within_rounding(a, b, floor) {
                    channel.beyond += 1;
                    channel.first_beyond.get_or_insert((block, first_sample + s as i64));
                }
            }
        }
    }

    /// Adds one block's TTL events and spikes out; their order within a sample number does
    /// not count, and given waveforms agree within float32 rounding.
    pub fn events(&mut self, block: usize, mut pyproc: Vec<Event>, mut native: Vec<Event>, mut pyproc_spikes: Vec<Spike>, mut native_spikes: Vec<Spike>) {
        pyproc.sort_unstable();
        native.sort_unstable();
        let key = |s: &Spike| (s.sample_number, s.channel, s.sorted_id);
        pyproc_spikes.sort_by_key(key);
        native_spikes.sort_by_key(key);
        let same_spikes = pyproc_spikes.len() == native_spikes.len()
            && pyproc_spikes.iter().zip(&native_spikes).all(|(a, b)| {
                key(a) == key(b)
                    && match (&a.waveform, &b.waveform) {
                        (None, None) => true,
                        (Some(x), Some(y)) => x.len() == y.len() && x.iter().zip(y).all(|(&p, &q)| within_rounding(p, q, 0.0)),
                        _ => false,
                    }
            });
        if pyproc == native && same_spikes {
            self.events_equal += pyproc.len();
            self.spikes_equal += pyproc_spikes.len();
            return;
        }
        self.blocks_with_event_differences += 1;
        if self.event_differences.len() < LISTED {
            self.event_differences.push(EventDifference { block, pyproc, native, pyproc_spikes, native_spikes });
        }
    }

    pub fn raised(&mut self, side: &'static str, callback: &str, block: Option<usize>, text: String) {
        self.exceptions.push(Exception { side, callback: callback.to_owned(), block, text });
    }

    /// Whether the two sides agree: every output within float32 rounding, the same
    /// events, and the same exceptions (type and place) if any.
    pub fn agree(&self) -> bool {
        let same_exceptions = {
            let key = |side| self.exceptions.iter().filter(|e| e.side == side).map(|e| (e.callback.as_str(), e.block, exception_type(&e.text))).collect::<Vec<_>>();
            key(PYPROC) == key(NATIVE)
        };
        self.channels.iter().all(|c| c.beyond == 0) && self.blocks_with_event_differences == 0 && same_exceptions
    }
}

pub const PYPROC: &str = "pyproc";
pub const NATIVE: &str = "native";

fn difference(a: f32, b: f32) -> f32 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0.0,
        (false, false) => (a - b).abs(),
        _ => f32::INFINITY,
    }
}

/// Whether `a` and `b` are within [`TOLERANCE_ULPS`] of each other, or closer than `floor`.
fn within_rounding(a: f32, b: f32, floor: f32) -> bool {
    let d = difference(a, b);
    d <= floor || d <= TOLERANCE_ULPS * f32::EPSILON * a.abs().max(b.abs())
}

/// The exception's type, from the last line of its traceback ("ValueError: ...").
fn exception_type(text: &str) -> &str {
    let last = text.trim_end().lines().last().unwrap_or("");
    // pyproc's own message ("script.py:4: process raised ValueError: ...") names the
    // script's file and line first; the type follows "raised".
    let last = last.rsplit(" raised ").next().unwrap_or(last);
    last.split(':').next().unwrap_or(last).trim()
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "input       {}", self.input)?;
        writeln!(f, "native      {} (your Python, unsandboxed, called as the original plugin calls it)", self.native)?;
        writeln!(f, "blocks      {} ({} compared; blocks where a side raised are not)", self.blocks, self.compared_blocks)?;
        let differing: Vec<(usize, &ChannelDifference)> = self.channels.iter().enumerate().filter(|(_, c)| c.beyond > 0).collect();
        let (worst, largest) = self.channels.iter().enumerate().fold((0, 0.0f32), |(w, m), (c, d)| if d.max_uv > m { (c, d.max_uv) } else { (w, m) });
        let lsb = |c: usize, uv: f32| uv as f64 / self.bit_volts.get(c).copied().unwrap_or(1.0);
        if differing.is_empty() {
            writeln!(
                f,
                "output      agrees on all {} channels within float32 rounding (largest difference {largest:.3e} µV = {:.3e} LSB, channel {worst})",
                self.channels.len(),
                lsb(worst, largest)
            )?;
        } else {
            writeln!(f, "output      differs on {} of {} channels:", differing.len(), self.channels.len())?;
            for (c, d) in differing.iter().take(8) {
                let (block, sample) = d.first_beyond.expect("a channel beyond has a first place");
                writeln!(f, "  channel {c}: up to {:.4} µV ({:.2} LSB), {} values beyond rounding, the first in block {block} at sample {sample}", d.max_uv, lsb(*c, d.max_uv), d.beyond)?;
            }
            if differing.len() > 8 {
                writeln!(f, "  … and {} more channels", differing.len() - 8)?;
            }
        }
        if self.blocks_with_event_differences == 0 {
            writeln!(f, "events      the same {} TTL events and {} spikes out", self.events_equal, self.spikes_equal)?;
        } else {
            writeln!(f, "events      differ in {} blocks (elsewhere {} events and {} spikes agree); the first:", self.blocks_with_event_differences, self.events_equal, self.spikes_equal)?;
            for d in &self.event_differences {
                writeln!(f, "  block {}: pyproc {}; native {}", d.block, list(&d.pyproc), list(&d.native))?;
                if d.pyproc_spikes != d.native_spikes {
                    writeln!(f, "    spikes: pyproc {}; native {}", spikes(&d.pyproc_spikes), spikes(&d.native_spikes))?;
                }
            }
        }
        if self.exceptions.is_empty() {
            writeln!(f, "exceptions  none")?;
        } else {
            writeln!(f, "exceptions  {}:", self.exceptions.len())?;
            for e in self.exceptions.iter().take(LISTED) {
                let place = e.block.map(|b| format!(" in block {b}")).unwrap_or_default();
                writeln!(f, "  {} {}{place}:", e.side, e.callback)?;
                for line in e.text.trim_end().lines() {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        write!(f, "verdict     {}", if self.agree() { "the same (exit status 0)" } else { "different (exit status 2)" })
    }
}

fn list(events: &[Event]) -> String {
    if events.is_empty() {
        return "none".into();
    }
    events.iter().map(|(sample, line, state)| format!("line {line} {} at {sample}", if *state { "on" } else { "off" })).collect::<Vec<_>>().join(", ")
}

fn spikes(spikes: &[Spike]) -> String {
    if spikes.is_empty() {
        return "none".into();
    }
    spikes
        .iter()
        .map(|s| format!("channel {} at {} (unit {}{})", s.channel, s.sample_number, s.sorted_id, if s.waveform.is_some() { ", own waveform" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_agrees_and_a_real_difference_does_not() {
        let mut c = Comparison::new(2, vec![0.195, 0.195]);
        let a = [100.0f32, 0.0, 1.0, -5.0];
        let mut b = a;
        b[0] = f32::from_bits(a[0].to_bits() + 3); // 3 ulps
        b[1] = 1e-7; // below the floor
        c.data(0, 0, 2, &a, &b);
        assert!(c.agree(), "{c}");
        b[2] = 1.001;
        c.data(1, 2, 2, &a, &b);
        assert!(!c.agree());
        assert_eq!(c.channels[1].first_beyond, Some((1, 2)));
    }

    #[test]
    fn events_and_exceptions_count_towards_agreement() {
        let mut c = Comparison::new(1, vec![1.0]);
        c.events(0, vec![(0, 1, true), (0, 2, true)], vec![(0, 2, true), (0, 1, true)], vec![], vec![]);
        assert!(c.agree());
        c.raised(NATIVE, "process", Some(3), "Traceback ...\nValueError: boom".into());
        assert!(!c.agree(), "only one side raised");
        c.raised(PYPROC, "process", Some(3), "script.py:4: process raised ValueError: boom".into());
        assert!(c.agree(), "both raised the same, at the same place");
        c.events(1, vec![(100, 1, true)], vec![], vec![], vec![]);
        assert!(!c.agree());
        let mut d = Comparison::new(1, vec![1.0]);
        let spike = |waveform| Spike { sample_number: 7, channel: 0, sorted_id: 1, waveform };
        d.events(0, vec![], vec![], vec![spike(Some(vec![1.0, 2.0]))], vec![spike(Some(vec![1.0, 2.0 + f32::EPSILON]))]);
        assert!(d.agree(), "waveforms within rounding");
        d.events(1, vec![], vec![], vec![spike(None)], vec![spike(Some(vec![1.0]))]);
        assert!(!d.agree());
    }
}
