//! The engine behind `pyproc::Engine`.

use pyproc_host::Engine;

pub struct EngineHandle(pub(crate) Engine);

/// Prepares the engine: installs and compiles the interpreter the first time (minutes,
/// logged through `tracing`), loads it from the cache afterwards. The C++ `pyproc::Engine`
/// constructor documents this.
pub fn engine_new(cache_dir: &str) -> Result<Box<EngineHandle>, pyproc_host::Error> {
    let builder = Engine::builder();
    let builder = if cache_dir.is_empty() { builder } else { builder.cache_root(cache_dir) };
    Ok(Box::new(EngineHandle(builder.prepare()?)))
}
