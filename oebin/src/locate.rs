//! Finding the recording folder from what a user passes: the recording itself, or an
//! experiment, Record Node or session folder above a single recording.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{OebinError, Result};
use crate::structure::FILE_NAME;

/// The recording folder (the one holding `structure.oebin`) at or below `path`.
pub fn recording_dir(path: &Path) -> Result<PathBuf> {
    if path.join(FILE_NAME).is_file() {
        return Ok(path.to_path_buf());
    }
    let mut found = recordings_below(path);
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(OebinError::NoRecording {
            path: path.to_path_buf(),
            found: if path.exists() { String::new() } else { " (the folder does not exist)".into() },
        }),
        _ => Err(OebinError::SeveralRecordings { path: path.to_path_buf(), choices: found }),
    }
}

/// Session -> Record Node -> experiment -> recording: at most three levels down, and not
/// into a recording. Folders that cannot be read are passed over.
fn recordings_below(path: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut walk = WalkDir::new(path).min_depth(1).max_depth(3).follow_links(true).into_iter();
    while let Some(entry) = walk.next() {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_dir() {
            continue;
        }
        if entry.path().join(FILE_NAME).is_file() {
            walk.skip_current_dir();
            found.push(entry.into_path());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(path: &Path) {
        std::fs::create_dir_all(path).unwrap();
        std::fs::write(path.join(FILE_NAME), "{}").unwrap();
    }

    #[test]
    fn a_single_recording_up_to_three_levels_down_is_found() {
        let root = tempfile::tempdir().unwrap();
        let rec = root.path().join("Record Node 101/experiment1/recording1");
        recording(&rec);
        std::fs::write(root.path().join("Record Node 101/settings.xml"), "").unwrap();
        assert_eq!(recording_dir(root.path()).unwrap(), rec);
        assert_eq!(recording_dir(&rec).unwrap(), rec);
    }

    #[test]
    fn a_recording_four_levels_down_is_not_found() {
        let root = tempfile::tempdir().unwrap();
        recording(&root.path().join("session/Record Node 101/experiment1/recording1"));
        assert!(matches!(recording_dir(root.path()), Err(OebinError::NoRecording { .. })));
    }

    #[test]
    fn folders_inside_a_recording_are_not_searched() {
        let root = tempfile::tempdir().unwrap();
        let rec = root.path().join("experiment1/recording1");
        recording(&rec);
        recording(&rec.join("copy"));
        assert_eq!(recording_dir(root.path()).unwrap(), rec);
    }

    #[test]
    fn several_recordings_are_listed_in_order() {
        let root = tempfile::tempdir().unwrap();
        let (one, two) = (root.path().join("experiment1/recording2"), root.path().join("experiment1/recording1"));
        recording(&one);
        recording(&two);
        match recording_dir(root.path()) {
            Err(OebinError::SeveralRecordings { choices, .. }) => assert_eq!(choices, [two, one]),
            other => panic!("expected several recordings, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_folder_is_said_to_be_missing() {
        let err = recording_dir(Path::new("/nonexistent/pyproc")).unwrap_err().to_string();
        assert!(err.starts_with("/nonexistent/pyproc has no structure.oebin, and no single recording below it (the folder does not exist)"), "{err}");
    }
}
