//! `pyproc new NAME`: a new script from the template.

use std::path::{Path, PathBuf};

use anyhow::Context;

const TEMPLATE: &str = include_str!("../../examples/processor_template.py");

/// Writes `NAME.py` (`.py` added if missing); never overwrites.
pub fn new_script(name: &Path) -> anyhow::Result<PathBuf> {
    let path = if name.extension().is_some_and(|e| e == "py") { name.to_path_buf() } else { name.with_extension("py") };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {} (pyproc new never overwrites a file)", path.display()))?;
    std::io::Write::write_all(&mut file, TEMPLATE.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
