//! Writing a recording. Everything goes into a staging folder beside the destination
//! (`.NAME.pyproc-partial-XXXXXX`, see `staging.rs`), renamed into place by
//! [`RecordingWriter::finish`]; a writer dropped before that removes its folder, so a
//! failed or interrupted run never leaves a half-written recording. Every folder and file
//! it creates goes through an `OutputGuard`: inside the staging folder, and never a file of
//! the input.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array3};
use serde_json::Value;
use walkdir::{DirEntry, WalkDir};

use crate::containment::{canonical_as_far_as_it_exists, plain_path};
use crate::error::{io, OebinError, Result};
use crate::continuous_writer::ContinuousWriter;
use crate::npy_file;
use crate::output_guard::OutputGuard;
use crate::staging::{self, Staging};
use crate::structure::FILE_NAME;
use crate::Recording;

pub struct RecordingWriter {
    destination: PathBuf,
    staging: Staging,
    /// The recording folder inside the staging root.
    recording: PathBuf,
    guard: OutputGuard,
    removed: Vec<PathBuf>,
}

impl RecordingWriter {
    /// A writer for `destination` (which must not exist yet, or be an empty folder); the
    /// recording goes to `destination/<relative>` (e.g. `experiment1/recording1`).
    ///
    /// ```no_run
    /// # use std::path::Path;
    /// let writer = pyproc_oebin::RecordingWriter::create(Path::new("out"), Path::new("experiment1/recording1"))?;
    /// let mut continuous = writer.continuous("Source-100.stream/", &[0.195; 2])?;
    /// continuous.write_block(ndarray::Array2::<f32>::zeros((2, 1024)).view())?;
    /// continuous.finish()?;
    /// writer.sample_index("Source-100.stream/", 1024, |i| i as i64, |i| i as f64 / 30_000.0)?;
    /// writer.finish(&serde_json::json!({"continuous": []}))?;
    /// # Ok::<(), pyproc_oebin::OebinError>(())
    /// ```
    pub fn create(destination: &Path, relative: &Path) -> Result<RecordingWriter> {
        if destination.exists() && fs::read_dir(destination).map(|mut d| d.next().is_some()).unwrap_or(true) {
            return Err(OebinError::OutputExists { path: destination.to_path_buf() });
        }
        let name = destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "output".into());
        let parent = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io("create", parent))?;
        let (staging, removed) = staging::create(parent, &name)?;
        let guard = OutputGuard::new(staging.dir.path())?;
        let relative = plain_path(relative).map_err(|problem| OebinError::UnsafeOutput { path: relative.to_path_buf(), problem: format!("the recording's place in the output {problem}") })?;
        let recording = guard.folders(staging.dir.path(), &relative)?;
        Ok(RecordingWriter { destination: destination.to_path_buf(), staging, recording, guard, removed })
    }

    /// A writer for a recording made from `input`, at `destination/experimentE/recordingR`
    /// as in the input: refuses a destination inside the input (or holding it), and never
    /// writes to a file of the input, whatever path leads to it.
    ///
    /// ```no_run
    /// # use std::path::{Path, PathBuf};
    /// let input = pyproc_oebin::Recording::open(Path::new("Record Node 101"))?;
    /// let mut writer = pyproc_oebin::RecordingWriter::for_input(Path::new("filtered"), &input)?;
    /// writer.copy_recording(&input.dir, &[PathBuf::from("continuous/Source-100.stream/continuous.dat")])?;
    /// # Ok::<(), pyproc_oebin::OebinError>(())
    /// ```
    pub fn for_input(destination: &Path, input: &Recording) -> Result<RecordingWriter> {
        let output = canonical_as_far_as_it_exists(destination)?;
        for given in [&input.opened_from, &input.dir] {
            let real = given.canonicalize().map_err(io("resolve", given))?;
            if output.starts_with(&real) {
                return Err(OebinError::OutputInsideInput { output: destination.to_path_buf(), input: given.clone() });
            }
            if real.starts_with(&output) {
                return Err(OebinError::InputInsideOutput { output: destination.to_path_buf(), input: given.clone() });
            }
        }
        let mut writer = RecordingWriter::create(destination, &input.relative_name())?;
        writer.guard.protect(&input.dir)?;
        Ok(writer)
    }

    /// Staging folders of earlier writers for the same destination that died before
    /// finishing, removed when this one was created.
    pub fn removed_leftovers(&self) -> &[PathBuf] {
        &self.removed
    }

    /// Where the recording is being written (inside the temporary folder).
    pub fn recording_dir(&self) -> &Path {
        &self.recording
    }

    /// Where the recording will be once finished.
    pub fn final_recording_dir(&self) -> PathBuf {
        self.destination.join(self.recording.strip_prefix(self.staging.dir.path()).expect("recording is inside staging"))
    }

    /// Copies the recording at `from` into this one, except the files in `skip` (paths
    /// relative to `from`); no file of `from` is written to afterwards.
    pub fn copy_recording(&mut self, from: &Path, skip: &[PathBuf]) -> Result<()> {
        self.guard.protect(from)?;
        copy_tree(&self.guard, from, &self.recording, skip)
    }

    fn folder(&self, section: &str, folder: &str) -> Result<PathBuf> {
        let section = self.guard.folders(&self.recording, Path::new(section))?;
        self.guard.folder(&section, folder)
    }

    /// A streaming writer for `continuous/<folder_name>/continuous.dat`.
    pub fn continuous(&self, folder_name: &str, bit_volts: &[f64]) -> Result<ContinuousWriter> {
        let path = self.folder("continuous", folder_name)?.join("continuous.dat");
        let file = self.guard.create(&path)?;
        Ok(ContinuousWriter::start(file, &path, bit_volts))
    }

    /// Writes `continuous/<folder_name>/sample_numbers.npy` and `timestamps.npy` for `len`
    /// samples.
    pub fn sample_index(&self, folder_name: &str, len: usize, sample_number: impl Fn(usize) -> i64, timestamp: impl Fn(usize) -> f64) -> Result<()> {
        let dir = self.folder("continuous", folder_name)?;
        self.write_1d(&dir.join("sample_numbers.npy"), len, sample_number)?;
        self.write_1d(&dir.join("timestamps.npy"), len, timestamp)
    }

    fn write_1d<T: ndarray_npy::WritableElement + ndarray_npy::ViewMutElement>(&self, path: &Path, len: usize, value: impl FnMut(usize) -> T) -> Result<()> {
        npy_file::write_1d_with(self.guard.create(path)?, path, len, value)
    }

    fn write<T: ndarray_npy::WritableElement, D: ndarray::Dimension>(&self, path: &Path, array: ndarray::ArrayView<'_, T, D>) -> Result<()> {
        npy_file::write(self.guard.create(path)?, path, array)
    }

    /// Writes a TTL channel's four arrays into `events/<folder>/`; `events` in the order
    /// they happened (the full words are derived from it).
    pub fn ttl_channel(&self, folder: &str, events: &[TtlOut]) -> Result<()> {
        let dir = self.folder("events", folder)?;
        let states: Array1<i16> = events.iter().map(|e| if e.state { e.line as i16 + 1 } else { -(e.line as i16 + 1) }).collect();
        let samples: Array1<i64> = events.iter().map(|e| e.sample_number).collect();
        let times: Array1<f64> = events.iter().map(|e| e.timestamp).collect();
        let words = full_words(events);
        self.write(&dir.join("states.npy"), states.view())?;
        self.write(&dir.join("sample_numbers.npy"), samples.view())?;
        self.write(&dir.join("timestamps.npy"), times.view())?;
        self.write(&dir.join("full_words.npy"), words.view())
    }

    /// Writes a spike channel's five arrays into `spikes/<folder>/`.
    pub fn spike_channel(&self, folder: &str, spikes: &SpikesOut) -> Result<()> {
        let dir = self.folder("spikes", folder)?;
        self.write(&dir.join("waveforms.npy"), spikes.waveforms.view())?;
        self.write(&dir.join("sample_numbers.npy"), spikes.sample_numbers.view())?;
        self.write(&dir.join("timestamps.npy"), spikes.timestamps.view())?;
        self.write(&dir.join("electrode_indices.npy"), spikes.electrode_indices.view())?;
        self.write(&dir.join("clusters.npy"), spikes.clusters.view())
    }

    /// Writes `structure.oebin` and moves the recording into place.
    pub fn finish(mut self, structure: &Value) -> Result<PathBuf> {
        let path = self.recording.join(FILE_NAME);
        let text = serde_json::to_string_pretty(structure).expect("JSON values serialize");
        let mut file = self.guard.create(&path)?;
        file.write_all(text.as_bytes()).map_err(io("write", &path))?;
        if self.destination.exists() {
            fs::remove_dir(&self.destination).map_err(io("replace the empty folder", &self.destination))?;
        }
        fs::rename(self.staging.dir.path(), &self.destination).map_err(io("move the finished recording to", &self.destination))?;
        // Only now: a failed rename still leaves the staging folder to be removed on drop.
        self.staging.dir.disable_cleanup(true);
        Ok(self.final_recording_dir())
    }
}

