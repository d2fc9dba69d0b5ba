//! Errors that name the file at fault and say what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum OebinError {
    #[error("{path} has no structure.oebin, and no single recording below it{found}\nfix: pass a recording folder (…/experimentN/recordingM) or a Record Node folder holding one recording")]
    NoRecording { path: PathBuf, found: String },

    #[error("{path} holds {} recordings; pass one of them:\n  {}", .choices.len(), choices_list(.choices))]
    SeveralRecordings { path: PathBuf, choices: Vec<PathBuf> },

    #[error("cannot {action} {path}: {cause}")]
    Io { action: &'static str, path: PathBuf, cause: std::io::Error },

    #[error("{path} is not valid structure.oebin JSON: {cause}")]
    BadJson { path: PathBuf, cause: serde_json::Error },

    #[error("{path}: {problem}")]
    BadStructure { path: PathBuf, problem: String },

    /// One value of `structure.oebin` is unusable; `field` is where it sits, e.g.
    /// `continuous[0].folder_name`, and `value` is it as JSON.
    #[error("{path}: {field} {value}: {problem}\nfix: correct {field} in structure.oebin, or use an undamaged copy of the recording")]
    BadField { path: PathBuf, field: String, value: String, problem: String },

    #[error("{path} leads outside {root} (to {target}); pyproc reads only files inside the recording\nfix: replace the symbolic link with the file itself")]
    OutsideRecording { path: PathBuf, root: PathBuf, target: PathBuf },

    #[error("{path} does not exist; its folder is {field} in {structure}\nfix: restore the file, or correct {field}")]
    MissingFile { path: PathBuf, field: String, structure: PathBuf },

    #[error("{path} is not a regular file; the recording is damaged")]
    NotAFile { path: PathBuf },

    #[error("the recording has no continuous stream named {name:?}; its streams are: {}\nfix: pass one of them with --stream", .available.join(", "))]
    NoSuchStream { name: String, available: Vec<String> },

    #[error("the recording has {} continuous streams ({}); choose one with --stream NAME", .available.len(), .available.join(", "))]
    AmbiguousStream { available: Vec<String> },

    #[error("{path} has {bytes} bytes, which is not a whole number of samples of {channels} int16 channels ({} bytes each); the file is truncated or num_channels in structure.oebin is wrong", .channels * 2)]
    TruncatedData { path: PathBuf, bytes: u64, channels: usize },

    #[error("{path}: {problem}")]
    BadNpy { path: PathBuf, problem: String },

    #[error("{path} has {got} entries but {other} has {expected}; the recording is inconsistent")]
    LengthMismatch { path: PathBuf, got: usize, other: PathBuf, expected: usize },

    #[error("{path} has {got} entries but {dat} holds {expected} samples of {channels} channels (num_channels in structure.oebin); the recording is inconsistent")]
    SampleCountMismatch { path: PathBuf, got: usize, dat: PathBuf, expected: usize, channels: usize },

    #[error("{path} already exists\nfix: choose another --output folder, or remove it")]
    OutputExists { path: PathBuf },

    #[error("the output {output} would be inside the input {input}, which would then hold a second recording\nfix: choose an --output folder outside the input")]
    OutputInsideInput { output: PathBuf, input: PathBuf },

    #[error("the input {input} is inside the output {output}\nfix: choose an --output folder that does not hold the input")]
    InputInsideOutput { output: PathBuf, input: PathBuf },

    #[error("refusing to write {path}: {problem}")]
    UnsafeOutput { path: PathBuf, problem: String },
}

fn choices_list(choices: &[PathBuf]) -> String {
    choices.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join("\n  ")
}

pub type Result<T, E = OebinError> = std::result::Result<T, E>;

pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OebinError {
    let path = path.into();
    move |cause| OebinError::Io { action, path, cause }
}
