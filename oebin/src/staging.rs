//! The temporary folder a recording is written into: `.NAME.pyproc-partial-XXXXXX` beside
//! the destination `NAME` (so the final rename stays on one file system), locked while its
//! writer lives. A writer dropped before finishing removes it; a run that dies without
//! unwinding (a signal, a power cut) leaves it unlocked, and the next writer for the same
//! destination removes it. Nothing else beside the destination is touched: only folders of
//! exactly that name pattern, not links, and only when no live writer holds their lock.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::{io, Result};

const MARK: &str = ".pyproc-partial-";
/// `tempfile`'s default number of random characters.
const RANDOM_CHARS: usize = 6;

pub(crate) struct Staging {
    /// Removed when dropped, unless disarmed.
    pub dir: TempDir,
    /// Held (with its lock) as long as the folder is being written.
    _lock: File,
}

/// Creates the staging folder for `destination` in `parent`, after removing the ones
/// left there by writers that died; returns it and the folders removed.
pub(crate) fn create(parent: &Path, name: &str) -> Result<(Staging, Vec<PathBuf>)> {
    let prefix = format!(".{name}{MARK}");
    let removed = remove_abandoned(parent, &prefix)?;
    let dir = tempfile::Builder::new().prefix(&prefix).rand_bytes(RANDOM_CHARS).tempdir_in(parent).map_err(io("create a temporary folder in", parent))?;
    let lock = File::open(dir.path()).map_err(io("open", dir.path()))?;
    // A fresh folder: nobody else can hold its lock yet.
    lock.try_lock().map_err(|e| io("lock", dir.path())(e.into()))?;
    Ok((Staging { dir, _lock: lock }, removed))
}

/// Removes the folders `parent/<prefix>XXXXXX` whose writer is gone (their lock is free).
fn remove_abandoned(parent: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(parent) else { return Ok(removed) };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(suffix) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else { continue };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if suffix.len() != RANDOM_CHARS || !suffix.bytes().all(|b| b.is_ascii_alphanumeric()) || !is_dir {
            continue;
        }
        let path = entry.path();
        let Ok(folder) = File::open(&path) else { continue };
        if folder.try_lock().is_err() {
            continue; // a live writer's
        }
        fs::remove_dir_all(&path).map_err(io("remove the abandoned temporary folder", &path))?;
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_folder_is_locked_while_it_lives() {
        let root = tempfile::tempdir().unwrap();
        let (staging, removed) = create(root.path(), "out").unwrap();
        assert!(removed.is_empty());
        let name = staging.dir.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".out.pyproc-partial-") && name.len() == ".out.pyproc-partial-".len() + 6, "{name}");
        assert!(File::open(staging.dir.path()).unwrap().try_lock().is_err());
    }

    #[test]
    fn abandoned_staging_folders_are_removed_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path();
        let (live, _) = create(p, "out").unwrap();
        let abandoned = p.join(".out.pyproc-partial-Ab12cD");
        fs::create_dir_all(abandoned.join("experiment1/recording1")).unwrap();
        fs::write(abandoned.join("experiment1/recording1/continuous.dat"), "half").unwrap();
        let kept = [".other.pyproc-partial-Ab12cD", ".out.pyproc-partial-toolong7", ".out.pyproc-partial-ab", "out.pyproc-partial-Ab12cD", "keep"];
        for name in kept {
            fs::create_dir(p.join(name)).unwrap();
        }
        fs::write(p.join(".out.pyproc-partial-file01"), "a file").unwrap();
        fs::create_dir(p.join("target")).unwrap();
        fs::write(p.join("target/precious"), "x").unwrap();
        std::os::unix::fs::symlink("target", p.join(".out.pyproc-partial-link01")).unwrap();

        let (_next, removed) = create(p, "out").unwrap();
        assert_eq!(removed, std::slice::from_ref(&abandoned));
        assert!(!abandoned.exists());
        assert!(live.dir.path().is_dir(), "a live writer's folder is kept");
        for name in kept.iter().chain(&[".out.pyproc-partial-file01", ".out.pyproc-partial-link01", "target/precious"]) {
            assert!(p.join(name).exists(), "{name} was touched");
        }
    }
}
