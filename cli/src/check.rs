//! `pyproc check`: import and construct a script without data, and say what is wrong.

use std::path::Path;
use std::sync::{Arc, Mutex};

use pyproc_host::{Engine, Grants, OutputSink, OutputStream, Processor};

/// Returns the problems found (empty: the script is fine).
pub fn check(engine: &Engine, script: &Path, channels: usize, sample_rate: f64, grants: Grants) -> anyhow::Result<Vec<String>> {
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let warnings = warnings.clone();
        OutputSink::new(move |line| {
            if line.stream == OutputStream::Stderr && line.text.starts_with("pyproc: ") {
                warnings.lock().unwrap().push(line.text.trim_start_matches("pyproc: ").to_owned());
            }
        })
    };
    let built = Processor::builder(engine, script).stream(channels, sample_rate).output(sink).grants(grants).build();
    let mut problems = warnings.lock().unwrap().clone();
    if let Err(err) = built {
        problems.push(err.to_string());
    }
    Ok(problems)
}
