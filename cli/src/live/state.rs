//! What the live page shows: the newest figure, the run's progress, and whether it is over.

use std::sync::Arc;
use std::time::Duration;

use pyproc_host::Frame;
use serde::Serialize;

use crate::report::{LatencyJson, Report};

/// The run as the page sees it; each change raises `version`.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    pub version: u64,
    pub progress: Progress,
    pub frame: Option<ShownFrame>,
    pub viewer_errors: usize,
    /// The first line of the last viewer error.
    pub last_viewer_error: Option<String>,
    /// None while the run goes; "finished" or "interrupted" after.
    pub finished: Option<&'static str>,
}

/// The newest figure and its number among those the viewer drew.
#[derive(Debug, Clone)]
pub struct ShownFrame {
    pub number: usize,
    pub frame: Arc<Frame>,
}

/// How far the run has come, with the report's per-block latencies.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    pub blocks: usize,
    /// Samples per channel processed, of `total_samples` in the input.
    pub samples: usize,
    pub total_samples: usize,
    pub sample_rate: f64,
    pub wall_seconds: f64,
    /// Time of each `process` call, as the report measures it (named as in `--json`);
    /// None before the first block.
    pub per_block_latency: Option<LatencyJson>,
}

impl Progress {
    pub fn of(report: &Report, total_samples: usize, sample_rate: f64, wall: Duration) -> Progress {
        Progress {
            blocks: report.blocks,
            samples: report.samples,
            total_samples,
            sample_rate,
            wall_seconds: wall.as_secs_f64(),
            per_block_latency: report.latency_json(),
        }
    }
}

/// `GET /state`'s answer: the state without the pixels (those are `GET /frame.png`).
#[derive(Debug, Serialize)]
pub struct StateJson<'a> {
    version: u64,
    progress: &'a Progress,
    frame: Option<FrameJson>,
    viewer_errors: usize,
    last_viewer_error: Option<&'a str>,
    finished: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct FrameJson {
    number: usize,
    sample_number: i64,
    width: u32,
    height: u32,
}

impl LiveState {
    pub fn to_json(&self) -> StateJson<'_> {
        StateJson {
            version: self.version,
            progress: &self.progress,
            frame: self.frame.as_ref().map(|f| FrameJson { number: f.number, sample_number: f.frame.sample_number, width: f.frame.width, height: f.frame.height }),
            viewer_errors: self.viewer_errors,
            last_viewer_error: self.last_viewer_error.as_deref(),
            finished: self.finished,
        }
    }
}
