//! What a writer may create: folders and new regular files inside its staging folder, and
//! never a file of a recording it reads. Folder names must be relative paths of plain
//! components; each folder on the way is created or, if it already exists (a script may have
//! made it), resolved and checked to lie inside the staging folder; a file is created anew
//! (`O_EXCL`: a link in its place is removed, never followed), and one already there is
//! replaced only if it is not an input file (same device and inode), whatever its path says.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use crate::containment::{plain_relative, Root, Unresolved};
use crate::error::{io, OebinError, Result};

#[derive(Debug)]
pub(crate) struct OutputGuard {
    staging: Root,
    /// (device, inode) of every file of the protected recordings.
    inputs: HashSet<(u64, u64)>,
    protected: Vec<PathBuf>,
}

impl OutputGuard {
    pub fn new(staging: &Path) -> Result<OutputGuard> {
        Ok(OutputGuard { staging: Root::new(staging)?, inputs: HashSet::new(), protected: Vec::new() })
    }

    /// Never writes to a file of the recording at `dir` (nor to another name of one).
    pub fn protect(&mut self, dir: &Path) -> Result<()> {
        let dir = dir.canonicalize().map_err(io("resolve", dir))?;
        if self.protected.contains(&dir) {
            return Ok(());
        }
        for entry in WalkDir::new(&dir) {
            let entry = entry.map_err(|e| OebinError::Io { action: "list", path: e.path().unwrap_or(&dir).to_path_buf(), cause: e.into() })?;
            if entry.file_type().is_file() {
                let meta = entry.metadata().map_err(|e| OebinError::Io { action: "read", path: entry.path().to_path_buf(), cause: e.into() })?;
                self.inputs.insert((meta.dev(), meta.ino()));
            }
        }
        self.protected.push(dir);
        Ok(())
    }

    /// `base/folder` (`folder` as named by a caller, e.g. `Node-100.stream/TTL/`), created
    /// as needed inside the staging folder; `base` must already be inside it.
    pub fn folder(&self, base: &Path, folder: &str) -> Result<PathBuf> {
        let relative = plain_relative(folder).map_err(|problem| unsafe_output(&base.join(folder), format!("the folder name {folder:?} {problem}")))?;
        self.folders(base, &relative)
    }

    /// `base/relative` created folder by folder; `relative` holds only plain names.
    pub fn folders(&self, base: &Path, relative: &Path) -> Result<PathBuf> {
        let mut dir = base.to_path_buf();
        self.inside(&dir)?;
        for component in relative.components() {
            let Component::Normal(name) = component else { unreachable!("plain components only") };
            dir.push(name);
            match fs::symlink_metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                // A link (a script may have made one) is followed only while it stays inside.
                Ok(_) => {
                    if !self.inside(&dir)?.is_dir() {
                        return Err(unsafe_output(&dir, "something other than a folder is in its place".into()));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::create_dir(&dir).map_err(io("create", &dir))?,
                Err(cause) => return Err(OebinError::Io { action: "read", path: dir, cause }),
            }
        }
        Ok(dir)
    }

    /// A new regular file at `path` (in a folder from [`OutputGuard::folder`]), open for
    /// reading and writing.
    pub fn create(&self, path: &Path) -> Result<File> {
        let parent = path.parent().expect("files are created in a folder");
        self.inside(parent)?;
        if let Ok(meta) = fs::symlink_metadata(path) {
            if meta.is_file() && self.inputs.contains(&(meta.dev(), meta.ino())) {
                return Err(unsafe_output(path, "it is a file of the input recording".into()));
            }
            if meta.is_dir() {
                return Err(unsafe_output(path, "a folder is in its place".into()));
            }
            fs::remove_file(path).map_err(io("replace", path))?;
        }
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(path).map_err(io("create", path))?;
        let meta = file.metadata().map_err(io("read", path))?;
        if self.inputs.contains(&(meta.dev(), meta.ino())) {
            return Err(unsafe_output(path, "it is a file of the input recording".into()));
        }
        Ok(file)
    }

    /// `path`'s real location, if inside the staging folder.
    fn inside(&self, path: &Path) -> Result<PathBuf> {
        match self.staging.resolve(path) {
            Ok(real) => Ok(real),
            Err(Unresolved::Outside(real)) => Err(unsafe_output(path, format!("it resolves to {}, outside the output folder", real.display()))),
            Err(Unresolved::Missing) => Err(unsafe_output(path, "it does not exist".into())),
            Err(Unresolved::Other(cause)) => Err(OebinError::Io { action: "resolve", path: path.to_path_buf(), cause }),
        }
    }
}

fn unsafe_output(path: &Path, problem: String) -> OebinError {
    OebinError::UnsafeOutput { path: path.to_path_buf(), problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging_and_input() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, input) = (tmp.path().join("staging"), tmp.path().join("input"));
        fs::create_dir_all(&staging).unwrap();
        fs::create_dir_all(input.join("continuous/S-100.s")).unwrap();
        fs::write(input.join("continuous/S-100.s/continuous.dat"), "raw samples").unwrap();
        (tmp, staging, input)
    }

    #[test]
    fn another_name_for_an_input_file_is_never_written() {
        let (_tmp, staging, input) = staging_and_input();
        let mut guard = OutputGuard::new(&staging).unwrap();
        guard.protect(&input).unwrap();
        let dat = input.join("continuous/S-100.s/continuous.dat");
        fs::hard_link(&dat, staging.join("continuous.dat")).unwrap();
        let err = guard.create(&staging.join("continuous.dat")).unwrap_err().to_string();
        assert!(err.contains("it is a file of the input recording"), "{err}");
        assert_eq!(fs::read_to_string(&dat).unwrap(), "raw samples");
    }

    #[test]
    fn a_link_in_place_of_a_file_is_replaced_never_followed() {
        let (_tmp, staging, input) = staging_and_input();
        let dat = input.join("continuous/S-100.s/continuous.dat");
        std::os::unix::fs::symlink(&dat, staging.join("states.npy")).unwrap();
        let guard = OutputGuard::new(&staging).unwrap();
        guard.create(&staging.join("states.npy")).unwrap();
        assert!(fs::symlink_metadata(staging.join("states.npy")).unwrap().is_file());
        assert_eq!(fs::read_to_string(&dat).unwrap(), "raw samples");
    }

    #[test]
    fn folders_that_leave_the_staging_folder_are_refused_and_nothing_is_made_outside() {
        let (tmp, staging, input) = staging_and_input();
        let guard = OutputGuard::new(&staging).unwrap();
        for bad in ["../escape", "/tmp/escape", "a/../../escape", ""] {
            let err = guard.folder(&staging, bad).unwrap_err().to_string();
            assert!(err.starts_with("refusing to write") && err.contains(&format!("the folder name {bad:?}")), "{err}");
        }
        std::os::unix::fs::symlink(&input, staging.join("events")).unwrap();
        let err = guard.folder(&staging, "events/Node-100.s/TTL").unwrap_err().to_string();
        assert!(err.contains("outside the output folder"), "{err}");
        assert!(!input.join("Node-100.s").exists() && !tmp.path().join("escape").exists());
    }
}
