//! Open Ephys "Binary" recordings, as the GUI's Record Node writes them: read block by
//! block (a recording of any length costs no more memory than a block), and written into a
//! temporary folder that only becomes the output when complete.
//!
//! A recording is untrusted input: `structure.oebin` is validated before any data file is
//! opened, every path it names must stay inside the recording, and a writer never creates
//! a file outside its output folder nor writes to a file of the recording it reads.
//!
//! What it is not: it knows nothing of scripts or sandboxes (that is `pyproc-host`).

mod containment;
mod continuous;
mod continuous_writer;
mod error;
mod events;
mod frames;
mod locate;
mod npy_file;
mod output_guard;
mod spikes;
mod staging;
mod structure;
mod validate;
mod writer;

use std::path::{Path, PathBuf};

use containment::Root;

pub use continuous::{Continuous, SampleJumps};
pub use error::{OebinError, Result};
pub use events::{processor_id, TtlRecord};
pub use spikes::SpikeChannel;
pub use structure::{ChannelInfo, ContinuousInfo, EventInfo, SpikeInfo, Structure, FILE_NAME};
pub use frames::to_int16;
pub use continuous_writer::ContinuousWriter;
pub use writer::{RecordingWriter, SpikesOut, TtlOut};

/// A recording folder and its `structure.oebin`.
///
/// ```no_run
/// let recording = pyproc_oebin::Recording::open("Record Node 101".as_ref())?;
/// let stream = recording.structure.stream_index(None)?;
/// let continuous = recording.continuous(stream)?;
/// println!("{} samples of {} channels", continuous.len(), continuous.info.num_channels);
/// # Ok::<(), pyproc_oebin::OebinError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Recording {
    pub dir: PathBuf,
    pub structure: Structure,
    /// What was passed to [`Recording::open`]: the recording or a folder above it.
    pub opened_from: PathBuf,
    root: Root,
}

impl Recording {
    /// Opens the recording at `path`, or the single recording below it (a Record Node or
    /// experiment folder), and validates its `structure.oebin`.
    pub fn open(path: &Path) -> Result<Recording> {
        let dir = locate::recording_dir(path)?;
        let root = Root::new(&dir)?;
        root.file(&dir.join(FILE_NAME))?;
        let structure = Structure::read(&dir)?;
        Ok(Recording { dir, structure, opened_from: path.to_path_buf(), root })
    }

    pub fn continuous(&self, stream: usize) -> Result<Continuous> {
        Continuous::open(&self.root, &self.structure, stream)
    }

    /// TTL events of the stream, by sample number.
    pub fn ttl_events(&self, stream: usize) -> Result<Vec<TtlRecord>> {
        events::read_ttl(&self.root, &self.structure, &self.structure.continuous[stream].stream_name)
    }

    pub fn spikes(&self, stream: usize) -> Result<Vec<SpikeChannel>> {
        spikes::read_spikes(&self.root, &self.structure, &self.structure.continuous[stream].stream_name)
    }

    /// `experimentE/recordingR`, from the folder names (for mirroring the layout).
    pub fn relative_name(&self) -> PathBuf {
        let rec = self.dir.file_name().map(PathBuf::from).unwrap_or_else(|| "recording1".into());
        match self.dir.parent().and_then(|p| p.file_name()) {
            Some(exp) if exp.to_string_lossy().starts_with("experiment") => PathBuf::from(exp).join(rec),
            _ => PathBuf::from("experiment1").join(rec),
        }
    }
}
