//! Shared by the integration tests: one engine per test binary (start-ups are the slow
//! part), scripts by name, and a sink that keeps what scripts print.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use pyproc_host::{Emitted, Engine, OutputSink, Processed, Processor, ProcessorBuilder};

pub fn engine() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::prepare().expect("the interpreter installs and compiles")).clone()
}

/// A script from host/tests/scripts.
pub fn test_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scripts").join(name)
}

/// A script from the repository's examples/.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

/// Lines the script printed to stdout, in order.
#[derive(Clone, Default)]
pub struct Printed(Arc<Mutex<Vec<String>>>);

impl Printed {
    pub fn sink(&self) -> OutputSink {
        let lines = self.0.clone();
        OutputSink::new(move |line| lines.lock().unwrap().push(line.text.to_owned()))
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

pub fn builder(script: impl Into<PathBuf>) -> ProcessorBuilder {
    Processor::builder(&engine(), script)
}

/// The script's output for a block that must have gone through the script.
pub trait Done<'a> {
    fn done(self) -> Emitted<'a>;
}

impl<'a> Done<'a> for pyproc_host::Result<Processed<'a>> {
    #[track_caller]
    fn done(self) -> Emitted<'a> {
        match self {
            Ok(Processed::Done(emitted)) => emitted,
            Ok(Processed::PassedThrough(why)) => panic!("the block passed the script by: {why}"),
            Err(err) => panic!("process failed: {err}"),
        }
    }
}
