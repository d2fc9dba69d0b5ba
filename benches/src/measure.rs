//! How a step is timed: head to head against native CPython, or once after an idle pause.

use std::time::{Duration, Instant};

use crate::median;

/// Rounds of each contender in [`head_to_head`]; the median round is reported.
const ROUNDS: usize = 7;
/// Samples of [`after_idle`].
const IDLE_SAMPLES: usize = 40;
/// The pause before each [`after_idle`] step: an audio callback's period at 1024 frames
/// and 44.1 kHz, with the CPU left to other work in between.
pub const IDLE: Duration = Duration::from_millis(23);

/// Median over rounds of the mean time of one step, for two contenders run alternately, so
/// a noisy neighbour slows both sides alike.
pub fn head_to_head(mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (Duration, Duration) {
    let per_round = |step: &mut dyn FnMut()| {
        for _ in 0..5 {
            step(); // warm caches and the guest's buffers
        }
        let mut n = 0u32;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(150) || n < 5 {
            step();
            n += 1;
        }
        start.elapsed() / n
    };
    let rounds: Vec<(Duration, Duration)> = (0..ROUNDS).map(|_| (per_round(&mut ours), per_round(&mut theirs))).collect();
    (median(rounds.iter().map(|r| r.0)), median(rounds.iter().map(|r| r.1)))
}

/// Median time of one `step` run after [`IDLE`] of sleep each time, as an audio callback
/// sees a block: caches and clocks cold.
pub fn after_idle(mut step: impl FnMut()) -> Duration {
    median((0..IDLE_SAMPLES).map(|_| {
        std::thread::sleep(IDLE);
        let start = Instant::now();
        step();
        start.elapsed()
    }))
}