/// A TTL edge to write.
#[derive(Debug, Clone, PartialEq)]
pub struct TtlOut {
    pub sample_number: i64,
    pub timestamp: f64,
    pub line: u8,
    pub state: bool,
}

/// The state of every line after each edge, as a bit word (lines 64-255 cannot be shown in
/// 64 bits and leave the word as it was).
fn full_words(events: &[TtlOut]) -> Array1<u64> {
    let mut word = 0u64;
    events
        .iter()
        .map(|e| {
            if e.line < 64 {
                word = if e.state { word | 1 << e.line } else { word & !(1 << e.line) };
            }
            word
        })
        .collect()
}

/// A spike channel's arrays, index-aligned.
#[derive(Debug, Clone)]
pub struct SpikesOut {
    /// spikes x channels x samples, int16 in units of the channel's bit_volts.
    pub waveforms: Array3<i16>,
    pub sample_numbers: Array1<i64>,
    pub timestamps: Array1<f64>,
    pub electrode_indices: Array1<i16>,
    pub clusters: Array1<u16>,
}

/// Copies the files below `from` into `to`, except `structure.oebin` and the paths (relative
/// to `from`) in `skip`; a skipped folder is skipped whole. Links are neither followed nor
/// copied.
fn copy_tree(guard: &OutputGuard, from: &Path, to: &Path, skip: &[PathBuf]) -> Result<()> {
    let relative = |path: &Path| path.strip_prefix(from).expect("walkdir yields paths below its root").to_path_buf();
    let copied = |entry: &DirEntry| {
        let rel = relative(entry.path());
        rel != Path::new(FILE_NAME) && !skip.contains(&rel)
    };
    for entry in WalkDir::new(from).min_depth(1).into_iter().filter_entry(copied) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(from).to_path_buf();
            OebinError::Io { action: "list", path, cause: e.into() }
        })?;
        let rel = relative(entry.path());
        if entry.file_type().is_dir() {
            guard.folders(to, &rel)?;
        } else if entry.file_type().is_file() {
            let target = to.join(&rel);
            let mut source = File::open(entry.path()).map_err(io("open", entry.path()))?;
            let mut copy = guard.create(&target)?;
            // File to file, `io::copy` lets the kernel copy (copy_file_range on Linux, a
            // reflink where the file system can): the bytes never pass through here.
            std::io::copy(&mut source, &mut copy).map_err(io("copy", entry.path()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_words_follow_each_lines_state_in_event_order() {
        let edge = |line, state| TtlOut { sample_number: 0, timestamp: 0.0, line, state };
        let words = full_words(&[edge(0, true), edge(3, true), edge(0, false), edge(200, true), edge(3, false)]);
        assert_eq!(words.to_vec(), [0b1, 0b1001, 0b1000, 0b1000, 0]);
    }

    #[test]
    fn a_writer_dropped_before_finish_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        {
            let w = RecordingWriter::create(&dest, Path::new("experiment1/recording1")).unwrap();
            let mut c = w.continuous("X-100.s", &[0.195]).unwrap();
            c.write_block(ndarray::array![[1.0f32, 2.0]].view()).unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0, "no staging folder left");
    }

    #[test]
    fn a_finished_writer_leaves_only_the_recording() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        let w = RecordingWriter::create(&dest, Path::new("experiment1/recording1")).unwrap();
        let staging = w.staging.dir.path().to_path_buf();
        assert!(staging.file_name().unwrap().to_string_lossy().starts_with(".out.pyproc-partial-"), "{}", staging.display());
        assert_eq!(w.finish(&serde_json::json!({})).unwrap(), dest.join("experiment1/recording1"));
        assert!(dest.join("experiment1/recording1").join(FILE_NAME).is_file());
        let names: Vec<_> = fs::read_dir(root.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["out"]);
    }

    #[test]
    fn copying_a_recording_leaves_out_the_skipped_files_and_its_structure() {
        let root = tempfile::tempdir().unwrap();
        let from = root.path().join("in");
        fs::create_dir_all(from.join("continuous/X-100.s")).unwrap();
        fs::create_dir_all(from.join("events/X-100.s/TTL")).unwrap();
        for file in [FILE_NAME, "continuous/X-100.s/continuous.dat", "continuous/X-100.s/timestamps.npy", "events/X-100.s/TTL/states.npy"] {
            fs::write(from.join(file), file).unwrap();
        }
        let mut w = RecordingWriter::create(&root.path().join("out"), Path::new("r")).unwrap();
        w.copy_recording(&from, &[PathBuf::from("continuous/X-100.s/continuous.dat"), PathBuf::from("events")]).unwrap();
        let copied: Vec<_> = WalkDir::new(w.recording_dir()).sort_by_file_name().into_iter().flatten().filter(|e| e.file_type().is_file()).collect();
        let copied: Vec<_> = copied.iter().map(|e| e.path().strip_prefix(w.recording_dir()).unwrap().to_path_buf()).collect();
        assert_eq!(copied, [PathBuf::from("continuous/X-100.s/timestamps.npy")]);
        assert_eq!(fs::read_to_string(w.recording_dir().join(&copied[0])).unwrap(), "continuous/X-100.s/timestamps.npy");
    }

    #[test]
    fn an_existing_non_empty_destination_is_refused() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("keep.txt"), "x").unwrap();
        assert!(matches!(RecordingWriter::create(root.path(), Path::new("r")), Err(OebinError::OutputExists { .. })));
        assert!(root.path().join("keep.txt").exists());
    }

    /// A recording at `dir` whose structure names no data.
    fn empty_recording(dir: &Path) -> Recording {
        let w = RecordingWriter::create(dir, Path::new("experiment1/recording1")).unwrap();
        Recording::open(&w.finish(&serde_json::json!({"continuous": []})).unwrap()).unwrap()
    }

    #[test]
    fn an_output_inside_the_input_or_around_it_is_refused_before_anything_is_made() {
        let root = tempfile::tempdir().unwrap();
        let input = empty_recording(&root.path().join("in"));
        for inside in [input.dir.join("out"), root.path().join("in/experiment1/filtered")] {
            let opened_above = Recording::open(&root.path().join("in")).unwrap();
            let err = RecordingWriter::for_input(&inside, &opened_above).err().unwrap().to_string();
            assert!(err.contains("would be inside the input"), "{err}");
            assert!(!inside.exists());
        }
        let err = RecordingWriter::for_input(root.path(), &input).err().unwrap().to_string();
        assert!(err.contains("is inside the output"), "{err}");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1, "nothing beside the input");
    }

    #[test]
    fn folder_names_that_leave_the_output_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let w = RecordingWriter::create(&root.path().join("out"), Path::new("r")).unwrap();
        for bad in ["../../escape", "/tmp/escape/"] {
            assert!(matches!(w.continuous(bad, &[1.0]), Err(OebinError::UnsafeOutput { .. })), "{bad}");
            assert!(matches!(w.ttl_channel(bad, &[]), Err(OebinError::UnsafeOutput { .. })), "{bad}");
        }
        assert!(!root.path().join("escape").exists());
    }
}
