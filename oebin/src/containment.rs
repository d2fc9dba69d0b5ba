//! Paths named by a recording's metadata stay inside the recording. A folder name from
//! `structure.oebin` must be a relative path of plain components (no `..`, no root, no
//! prefix), and what it resolves to on disk, symbolic links followed, must still lie inside
//! the recording folder; so must every file read from it.

use std::path::{Component, Path, PathBuf};

use crate::error::{io, OebinError, Result};

/// `value` as a relative path of plain components, or why it is not one.
pub(crate) fn plain_relative(value: &str) -> std::result::Result<PathBuf, String> {
    if value.contains('\0') {
        return Err("contains a NUL character".into());
    }
    plain_path(Path::new(value))
}

/// `path` if it is relative and made of plain components only, or why it is not.
pub(crate) fn plain_path(path: &Path) -> std::result::Result<PathBuf, String> {
    let mut plain = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => plain.push(name),
            Component::ParentDir => return Err("climbs out of its folder with \"..\"; it must stay inside the recording".into()),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path; it must be relative to the recording".into()),
            Component::CurDir => return Err("starts with \".\"; it must name a folder of the recording".into()),
        }
    }
    if plain.as_os_str().is_empty() {
        return Err("is empty; it must name a folder of the recording".into());
    }
    Ok(plain)
}

/// Why a path below a [`Root`] could not be used.
pub(crate) enum Unresolved {
    Missing,
    /// It resolves to this path, outside the root.
    Outside(PathBuf),
    Other(std::io::Error),
}

/// A folder that paths are resolved inside: the recording being read, or the staging
/// folder being written.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    dir: PathBuf,
    canonical: PathBuf,
}

impl Root {
    pub fn new(dir: &Path) -> Result<Root> {
        let canonical = dir.canonicalize().map_err(io("resolve", dir))?;
        Ok(Root { dir: dir.to_path_buf(), canonical })
    }

    /// `path` (the root joined with plain components) with every link followed, if that
    /// lies inside the root.
    pub fn resolve(&self, path: &Path) -> std::result::Result<PathBuf, Unresolved> {
        match path.canonicalize() {
            Ok(real) if real.starts_with(&self.canonical) => Ok(real),
            Ok(real) => Err(Unresolved::Outside(real)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Unresolved::Missing),
            Err(e) => Err(Unresolved::Other(e)),
        }
    }

    /// The folder `section/value` named by `field` of `structure`: a plain relative path
    /// that exists inside the root as a folder.
    pub fn metadata_folder(&self, structure: &Path, field: String, section: &str, value: &str) -> Result<DataFolder<'_>> {
        let bad = |problem: String| OebinError::BadField { path: structure.to_path_buf(), field: field.clone(), value: format!("{value:?}"), problem };
        let relative = plain_relative(value).map_err(bad)?;
        let dir = self.dir.join(section).join(relative);
        match self.resolve(&dir) {
            Ok(real) if real.is_dir() => Ok(DataFolder { root: self, dir, field, structure: structure.to_path_buf() }),
            Ok(_) => Err(bad(format!("{} is not a folder", dir.display()))),
            Err(Unresolved::Missing) => Err(bad(format!("{} does not exist", dir.display()))),
            Err(Unresolved::Outside(real)) => Err(bad(format!("{} leads outside the recording, to {}", dir.display(), real.display()))),
            Err(Unresolved::Other(cause)) => Err(OebinError::Io { action: "resolve", path: dir, cause }),
        }
    }

    /// `path` if it is a regular file inside the root (links inside it are followed).
    pub fn file(&self, path: &Path) -> Result<PathBuf> {
        match self.resolve(path) {
            Ok(real) if real.is_file() => Ok(path.to_path_buf()),
            Ok(_) => Err(OebinError::NotAFile { path: path.to_path_buf() }),
            Err(Unresolved::Missing) => Err(OebinError::Io { action: "open", path: path.to_path_buf(), cause: std::io::ErrorKind::NotFound.into() }),
            Err(Unresolved::Outside(target)) => Err(OebinError::OutsideRecording { path: path.to_path_buf(), root: self.dir.clone(), target }),
            Err(Unresolved::Other(cause)) => Err(OebinError::Io { action: "open", path: path.to_path_buf(), cause }),
        }
    }

    /// A regular file inside the root, opened for reading.
    pub fn open(&self, path: &Path) -> Result<std::fs::File> {
        std::fs::File::open(self.file(path)?).map_err(io("open", path))
    }
}

/// A folder named by a field of `structure.oebin`, resolved inside the recording.
pub(crate) struct DataFolder<'a> {
    root: &'a Root,
    dir: PathBuf,
    field: String,
    structure: PathBuf,
}

impl DataFolder<'_> {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file `name` in the folder, opened for reading; if it is missing, the error says
    /// which field named the folder.
    pub fn open(&self, name: &str) -> Result<(std::fs::File, PathBuf)> {
        let path = self.dir.join(name);
        match self.root.open(&path) {
            Ok(file) => Ok((file, path)),
            Err(OebinError::Io { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => {
                Err(OebinError::MissingFile { path, field: self.field.clone(), structure: self.structure.clone() })
            }
            Err(e) => Err(e),
        }
    }
}

/// `path` with every link followed, as far as it exists (a path not created yet resolves
/// through its nearest existing ancestor).
pub(crate) fn canonical_as_far_as_it_exists(path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path).map_err(io("resolve", path))?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => return Ok(rest.iter().rev().fold(real, |p, name| p.join(name))),
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                _ => return Ok(absolute),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_of_plain_components_are_accepted_with_or_without_a_trailing_slash() {
        assert_eq!(plain_relative("Rhythm_FPGA-100.0/TTL/"), Ok(PathBuf::from("Rhythm_FPGA-100.0/TTL")));
        assert_eq!(plain_relative("Acquisition_Board-100.Rhythm Data"), Ok(PathBuf::from("Acquisition_Board-100.Rhythm Data")));
    }

    #[test]
    fn parents_roots_dots_and_empty_names_are_refused() {
        for bad in ["../x", "a/../../b", "a/..", "/home/me", "//x", ".", "./a", "", "/", "a\0b"] {
            assert!(plain_relative(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_link_out_of_the_root_is_refused_and_a_link_inside_it_is_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let rec = tmp.path().join("rec");
        std::fs::create_dir_all(rec.join("continuous/real")).unwrap();
        std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
        std::os::unix::fs::symlink("real", rec.join("continuous/inside")).unwrap();
        std::os::unix::fs::symlink("../../outside", rec.join("continuous/out")).unwrap();
        let root = Root::new(&rec).unwrap();
        let structure = rec.join("structure.oebin");
        let folder = |v: &str| root.metadata_folder(&structure, "continuous[0].folder_name".into(), "continuous", v);
        assert_eq!(folder("inside/").unwrap().dir(), rec.join("continuous/inside"));
        let err = folder("out/").err().unwrap().to_string();
        assert!(err.contains("continuous[0].folder_name \"out/\"") && err.contains("leads outside the recording"), "{err}");
    }

    #[test]
    fn a_path_not_created_yet_resolves_through_its_existing_ancestor() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("real")).unwrap();
        std::os::unix::fs::symlink("real", tmp.path().join("link")).unwrap();
        let real = tmp.path().canonicalize().unwrap().join("real/new/out");
        assert_eq!(canonical_as_far_as_it_exists(&tmp.path().join("link/new/out")).unwrap(), real);
    }
}
