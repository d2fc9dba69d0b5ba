//! `pyproc check`: import and construct a script without data, and say what is wrong.

use std::path::Path;
use std::sync::{Arc, Mutex};

use pyproc_host::{Denials, Engine, Grants, OutputSink, OutputStream, Processor};

/// What `check` found.
pub struct Checked {
    /// Empty: the script imports and constructs, and its callbacks take pyproc's arguments.
    pub problems: Vec<String>,
    /// Accesses the script tried while importing and constructing, and was refused.
    pub denials: Denials,
    /// The script's `PyProcessor` declares `channel_independent = True`.
    pub channel_independent: bool,
}

pub fn check(engine: &Engine, script: &Path, channels: usize, sample_rate: f64, grants: Grants) -> anyhow::Result<Checked> {
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
    let (denials, channel_independent) = match built {
        Ok(processor) => (processor.denials(), processor.channel_independent()),
        Err(err) => {
            // The error names the refusal that stopped the import, with its flag.
            problems.push(err.to_string());
            (Denials::default(), false)
        }
    };
    Ok(Checked { problems, denials, channel_independent })
}
