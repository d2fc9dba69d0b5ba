//! Finding the recording folder from what a user passes: the recording itself, or an
//! experiment, Record Node or session folder above a single recording.

use std::path::{Path, PathBuf};

use crate::error::{OebinError, Result};
use crate::structure::FILE_NAME;

/// The recording folder (the one holding `structure.oebin`) at or below `path`.
pub fn recording_dir(path: &Path) -> Result<PathBuf> {
    if path.join(FILE_NAME).is_file() {
        return Ok(path.to_path_buf());
    }
    let mut found = Vec::new();
    collect(path, 0, &mut found);
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

/// Session -> Record Node -> experiment -> recording: at most three levels down.
fn collect(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.join(FILE_NAME).is_file() {
            found.push(path);
        } else if depth < 2 {
            collect(&path, depth + 1, found);
        }
    }
}
