//! One line of the benchmark's results, as data: what was run and what it cost, in which
//! unit. The printers in `report.rs` turn rows into a table or into JSON.

use std::time::Duration;

/// The unit of a row's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Micros,
    Millis,
    MiB,
    BlocksPerSecond,
    FramesPerSecond,
}

impl Unit {
    /// The suffix of the JSON keys (`pyproc_us`) and the table's unit.
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Micros => "us",
            Unit::Millis => "ms",
            Unit::MiB => "mib",
            Unit::BlocksPerSecond => "blocks_per_s",
            Unit::FramesPerSecond => "frames_per_s",
        }
    }

    /// How the table writes the unit.
    pub fn label(self) -> &'static str {
        match self {
            Unit::Micros => "µs",
            Unit::Millis => "ms",
            Unit::MiB => "MiB",
            Unit::BlocksPerSecond => "blk/s",
            Unit::FramesPerSecond => "fig/s",
        }
    }

    /// Whether a larger figure is better (a throughput) rather than worse (a cost).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::BlocksPerSecond | Unit::FramesPerSecond)
    }
}

/// What a row measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Figures {
    /// pyproc and native CPython on the same workload, in the same run.
    Versus { pyproc: f64, native: f64 },
    /// One figure with nothing native to compare against (a floor, pyproc's memory).
    Alone(f64),
    /// pyproc beside another program doing the same job's share (`cp -r` of the files a
    /// run reads and writes), named in `baseline`.
    Beside { pyproc: f64, baseline: f64, name: &'static str },
}

/// One result line.
///
/// ```
/// use std::time::Duration;
/// use pyproc_benches::row::Row;
/// let row = Row::versus_time("pass-through, 1 ch", Duration::from_micros(3), Duration::from_micros(1));
/// assert_eq!(row.ratio(), Some(3.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub workload: String,
    pub unit: Unit,
    pub figures: Figures,
}

impl Row {
    /// pyproc's and native CPython's time for one step of `workload`, in microseconds.
    pub fn versus_time(workload: impl Into<String>, pyproc: Duration, native: Duration) -> Row {
        Row::versus(workload, Unit::Micros, micros(pyproc), micros(native))
    }

    pub fn versus(workload: impl Into<String>, unit: Unit, pyproc: f64, native: f64) -> Row {
        Row { workload: workload.into(), unit, figures: Figures::Versus { pyproc, native } }
    }

    /// pyproc's figure beside `name`'s (not native CPython's) for the same job.
    pub fn beside(workload: impl Into<String>, unit: Unit, pyproc: f64, name: &'static str, baseline: f64) -> Row {
        Row { workload: workload.into(), unit, figures: Figures::Beside { pyproc, baseline, name } }
    }

    pub fn alone(workload: impl Into<String>, unit: Unit, value: f64) -> Row {
        Row { workload: workload.into(), unit, figures: Figures::Alone(value) }
    }

    /// How many times the baseline's (native's) cost pyproc's is: pyproc / baseline for a
    /// cost, baseline / pyproc for a throughput, so lower is better in every row. `None`
    /// without a baseline.
    pub fn ratio(&self) -> Option<f64> {
        let (pyproc, baseline) = match self.figures {
            Figures::Versus { pyproc, native } => (pyproc, native),
            Figures::Beside { pyproc, baseline, .. } => (pyproc, baseline),
            Figures::Alone(_) => return None,
        };
        Some(if self.unit.higher_is_better() { baseline / pyproc.max(f64::MIN_POSITIVE) } else { pyproc / baseline.max(f64::MIN_POSITIVE) })
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throughput_ratio_is_lower_when_pyproc_is_faster() {
        let row = Row::versus("parallel", Unit::BlocksPerSecond, 200.0, 100.0);
        assert_eq!(row.ratio(), Some(0.5));
    }

    #[test]
    fn a_figure_alone_has_no_ratio() {
        assert_eq!(Row::alone("floor", Unit::Micros, 5.0).ratio(), None);
    }
}
