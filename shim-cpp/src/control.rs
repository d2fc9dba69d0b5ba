//! What a reload or a restart rebuilds a processor from: the script, its options, the
//! stream, and the state a reloaded processor joins in (acquiring, recording). The control
//! thread changes it; the replacement thread builds from a copy.

use std::time::Duration;

use pyproc_host::{Engine, Error, Limits, OutputSink, Processor, ProcessorBuilder, ShardedProcessor};

use crate::ffi::ProcessorOptions;
use crate::fresh::{Fresh, Joins};
use crate::grants::grants_of;
use crate::held_output::HeldOutput;

#[derive(Clone)]
pub struct Control {
    pub script: String,
    pub options: ProcessorOptions,
    pub num_channels: u32,
    pub sample_rate: f64,
    pub acquiring: bool,
    pub recording: Option<String>,
    /// Where the interpreters' printed lines go (None: `tracing`).
    pub output: Option<OutputSink>,
}

impl Control {
    /// Starts the script's interpreters (import and `__init__`) with these settings. The
    /// processor never restarts an interpreter itself: the handle's replacement thread does.
    pub fn build(&self, engine: &Engine) -> Result<ShardedProcessor, Error> {
        self.build_printing_to(engine, None)
    }

    /// [`build`](Self::build), with the interpreters' printed lines going to `output`
    /// instead of where the handle's go.
    fn build_printing_to(&self, engine: &Engine, output: Option<OutputSink>) -> Result<ShardedProcessor, Error> {
        let o = &self.options;
        let mut builder = self.builder(engine, false)?;
        if let Some(sink) = output {
            builder = builder.output(sink);
        }
        if !o.recording_root.is_empty() {
            builder = builder.recording_root(o.recording_root.as_str());
        }
        let mut sharded = builder.sharded().assume_channel_independent(o.assume_channel_independent);
        if o.shards != 0 {
            sharded = sharded.shards(o.shards as usize);
        }
        sharded.build()
    }

    /// The settings of one interpreter running the script: the stream, seed, limits,
    /// grants, label and output (no recording folder: the viewer is built from these).
    /// `restart_in_line`: a stopped interpreter is restarted by the next call on the
    /// calling thread (the viewer's), instead of by the handle's replacement thread.
    pub fn builder(&self, engine: &Engine, restart_in_line: bool) -> Result<ProcessorBuilder, Error> {
        let o = &self.options;
        let defaults = Limits::default();
        let ms = |value: u32, default: Duration| if value == 0 { default } else { Duration::from_millis(value.into()) };
        let limits = Limits {
            callback_deadline: ms(o.callback_deadline_ms, defaults.callback_deadline),
            block_deadline: (o.block_deadline_ms > 0).then(|| Duration::from_millis(o.block_deadline_ms.into())),
            init_deadline: ms(o.init_deadline_ms, defaults.init_deadline),
            memory_bytes: if o.memory_limit_mb == 0 { defaults.memory_bytes } else { o.memory_limit_mb as usize * 1024 * 1024 },
            restart_in_line,
            ..defaults
        };
        let mut builder = Processor::builder(engine, &self.script)
            .stream(self.num_channels as usize, self.sample_rate)
            .seed(o.seed)
            .limits(limits)
            .grants(grants_of(o)?);
        if !o.label.is_empty() {
            builder = builder.label(o.label.as_str());
        }
        if let Some(sink) = &self.output {
            builder = builder.output(sink.clone());
        }
        Ok(builder)
    }

    /// A processor to put in the live one's place for a reload: it joins in the state set
    /// here.
    pub fn reloaded(&self, engine: &Engine) -> Result<Fresh, Error> {
        let joins = Joins::Settings { acquiring: self.acquiring, recording: self.recording.clone() };
        Ok(Fresh { processor: self.build(engine)?, joins })
    }

    /// A processor to put in the place of one whose interpreter stopped: it joins in what
    /// that one was doing when it goes in, and what it prints before is held till then.
    pub fn replacement(&self, engine: &Engine) -> Result<Fresh, Error> {
        let held = HeldOutput::new(self.output.clone().unwrap_or_default());
        let processor = self.build_printing_to(engine, Some(held.sink()))?;
        Ok(Fresh { processor, joins: Joins::Failed { held } })
    }

    /// Whether `dir` lies inside the recording root the interpreters were granted.
    pub fn can_record_in(&self, dir: &str) -> bool {
        let root = &self.options.recording_root;
        !root.is_empty()
            && matches!((std::path::absolute(dir), std::path::absolute(root)), (Ok(dir), Ok(root)) if dir.starts_with(&root))
    }
}
