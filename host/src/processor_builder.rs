//! [`ProcessorBuilder`]: everything a [`Processor`] is set up with before its interpreter
//! starts (WASI fixes folders and limits at that moment).

use std::path::PathBuf;

use crate::callback::Callback;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::guest_output::OutputSink;
use crate::instance::{GuestInstance, InstanceConfig};
use crate::limits::Limits;
use crate::processor::{Processor, Stats, StreamInfo};
use crate::recovery::Recovery;

/// Settings for a [`Processor`]; see [`Processor::builder`].
#[derive(Debug)]
pub struct ProcessorBuilder {
    engine: Engine,
    script: PathBuf,
    stream: StreamInfo,
    label: Option<String>,
    output: OutputSink,
    limits: Limits,
    seed: u64,
    recording_roots: Vec<PathBuf>,
}

impl ProcessorBuilder {
    pub(crate) fn new(engine: &Engine, script: PathBuf) -> Self {
        ProcessorBuilder {
            engine: engine.clone(),
            script,
            stream: StreamInfo { num_channels: 1, sample_rate: 30_000.0 },
            label: None,
            output: OutputSink::default(),
            limits: Limits::default(),
            seed: 0,
            recording_roots: Vec::new(),
        }
    }

    /// The seed of the script's random state (default 0); see the crate docs on
    /// determinism. The interpreter's own seed also depends on the label.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The stream the script's `PyProcessor` is constructed for (default 1 channel, 30 kHz).
    pub fn stream(mut self, num_channels: usize, sample_rate: f64) -> Self {
        self.stream = StreamInfo { num_channels, sample_rate };
        self
    }

    /// Name used for this instance in logs (default: the script's file name).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Where the script's printed lines go (default: `tracing`).
    pub fn output(mut self, sink: OutputSink) -> Self {
        self.output = sink;
        self
    }

    /// Cap on the interpreter's memory; a larger allocation is a Python `MemoryError`.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.limits.memory_bytes = bytes;
        self
    }

    /// Deadlines, memory, output caps and restarts (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// A directory under which `start_recording` directories may lie. It is visible to the
    /// script read-write at its own path (WASI fixes an instance's directories when it
    /// starts, so they must be named here, before the interpreter starts).
    pub fn recording_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.recording_roots.push(dir.into());
        self
    }

    /// Starts the interpreter, imports the script and constructs its `PyProcessor`.
    pub fn build(self) -> Result<Processor> {
        let script = std::path::absolute(&self.script)
            .map_err(|cause| Error::ScriptUnreadable { path: self.script.clone(), cause })?;
        let label = self.label.unwrap_or_else(|| {
            script.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "script".into())
        });
        if self.recording_roots.len() > crate::recording_paths::MAX_RECORDING_ROOTS {
            return Err(Error::TooManyRecordingRoots { granted: self.recording_roots.len(), max: crate::recording_paths::MAX_RECORDING_ROOTS });
        }
        let mut roots = Vec::new();
        for root in &self.recording_roots {
            roots.push(std::path::absolute(root).map_err(|e| Error::engine("granting a recording root", e))?);
        }
        let seed = crate::seed::instance_seed(self.seed, &label);
        let config = InstanceConfig { label, output: self.output, limits: self.limits.clone(), seed, writable_dirs: roots.clone() };
        let instance = GuestInstance::start(&self.engine, &config)?;
        let mut processor = Processor {
            engine: self.engine,
            instance: Some(instance),
            recovery: Recovery::new(self.limits.max_consecutive_restarts),
            limits: self.limits,
            config,
            source: String::new(),
            script,
            stream: self.stream,
            recording_roots: roots,
            acquiring: false,
            recording: None,
            capacity: 0,
            events: Vec::new(),
            spikes: Vec::new(),
            stats: Stats::default(),
        };
        processor.source = processor.read_script()?;
        processor.run(Callback::Import, processor.load_command(processor.source.clone()), None)?;
        Ok(processor)
    }
}
