//! Compiled interpreter modules on disk.
//!
//! Compiling the 100 MB interpreter takes about a minute on 2 cores and ~2 GB of memory, so
//! it is done once per user: serialized into `<cache>/compiled/`, under a name keyed by the
//! artifact's sha256 and wasmtime's own compatibility hash (its version and every engine
//! setting that changes the machine code), and mapped back with `deserialize_file`.
//! A new build replaces the ones it supersedes (same module and engine settings, older key).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use wasmtime::{Engine, Module};

use crate::error::Error;
use crate::progress::{Progress, SetupEvent};

/// Where the compiled form of `wasm_sha256` for `engine` lives under `cache_root`.
pub fn compiled_path(engine: &Engine, cache_root: &Path, stem: &str, wasm_sha256: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let short = &wasm_sha256[..16.min(wasm_sha256.len())];
    cache_root.join("compiled").join(format!("{stem}-{short}-{:016x}.cwasm", hasher.finish()))
}

/// Loads the compiled module, compiling and caching it first if needed.
pub fn load_or_compile(
    engine: &Engine,
    wasm: &Path,
    wasm_sha256: &str,
    cache_root: &Path,
    progress: &Progress,
) -> Result<Module, Error> {
    let stem = wasm.file_stem().and_then(|s| s.to_str()).unwrap_or("module");
    let read = || std::fs::read(wasm).map_err(|e| Error::ModuleCache { action: "read", path: wasm.to_path_buf(), message: e.to_string() });
    load_or_build(engine, cache_root, stem, wasm_sha256, wasm, progress, read)
}

/// Loads the compiled module cached as `stem` + `key`, or makes its wasm with `produce`,
/// compiles and caches it first. `what` names it in progress events.
pub fn load_or_build(
    engine: &Engine,
    cache_root: &Path,
    stem: &str,
    key: &str,
    what: &Path,
    progress: &Progress,
    produce: impl FnOnce() -> Result<Vec<u8>, Error>,
) -> Result<Module, Error> {
    let path = compiled_path(engine, cache_root, stem, key);
    if path.is_file() {
        // SAFETY: only this module writes into the cache, atomically (temp file + rename),
        // from `Engine::precompile_module` with an engine of the same compatibility hash.
        match unsafe { Module::deserialize_file(engine, &path) } {
            Ok(module) => return Ok(module),
            Err(e) => tracing::warn!(path = %path.display(), "recompiling: the cached module is unusable: {e:#}"),
        }
    }
    compile_into(engine, what, &path, progress, produce)?;
    // SAFETY: as above; it was just written by us.
    unsafe { Module::deserialize_file(engine, &path) }
        .map_err(|e| Error::ModuleCache { action: "load", path: path.clone(), message: format!("{e:#}") })
}

fn compile_into(
    engine: &Engine,
    what: &Path,
    path: &Path,
    progress: &Progress,
    produce: impl FnOnce() -> Result<Vec<u8>, Error>,
) -> Result<(), Error> {
    let err = |action: &'static str, path: &Path, e: &dyn std::fmt::Display| Error::ModuleCache {
        action,
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    progress.emit(SetupEvent::CompilingStarted { module: what.to_path_buf() });
    let started = Instant::now();
    let bytes = produce()?;
    let compiled = engine.precompile_module(&bytes).map_err(|e| err("compile", what, &format!("{e:#}")))?;
    drop(bytes);
    let dir = path.parent().expect("compiled path has a parent");
    std::fs::create_dir_all(dir).map_err(|e| err("create", dir, &e))?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, &compiled).map_err(|e| err("write", &tmp, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err("store", path, &e)
    })?;
    progress.emit(SetupEvent::CompilingFinished { cached_at: path.to_path_buf(), elapsed: started.elapsed() });
    remove_superseded(path);
    Ok(())
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
