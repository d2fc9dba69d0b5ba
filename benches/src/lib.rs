//! Baselines for pyproc's benchmarks, measured in the same run as pyproc itself, and the
//! `pyproc-bench` table.
//!
//! [`native`]: the approach of the original Open Ephys Python Processor — CPython embedded
//! in the host process (here through pyo3; the plugin uses pybind11), numpy and scipy from
//! a virtual environment, one `PyProcessor.process(data)` call per block on a fresh numpy
//! array, with the block copied in and out.
//!
//! The bench's own setup makes the environment: on first use `native::ensure_venv` runs
//! `python3 -m venv target/native-baseline-venv` and `pip install numpy scipy` there.
//!
//! `pyproc-bench` is thin glue over the rest: [`workloads`] measure and make [`row::Row`]s,
//! a [`report::Report`] prints them as a table or JSON, a [`selection::Selection`] says
//! which rows a run wants, [`measure`] times steps, [`bench::Bench`] ties a run together.

pub mod bench;
pub mod measure;
pub mod native;
pub mod report;
pub mod row;
pub mod selection;
pub mod workloads;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Times `iters` calls of `step` for criterion's `iter_custom`, and keeps the mean per call
/// in `mean` for the ratio table each bench prints.
pub fn timed(iters: u64, mean: &mut Duration, mut step: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        step();
    }
    let elapsed = start.elapsed();
    *mean = elapsed / iters.max(1) as u32;
    elapsed
}

/// Microseconds, for the tables.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The median of `times`, to three significant digits and at most an hour (zero when there
/// are none).
pub fn median(times: impl IntoIterator<Item = Duration>) -> Duration {
    let hour = Duration::from_secs(3600).as_nanos() as u64;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, hour, 3).expect("1 ns to an hour at 3 digits is a valid histogram");
    for t in times {
        histogram.saturating_record(t.as_nanos().try_into().unwrap_or(u64::MAX));
    }
    Duration::from_nanos(histogram.value_at_quantile(0.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_time_whatever_the_order() {
        let times = [7, 1, 6, 2, 5, 3, 4].map(Duration::from_millis);
        let m = median(times);
        assert!(m.abs_diff(Duration::from_millis(4)) <= Duration::from_micros(4), "{m:?}");
    }
}
