//! Where granted folders appear inside the sandbox.
//!
//! The ready snapshot (the engine's `ready_snapshot.rs`) is taken after the C library has
//! read its table of preopened folders, so that table is frozen with the snapshot: every
//! interpreter sees the same folder names at the same descriptors. The snapshot is
//! therefore made with placeholders at fixed guest paths:
//! - [`MAX_RECORDING_ROOTS`] recording roots at `/recordings/<index>`: at run time the
//!   granted roots take those places (unused ones stay empty and read-only). A script gets
//!   `start_recording("/recordings/0/…")` for a folder inside the first granted root; the
//!   files land in the host folder.
//! - an empty, read-only `/`, which every other path resolves against. Path grants (the
//!   script's folder, `--allow-read`, `--allow-write`, the private `/tmp`) are preopened
//!   after the table the C library knows, and `guest_paths.rs` sends paths under `/` to
//!   them.

use std::path::{Path, PathBuf};

use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::error::Error;
use crate::grants::{Access, PathGrant};
use crate::sandbox::guest_paths::GuestPaths;
use crate::sandbox::state::GuestFolders;

/// Where the guest's C library expects the stdlib zip's folder.
const STDLIB_GUEST_DIR: &str = "/usr/local/lib";

/// How many recording roots one processor may be granted.
pub(crate) const MAX_RECORDING_ROOTS: usize = 4;

/// The descriptor of the first recording root: stdio is 0-2 and the stdlib 3, in the
/// order [`preopen`] adds them.
pub(crate) const FIRST_ROOT_FD: u32 = 4;

/// The descriptor of the placeholder `/`, after the recording roots.
pub(crate) const SLASH_FD: u32 = FIRST_ROOT_FD + MAX_RECORDING_ROOTS as u32;

/// Preopens every folder an interpreter sees, in the one order the ready snapshot's C
/// library recorded (the snapshot is built with no roots and no grants, instances with
/// theirs): the stdlib read-only, then the recording roots' places, `roots` read-write
/// first and the empty placeholder read-only in the rest, then the empty `/`; then,
/// unknown to the C library, each path grant's folder. Returns the grants' table.
pub(crate) fn preopen(wasi: &mut WasiCtxBuilder, folders: &GuestFolders, roots: &[PathBuf], grants: &[PathGrant]) -> Result<GuestPaths, Error> {
    wasi.preopened_dir(&folders.stdlib, STDLIB_GUEST_DIR, FsPerms::ReadOnly)
        .map_err(|e| Error::engine("opening the stdlib directory", e))?;
    for i in 0..MAX_RECORDING_ROOTS {
        let (dir, perms) = match roots.get(i) {
            Some(dir) => (dir.as_path(), FsPerms::ReadWrite),
            None => (folders.empty.as_path(), FsPerms::ReadOnly),
        };
        wasi.preopened_dir(dir, guest_root(i), perms).map_err(|e| Error::engine("granting a directory", e))?;
    }
    wasi.preopened_dir(&folders.empty, "/", FsPerms::ReadOnly).map_err(|e| Error::engine("opening the empty root", e))?;
    let mut paths = GuestPaths::default();
    for (i, grant) in grants.iter().enumerate() {
        let bad = |why: String| Error::BadGrant { flag: grant.access.flag(), value: grant.host.display().to_string(), why };
        let meta = std::fs::metadata(&grant.host).map_err(|e| bad(format!("{e} (a granted path must exist on this machine)")))?;
        let (dir, file) = if meta.is_dir() {
            (grant.host.as_path(), None)
        } else {
            let dir = grant.host.parent().ok_or_else(|| bad("a file without a folder".into()))?;
            let name = grant.host.file_name().and_then(|n| n.to_str()).ok_or_else(|| bad("the file name is not UTF-8".into()))?;
            (dir, Some(name.to_owned()))
        };
        let perms = match grant.access {
            Access::Read => FsPerms::ReadOnly,
            Access::Write => FsPerms::ReadWrite,
        };
        // The C library never learns this folder's name: it is reachable only through `/`.
        wasi.preopened_dir(dir, format!("/.pyproc-grant-{i}"), perms).map_err(|e| bad(format!("cannot open it: {e:#}")))?;
        paths.mount(grant, SLASH_FD + 1 + i as u32, file);
    }
    Ok(paths)
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

/// Whether a grant may not take the guest path `guest` (normalized): the interpreter's own
/// library and the recording roots' places, which the C library sends to their own
/// preopens before `/` is consulted.
pub(crate) fn reserved(guest: &str) -> bool {
    [STDLIB_GUEST_DIR, "/recordings"].iter().any(|prefix| guest == *prefix || guest.starts_with(&format!("{prefix}/")))
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

    #[test]
    fn grants_may_not_sit_where_other_preopens_are() {
        assert!(reserved("/usr/local/lib") && reserved("/usr/local/lib/x") && reserved("/recordings/0/a"));
        assert!(!reserved("/usr/local") && !reserved("/usr/local/library") && !reserved("/") && !reserved("/recordingsX"));
    }
}
