//! The engine behind `pyproc::Engine`.

use pyproc_host::Engine;

pub struct EngineHandle(pub(crate) Engine);

/// Prepares the engine: installs and compiles the interpreter the first time (minutes,
/// logged through `tracing`), loads it from the cache afterwards. The C++ `pyproc::Engine`
/// constructor documents this.
pub fn engine_new(cache_dir: &str) -> Result<Box<EngineHandle>, pyproc_host::Error> {
    Ok(Box::new(EngineHandle(builder(cache_dir).prepare()?)))
}

/// Loads the engine only if it was prepared before (no download, no compile): what a host
/// tries first, to say "this may take minutes" only when it will.
pub fn engine_open(cache_dir: &str) -> Result<Box<EngineHandle>, pyproc_host::Error> {
    Ok(Box::new(EngineHandle(builder(cache_dir).open()?)))
}

fn builder(cache_dir: &str) -> pyproc_host::EngineBuilder {
    let builder = Engine::builder();
    if cache_dir.is_empty() {
        builder
    } else {
        builder.cache_root(cache_dir)
    }
}
