//! Where granted recording folders appear inside the sandbox.
//!
//! The ready snapshot (the engine's `ready_snapshot.rs`) is taken after the C library has read its table
//! of preopened folders, so that table is frozen with the snapshot: every interpreter sees
//! the same folder names at the same descriptors. The snapshot is therefore made with
//! [`MAX_RECORDING_ROOTS`] placeholder folders at fixed guest paths, and at run time the
//! granted folders take those places (unused ones stay empty and read-only). A script gets
//! `start_recording("/recordings/0/…")` for a folder inside the first granted root; the
//! files land in the host folder.

use std::path::{Path, PathBuf};

use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::error::Error;
use crate::sandbox::state::GuestFolders;

/// Where the guest's C library expects the stdlib zip's folder.
const STDLIB_GUEST_DIR: &str = "/usr/local/lib";

/// How many recording roots one processor may be granted.
pub(crate) const MAX_RECORDING_ROOTS: usize = 4;

/// The descriptor of the first recording root: stdio is 0-2 and the stdlib 3, in the
/// order [`preopen`] adds them.
pub(crate) const FIRST_ROOT_FD: u32 = 4;

/// Preopens every folder an interpreter sees, in the one order the ready snapshot's C
/// library recorded (the snapshot is built with no roots, instances with theirs): the
/// stdlib read-only, then the recording roots' places, `roots` read-write first and the
/// empty placeholder read-only in the rest.
pub(crate) fn preopen(wasi: &mut WasiCtxBuilder, folders: &GuestFolders, roots: &[PathBuf]) -> Result<(), Error> {
    wasi.preopened_dir(&folders.stdlib, STDLIB_GUEST_DIR, FsPerms::ReadOnly)
        .map_err(|e| Error::engine("opening the stdlib directory", e))?;
    for i in 0..MAX_RECORDING_ROOTS {
        let (dir, perms) = match roots.get(i) {
            Some(dir) => (dir.as_path(), FsPerms::ReadWrite),
            None => (folders.empty.as_path(), FsPerms::ReadOnly),
        };
        wasi.preopened_dir(dir, guest_root(i), perms).map_err(|e| Error::engine("granting a directory", e))?;
    }
    Ok(())
}

/// The guest path of the `index`th recording root.
pub(crate) fn guest_root(index: usize) -> String {
    format!("/recordings/{index}")
}

/// `dir` (absolute, on the host) as the script sees it, if it lies inside a granted root.
pub(crate) fn to_guest(roots: &[PathBuf], dir: &Path) -> Option<String> {
    roots.iter().enumerate().find_map(|(i, root)| {
        let rest = dir.strip_prefix(root).ok()?;
        let rest = rest.to_str()?;
        Some(if rest.is_empty() { guest_root(i) } else { format!("{}/{rest}", guest_root(i)) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_inside_a_root_map_to_its_guest_path() {
        let roots = [PathBuf::from("/data/a"), PathBuf::from("/data/b")];
        assert_eq!(to_guest(&roots, Path::new("/data/b/rec1/x")).as_deref(), Some("/recordings/1/rec1/x"));
        assert_eq!(to_guest(&roots, Path::new("/data/a")).as_deref(), Some("/recordings/0"));
        assert_eq!(to_guest(&roots, Path::new("/data/ab")), None, "a prefix of the name is not a parent");
        assert_eq!(to_guest(&roots, Path::new("/elsewhere")), None);
    }
}
