//! [`ProcessorBuilder`]: everything a [`Processor`] is set up with before its interpreter
//! starts (WASI fixes folders and limits at that moment). It produces a
//! [`ProcessorConfig`]; `ProcessorBuilder::build` (in `processor.rs`) makes the processor
//! from that.

use std::path::PathBuf;

use crate::denied::DenialLog;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::grants::{guest_path, Access, Grants, PathGrant};
use crate::processor::script::Script;
use crate::sandbox::instance::InstanceConfig;
use crate::sandbox::preopens::{self, MAX_RECORDING_ROOTS};
use crate::sandbox::seed::instance_seed;
use crate::supervise::cancel::CancelFlag;
use crate::supervise::limits::Limits;
use crate::wire::output::OutputSink;

/// The continuous data stream a processor is set up for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamInfo {
    pub num_channels: usize,
    /// Samples per second.
    pub sample_rate: f64,
}

/// Settings for a [`Processor`](crate::Processor); see
/// [`Processor::builder`](crate::Processor::builder) and
/// [`Processor::builder_for_source`](crate::Processor::builder_for_source).
#[derive(Debug, Clone)]
pub struct ProcessorBuilder {
    engine: Engine,
    script: ScriptArg,
    stream: StreamInfo,
    label: Option<String>,
    output: OutputSink,
    limits: Limits,
    seed: u64,
    recording_roots: Vec<PathBuf>,
    grants: Grants,
}

/// The script as the caller named it, resolved in `build`.
#[derive(Debug, Clone)]
enum ScriptArg {
    File(PathBuf),
    Text { name: PathBuf, source: String },
}

/// Everything a processor is made from, checked and resolved.
pub(crate) struct ProcessorConfig {
    pub script: Script,
    pub stream: StreamInfo,
    /// Limits and recording roots live here, the one copy the processor keeps.
    pub instance: InstanceConfig,
}

impl ProcessorBuilder {
    pub(crate) fn for_file(engine: &Engine, script: PathBuf) -> Self {
        Self::new(engine, ScriptArg::File(script))
    }

    pub(crate) fn for_text(engine: &Engine, name: PathBuf, source: String) -> Self {
        Self::new(engine, ScriptArg::Text { name, source })
    }

    fn new(engine: &Engine, script: ScriptArg) -> Self {
        ProcessorBuilder {
            engine: engine.clone(),
            script,
            stream: StreamInfo { num_channels: 1, sample_rate: 30_000.0 },
            label: None,
            output: OutputSink::default(),
            limits: Limits::default(),
            seed: 0,
            recording_roots: Vec::new(),
            grants: Grants::default(),
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

    /// A host folder under which `start_recording` folders may lie (at most four). The
    /// script sees the `index`th root granted at `/recordings/<index>`, read-write, and
    /// only between `start_recording` and `stop_recording`; `start_recording(dir)` hands it
    /// `dir` under that guest path. WASI fixes an interpreter's folders when it starts, so
    /// they are named here.
    pub fn recording_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.recording_roots.push(dir.into());
        self
    }

    /// What of the host the script may reach besides its data (default: its own folder,
    /// readable); see [`Grants`].
    pub fn grants(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self
    }

    /// The stream set with [`stream`](Self::stream).
    pub(crate) fn stream_info(&self) -> StreamInfo {
        self.stream
    }

    /// The label set with [`label`](Self::label), else the script's file name.
    pub(crate) fn label_or_default(&self) -> String {
        self.label.clone().unwrap_or_else(|| match &self.script {
            ScriptArg::File(path) | ScriptArg::Text { name: path, .. } => Script::label_for(path),
        })
    }

    /// The engine and the checked settings a processor is started with.
    pub(crate) fn into_config(self) -> Result<(Engine, ProcessorConfig)> {
        let config = self.config()?;
        Ok((self.engine, config))
    }

    fn config(&self) -> Result<ProcessorConfig> {
        let script = match &self.script {
            ScriptArg::File(path) => Script::file(path)?,
            ScriptArg::Text { name, source } => Script::text(name.clone(), source.clone()),
        };
        let label = self.label.clone().unwrap_or_else(|| script.default_label());
        if self.recording_roots.len() > MAX_RECORDING_ROOTS {
            return Err(Error::TooManyRecordingRoots { granted: self.recording_roots.len(), max: MAX_RECORDING_ROOTS });
        }
        let roots = self
            .recording_roots
            .iter()
            .map(|root| std::path::absolute(root).map_err(|e| Error::engine("granting a recording root", e)))
            .collect::<Result<Vec<_>>>()?;
        let mut grants = self.grants.clone();
        if let Some(grant) = grants.paths.iter().find(|g| preopens::reserved(&g.guest)) {
            return Err(Error::BadGrant {
                flag: grant.access.flag(),
                value: grant.guest.clone(),
                why: "that sandbox path is the interpreter's own library or a recording root's place; map the grant elsewhere with HOST::GUEST".into(),
            });
        }
        if let (true, ScriptArg::File(_)) = (grants.script_folder, &self.script) {
            grants.paths.insert(0, script_folder(script.path())?);
        }
        let instance = InstanceConfig {
            seed: instance_seed(self.seed, &label),
            label,
            output: self.output.clone(),
            limits: self.limits.clone(),
            recording_roots: roots,
            cancel: CancelFlag::default(),
            grants,
            denials: DenialLog::default(),
            private_tmp: std::sync::Arc::new(
                tempfile::Builder::new().prefix("pyproc-tmp-").tempdir().map_err(|e| Error::engine("creating the script's private /tmp", e))?,
            ),
        };
        Ok(ProcessorConfig { script, stream: self.stream, instance })
    }
}

/// The read grant of the folder holding `script` (an absolute path).
fn script_folder(script: &std::path::Path) -> Result<PathGrant> {
    let bad = |why: String| Error::BadGrant { flag: "the script folder", value: script.display().to_string(), why };
    let dir = script.parent().ok_or_else(|| bad("the script has no folder".into()))?;
    let guest = guest_path(dir.to_str().ok_or_else(|| bad("the path is not UTF-8".into()))?).map_err(bad)?;
    Ok(PathGrant { host: dir.to_path_buf(), guest, access: Access::Read })
}
