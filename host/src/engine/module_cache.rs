//! Compiled interpreter modules on disk.
//!
//! Compiling the 100 MB interpreter takes about a minute on 2 cores and ~2 GB of memory, so
//! it is done once per user (by `EngineBuilder::prepare`): serialized into
//! `<cache>/compiled/`, under a name keyed by the artifact's sha256 and wasmtime's own
//! compatibility hash (its version and every engine setting that changes the machine
//! code), and mapped back with `deserialize_file`.
//! A new build replaces the ones it supersedes (same module and engine settings, older key).

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::engine::progress::{Progress, SetupEvent};
use crate::error::Error;

/// The folder of compiled modules under a cache root.
pub(crate) fn dir(cache_root: &Path) -> PathBuf {
    cache_root.join("compiled")
}

/// One compiled module in the cache: `<stem>-<key>-<engine>.cwasm`.
pub(crate) struct Entry<'a> {
    engine: &'a Engine,
    path: PathBuf,
}

impl<'a> Entry<'a> {
    /// The compiled form of the module keyed `key` (its sha256, or a recipe's) for `engine`.
    pub fn new(engine: &'a Engine, cache_root: &Path, stem: &str, key: &str) -> Self {
        let short = &key[..16.min(key.len())];
        let file = format!("{stem}-{short}-{}.cwasm", engine_key(engine));
        Entry { engine, path: dir(cache_root).join(file) }
    }

    /// Where a failed build of this module is remembered: `<stem>-<key>.failed`.
    pub fn failure_marker(&self) -> PathBuf {
        let name = self.path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let stem_and_key = name.rsplit_once('-').map_or(name, |(head, _)| head);
        self.path.with_file_name(format!("{stem_and_key}.failed"))
    }

    /// The cached module, if it is there and usable. Never compiles.
    pub fn load(&self) -> Result<Option<Module>, Error> {
        if !self.path.is_file() {
            return Ok(None);
        }
        // SAFETY: only this module writes into the cache, atomically (temp file + rename),
        // from `Engine::precompile_module` with an engine of the same compatibility hash.
        match unsafe { Module::deserialize_file(self.engine, &self.path) } {
            Ok(module) => Ok(Some(module)),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), "the cached module is unusable: {e:#}");
                Ok(None)
            }
        }
    }

    /// Loads the module, first making its wasm with `produce`, compiling and caching it if
    /// it is not cached. `what` names it in progress events.
    pub fn load_or_build(&self, what: &Path, progress: &Progress, produce: impl FnOnce() -> Result<Vec<u8>, Error>) -> Result<Module, Error> {
        if let Some(module) = self.load()? {
            return Ok(module);
        }
        self.compile(what, progress, produce)?;
        // SAFETY: as in `load`; it was just written by us.
        unsafe { Module::deserialize_file(self.engine, &self.path) }
            .map_err(|e| Error::ModuleCache { action: "load", path: self.path.clone(), message: format!("{e:#}") })
    }

    fn compile(&self, what: &Path, progress: &Progress, produce: impl FnOnce() -> Result<Vec<u8>, Error>) -> Result<(), Error> {
        let err = |action: &'static str, path: &Path, e: &dyn std::fmt::Display| Error::ModuleCache {
            action,
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        progress.emit(SetupEvent::CompilingStarted { module: what.to_path_buf() });
        let started = Instant::now();
        let bytes = produce()?;
        let compiled = self.engine.precompile_module(&bytes).map_err(|e| err("compile", what, &format!("{e:#}")))?;
        drop(bytes);
        let dir = self.path.parent().expect("compiled path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| err("create", dir, &e))?;
        // Written beside its final name and renamed: a reader never sees half a module, and
        // an interrupted write leaves only a temporary file the OS or the next run cleans.
        let mut tmp = tempfile::Builder::new().prefix(".compiling-").tempfile_in(dir).map_err(|e| err("create a file in", dir, &e))?;
        tmp.write_all(&compiled).map_err(|e| err("write", tmp.path(), &e))?;
        tmp.persist(&self.path).map_err(|e| err("store", &self.path, &e.error))?;
        progress.emit(SetupEvent::CompilingFinished { cached_at: self.path.clone(), elapsed: started.elapsed() });
        remove_superseded(&self.path);
        Ok(())
    }
}

/// 16 hex digits of wasmtime's compatibility hash for `engine` (its version and every
/// setting that changes the machine code), through SHA-256: stable across Rust releases,
/// unlike the standard library's `DefaultHasher`.
fn engine_key(engine: &Engine) -> String {
    struct Sha(Sha256);
    impl Hasher for Sha {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            unreachable!("only the digest is read")
        }
    }
    let mut hasher = Sha(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hex::encode(&hasher.0.finalize()[..8])
}

/// Deletes the builds `path` supersedes: the same module (`<stem>-<key>-<engine>.cwasm`)
/// for the same engine settings under another key, i.e. from an older interpreter or guest
/// runtime. Each is about 300 MB and nothing would ever load it again. Builds for other
/// engine settings (another wasmtime, the bench's build without deadlines) stay.
fn remove_superseded(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return };
    let Some((stem_and_key, engine)) = name.rsplit_once('-') else { return };
    let Some((stem, key)) = stem_and_key.rsplit_once('-') else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let other = entry.file_name();
        let Some(other) = other.to_str() else { continue };
        let Some(other_key) = other.strip_prefix(stem).and_then(|r| r.strip_prefix('-')).and_then(|r| r.strip_suffix(engine)).and_then(|r| r.strip_suffix('-')) else {
            continue;
        };
        if other_key != key && other_key.len() == key.len() && other_key.bytes().all(|b| b.is_ascii_hexdigit()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!("pyproc: removed the superseded compiled module {other}"),
                Err(e) => tracing::warn!("pyproc: could not remove the superseded compiled module {other}: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_build_removes_only_older_builds_of_the_same_module_and_engine() {
        let dir = tempfile::tempdir().unwrap();
        let keep = [
            "pyproc-ready-1111111111111111-aaaaaaaaaaaaaaaa.cwasm", // the new build
            "pyproc-ready-2222222222222222-bbbbbbbbbbbbbbbb.cwasm", // other engine settings
            "python-snapshot-3333333333333333-aaaaaaaaaaaaaaaa.cwasm", // another module
            "pyproc-ready-4444444444444444.failed",
            "pyproc-ready-notakey-aaaaaaaaaaaaaaaa.cwasm",
        ];
        let gone = ["pyproc-ready-5555555555555555-aaaaaaaaaaaaaaaa.cwasm", "pyproc-ready-6666666666666666-aaaaaaaaaaaaaaaa.cwasm"];
        for name in keep.iter().chain(&gone) {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_superseded(&dir.path().join(keep[0]));
        let mut left: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        let mut expected: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(left, expected);
    }
}
