//! [`Viewer`]: a script's `PyVisualizer`, in a second sandboxed interpreter of its own,
//! drawing what the script's `PyProcessor` published (see [`Published`]) into matplotlib
//! figures whose pixels the host takes. It never runs on the block path: a caller runs it
//! on a thread of its own ([`ViewerThread`]), and its failures reach no processor.
//!
//! The guest draws the figure on matplotlib's Agg canvas and hands the host the canvas's
//! RGBA pixels (`fig.canvas.buffer_rgba()`) as a published value named [`FIGURE`] in the
//! viewer's own interpreter; no image file is made in the guest.

mod thread;

use std::sync::Arc;

pub use thread::{Rendered, ViewerThread};

use crate::error::{Error, Result};
use crate::processor::{Processor, ProcessorBuilder};
use crate::published::{Dtype, Published};

/// The name under which a viewer's runtime hands the host the drawn figure's pixels.
pub const FIGURE: &str = "figure";

/// A drawn figure: `height` rows of `width` RGBA pixels, top row first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
    /// The latest sample number among the values the figure was drawn from.
    pub sample_number: i64,
}

/// A script's `PyVisualizer` in its own interpreter.
///
/// ```no_run
/// # let engine = pyproc_host::Engine::open()?;
/// let builder = || pyproc_host::Processor::builder(&engine, "examples/threshold_plot.py").stream(4, 30_000.0);
/// let mut processor = builder().build()?;
/// let mut viewer = builder().build_viewer()?;
/// let mut block = ndarray::Array2::<f32>::zeros((4, 1024));
/// processor.process(block.view_mut(), 0)?;
/// if let Some(frame) = viewer.render(&processor.published())? {
///     println!("{} x {} pixels", frame.width, frame.height);
/// }
/// # Ok::<(), pyproc_host::Error>(())
/// ```
pub struct Viewer {
    processor: Processor,
    /// The figure's update count after the last render: a render that leaves it is
    /// "unchanged".
    figures: u64,
}

impl ProcessorBuilder {
    /// Starts a second interpreter with the same settings (grants, limits, stream) that
    /// imports the script and constructs its `PyVisualizer(num_channels, sample_rate)`
    /// instead of its `PyProcessor`. A script without the class is an error that says so.
    pub fn build_viewer(self) -> Result<Viewer> {
        let (engine, config) = self.into_config()?;
        Ok(Viewer { processor: Processor::start(engine, config, true)?, figures: 0 })
    }
}

impl Viewer {
    /// Calls `update(published)` with the values as numpy arrays (scalars as numpy
    /// scalars); returns the figure it drew, or None when it returned None (unchanged).
    /// An exception, a deadline passed, or a figure that is not RGBA pixels is the error.
    pub fn render(&mut self, published: &Published) -> Result<Option<Frame>> {
        self.render_shared(Arc::new(published.clone()))
    }

    /// [`render`](Self::render) without copying the values again.
    pub fn render_shared(&mut self, published: Arc<Published>) -> Result<Option<Frame>> {
        let sample_number = published.iter().map(|v| v.sample_number()).max().unwrap_or(0);
        self.processor.run_view(published)?;
        let figures = self.figures;
        let figure = self.processor.with_published(|p| {
            let value = p.get(FIGURE).filter(|v| v.updates() != figures)?;
            Some((value.updates(), value.dtype(), value.shape().to_vec(), value.bytes().to_vec()))
        });
        let Some((updates, dtype, shape, rgba)) = figure.flatten() else { return Ok(None) };
        self.figures = updates;
        match (dtype, &shape[..]) {
            (Dtype::U8, &[height, width, 4]) => Ok(Some(Frame { width, height, rgba, sample_number })),
            _ => Err(Error::BadFigure { script: self.processor.script().to_path_buf(), dtype, shape }),
        }
    }

    /// The underlying processor: its script, status, stats and denials.
    pub fn processor(&self) -> &Processor {
        &self.processor
    }
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer").field("script", &self.processor.script()).field("status", &self.processor.status()).finish()
    }
}
