//! `pyproc run --plots DIR`: the script's `PyVisualizer` draws what its `PyProcessor`
//! published, in a second interpreter on a thread of its own, at most `--plot-rate` times a
//! second; each figure is written as a PNG named with the sample number it shows. The block
//! loop only offers the latest values and never waits for the viewer.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use pyproc_host::{Frame, Published, Rendered, ShardedProcessor, Viewer, ViewerThread};

/// Where and how often to draw.
#[derive(Debug, Clone)]
pub struct PlotOptions {
    pub dir: PathBuf,
    /// Figures per second of wall time, at most.
    pub rate_hz: f64,
}

/// The viewer's thread and what it has written.
pub(crate) struct Plotter {
    /// None once finished.
    thread: Option<ViewerThread>,
    dir: PathBuf,
    interval: Duration,
    last_offer: Option<Instant>,
    /// The sum of the published values' update counts at the last offer: unchanged values
    /// are not drawn again.
    offered_updates: u64,
    written: usize,
    last: Option<Frame>,
    errors: Vec<String>,
}

/// What `--plots` did, for the report.
#[derive(Debug, Default, Clone)]
pub struct PlotSummary {
    pub dir: String,
    pub frames: usize,
    /// Each distinct viewer error, with how often it happened.
    pub errors: Vec<(String, usize)>,
}

impl Plotter {
    pub fn start(viewer: Viewer, options: &PlotOptions) -> anyhow::Result<Plotter> {
        std::fs::create_dir_all(&options.dir).with_context(|| format!("--plots: creating {}", options.dir.display()))?;
        Ok(Plotter {
            thread: Some(ViewerThread::spawn(viewer)),
            dir: options.dir.clone(),
            interval: Duration::from_secs_f64(1.0 / options.rate_hz),
            last_offer: None,
            offered_updates: 0,
            written: 0,
            last: None,
            errors: Vec::new(),
        })
    }

    /// After a block: offers the latest values when it is time and they changed, and writes
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

    /// Draws the last values once more, waits for the viewer, writes its frames and
    /// `final.png` (the last frame drawn).
    pub fn finish(mut self, processor: &ShardedProcessor) -> anyhow::Result<PlotSummary> {
        let published = processor.published();
        let last = (updates(&published) != self.offered_updates).then_some(published);
        for rendered in self.thread.take().map(|t| t.finish(last)).unwrap_or_default() {
            self.keep(rendered)?;
        }
        if let Some(frame) = &self.last {
            write_png(&self.dir.join("final.png"), frame)?;
        }
        let mut errors: Vec<(String, usize)> = Vec::new();
        for error in self.errors {
            match errors.iter_mut().find(|(e, _)| *e == error) {
                Some((_, n)) => *n += 1,
                None => errors.push((error, 1)),
            }
        }
        Ok(PlotSummary { dir: self.dir.display().to_string(), frames: self.written, errors })
    }

    fn keep(&mut self, rendered: Rendered) -> anyhow::Result<()> {
        match rendered {
            Rendered::Frame(frame) => {
                let name = format!("frame-{:06}-s{:09}.png", self.written, frame.sample_number);
                write_png(&self.dir.join(name), &frame)?;
                self.written += 1;
                self.last = Some(frame);
            }
            Rendered::Unchanged => {}
            Rendered::Failed(error) => self.errors.push(error.to_string()),
        }
        Ok(())
    }
}

fn updates(published: &Published) -> u64 {
    published.iter().map(|v| v.updates()).sum()
}

/// Writes the frame's RGBA pixels as an 8-bit RGBA PNG.
pub fn write_png(path: &Path, frame: &Frame) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("--plots: creating {}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), frame.width, frame.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().with_context(|| format!("--plots: writing {}", path.display()))?;
    writer.write_image_data(&frame.rgba).with_context(|| format!("--plots: writing {}", path.display()))?;
    writer.finish().with_context(|| format!("--plots: writing {}", path.display()))?;
    Ok(())
}
