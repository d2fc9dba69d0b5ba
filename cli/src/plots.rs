//! `pyproc run --plots DIR` and `--live`: the script's `PyVisualizer` draws what its
//! `PyProcessor` published, in a second interpreter on a thread of its own, at most
//! `--plot-rate` times a second; each figure is written as a PNG named with the sample
//! number it shows, and/or handed to the live page. The block loop only offers the latest
//! values and never waits for the viewer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use pyproc_host::{Frame, Published, Rendered, ShardedProcessor, Viewer, ViewerThread};

use crate::live::LiveFeed;

/// Where and how often to draw.
#[derive(Debug, Clone)]
pub struct PlotOptions {
    /// Write each figure here (`--plots DIR`); None: only the live page shows them.
    pub dir: Option<PathBuf>,
    /// Figures per second of wall time, at most.
    pub rate_hz: f64,
    /// Hand each figure and the run's progress to the live page (`--live`).
    pub live: Option<LiveFeed>,
}

/// The viewer's thread and what it has drawn.
pub(crate) struct Plotter {
    /// None once finished.
    thread: Option<ViewerThread>,
    dir: Option<PathBuf>,
    live: Option<LiveFeed>,
    interval: Duration,
    last_offer: Option<Instant>,
    /// The sum of the published values' update counts at the last offer: unchanged values
    /// are not drawn again.
    offered_updates: u64,
    frames: usize,
    last: Option<Arc<Frame>>,
    errors: Vec<String>,
}

/// What `--plots` and `--live` did, for the report.
#[derive(Debug, Default, Clone)]
pub struct PlotSummary {
    /// The folder the frames were written to (None without `--plots`).
    pub dir: Option<String>,
    /// Figures the viewer drew (each written to `dir`, with `--plots`).
    pub frames: usize,
    /// Each distinct viewer error, with how often it happened.
    pub errors: Vec<(String, usize)>,
    /// The live page's address (None without `--live`).
    pub live_url: Option<String>,
}

impl Plotter {
    pub fn start(viewer: Viewer, options: &PlotOptions) -> anyhow::Result<Plotter> {
        if let Some(dir) = &options.dir {
            std::fs::create_dir_all(dir).with_context(|| format!("--plots: creating {}", dir.display()))?;
        }
        Ok(Plotter {
            thread: Some(ViewerThread::spawn(viewer)),
            dir: options.dir.clone(),
            live: options.live.clone(),
            interval: Duration::from_secs_f64(1.0 / options.rate_hz),
            last_offer: None,
            offered_updates: 0,
            frames: 0,
            last: None,
            errors: Vec::new(),
        })
    }

    /// After a block: offers the latest values when it is time and they changed, and keeps
    /// what the viewer has drawn since. Never waits for the viewer.
    pub fn after_block(&mut self, processor: &ShardedProcessor) -> anyhow::Result<()> {
        if self.last_offer.is_none_or(|t| t.elapsed() >= self.interval) {
            let published = processor.published();
            let updates = updates(&published);
            if updates != self.offered_updates && self.thread.as_ref().is_some_and(|t| t.offer(published)) {
                self.offered_updates = updates;
                self.last_offer = Some(Instant::now());
            }
        }
        for rendered in self.thread.as_ref().map(ViewerThread::rendered).unwrap_or_default() {
            self.keep(rendered)?;
        }
        Ok(())
    }

    /// Draws the last values once more, waits for the viewer, keeps its frames and writes
    /// `final.png` (the last frame drawn).
    pub fn finish(mut self, processor: &ShardedProcessor) -> anyhow::Result<PlotSummary> {
        let published = processor.published();
        let last = (updates(&published) != self.offered_updates).then_some(published);
        for rendered in self.thread.take().map(|t| t.finish(last)).unwrap_or_default() {
            self.keep(rendered)?;
        }
        if let (Some(dir), Some(frame)) = (&self.dir, &self.last) {
            write_png(&dir.join("final.png"), frame)?;
        }
        let mut errors: Vec<(String, usize)> = Vec::new();
        for error in self.errors {
            match errors.iter_mut().find(|(e, _)| *e == error) {
                Some((_, n)) => *n += 1,
                None => errors.push((error, 1)),
            }
        }
        Ok(PlotSummary {
            dir: self.dir.map(|d| d.display().to_string()),
            frames: self.frames,
            errors,
            live_url: self.live.map(|l| l.url().to_owned()),
        })
    }

    fn keep(&mut self, rendered: Rendered) -> anyhow::Result<()> {
        match rendered {
            Rendered::Frame(frame) => {
                if let Some(dir) = &self.dir {
                    let name = format!("frame-{:06}-s{:09}.png", self.frames, frame.sample_number);
                    write_png(&dir.join(name), &frame)?;
                }
                let frame = Arc::new(frame);
                if let Some(live) = &self.live {
                    live.frame(self.frames, frame.clone());
                }
                self.frames += 1;
                self.last = Some(frame);
            }
            Rendered::Unchanged => {}
            Rendered::Failed(error) => {
                if let Some(live) = &self.live {
                    live.viewer_failed(&error.to_string());
                }
                self.errors.push(error.to_string());
            }
        }
        Ok(())
    }
}

fn updates(published: &Published) -> u64 {
    published.iter().map(|v| v.updates()).sum()
}

/// Writes the frame's RGBA pixels as an 8-bit RGBA PNG file.
pub fn write_png(path: &Path, frame: &Frame) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("--plots: creating {}", path.display()))?;
    encode_png(BufWriter::new(file), frame).with_context(|| format!("--plots: writing {}", path.display()))
}

/// The frame's RGBA pixels as an 8-bit RGBA PNG, into `out`.
pub fn encode_png(out: impl Write, frame: &Frame) -> Result<(), png::EncodingError> {
    let mut encoder = png::Encoder::new(out, frame.width, frame.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&frame.rgba)?;
    writer.finish()
}
