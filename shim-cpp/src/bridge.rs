//! The whole C++ boundary, in one place. C++ code includes `pyproc/processor.h`, which
//! wraps these declarations in RAII types; nothing else crosses.

use crate::engine_handle::{engine_new, engine_open, EngineHandle};
use crate::grants::check_grants;
use crate::locks::lock_waits_on_this_thread;
use crate::processor_handle::{processor_load, ProcessorHandle};

#[cxx::bridge(namespace = "pyproc::ffi")]
pub mod ffi {
    /// What a call did. Every call on the real-time path answers one of these instead of
    /// throwing; on anything but `Ok` the block was left exactly as it came in (with
    /// shards: the failing shards' channels; the others were processed).
    #[derive(Debug)]
    enum Status {
        Ok,
        /// The script raised; `last_error()` has the callback, message and traceback.
        ScriptError,
        /// The callback ran past its deadline; the interpreter is being replaced.
        DeadlineExceeded,
        /// The interpreter stopped (a trap); it is being replaced.
        InstanceDied,
        /// The interpreter stopped after a failure and a fresh one is being started (after
        /// the pause, on a thread of the processor's own): the block passed through.
        Restarting,
        /// Switched off after repeated failures until `reload()`: the block passed through.
        Disabled,
        /// The block does not fit the stream (wrong channel count, too large).
        BadBlock,
        /// Anything else (engine or file errors); see `last_error()`.
        Failed,
    }

    /// A TTL event the script emitted with `add_python_event`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct TtlEventOut {
        sample_number: i64,
        line: u8,
        state: bool,
    }

    /// A spike the script emitted with `add_python_spike`.
    #[derive(Debug, Clone, Copy)]
    struct SpikeOut {
        sample_number: i64,
        /// The channel's index in the stream.
        channel: u32,
        /// The unit, 0 unsorted.
        sorted_id: u16,
        /// Whether `waveform` is the script's own (40 values, the peak at index 8); if not,
        /// the caller cuts one from the processed data: 8 samples before `sample_number`,
        /// 32 from it on.
        has_waveform: bool,
        waveform: [f32; 40],
    }

    /// What `process` did: its status and how many events and spikes it wrote to the
    /// caller's arrays.
    #[derive(Debug, Clone, Copy)]
    struct ProcessResult {
        status: Status,
        num_events: usize,
        /// Events that did not fit the caller's array (lost; counted here).
        events_dropped: usize,
        num_spikes: usize,
        /// Spikes that did not fit the caller's array (lost; counted here).
        spikes_dropped: usize,
        /// Microseconds the call spent before its block on a control call posted by the
        /// control thread, or on swapping in a replacement: time the block waited that the
        /// script's `process` did not take.
        control_us: u64,
    }

    /// Blocks that passed through unchanged (with shards: at least one group's channels),
    /// counted by the status `process` returned, over the processor's life.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    struct PassThroughCounts {
        /// The script raised (in `process` or a queued handler).
        script_error: u64,
        deadline_exceeded: u64,
        instance_died: u64,
        /// While a stopped interpreter was being replaced.
        restarting: u64,
        /// Switched off after repeated failures.
        disabled: u64,
        bad_block: u64,
        /// Engine or file errors.
        failed: u64,
    }

    /// The most recent failure. `sequence` grows with every new failure (0: none yet).
    #[derive(Debug, Clone)]
    struct ErrorReport {
        sequence: u64,
        status: Status,
        /// The callback that failed (`process`, `__init__`, …), or empty.
        callback: String,
        /// One paragraph: what failed, where, and what happens next.
        message: String,
        /// The Python traceback, when the script raised.
        traceback: String,
    }

    /// Settings for a processor; zero means the default.
    #[derive(Debug, Clone)]
    struct ProcessorOptions {
        /// Seed for the script's random state (see the host crate's docs on determinism).
        seed: u64,
        /// Distinguishes processors with the same script (it feeds the seed and the log).
        label: String,
        /// Folder recordings go to: reachable by the script between start and stop of a
        /// recording. Empty: the script cannot write anywhere.
        recording_root: String,
        callback_deadline_ms: u32,
        /// For blocks (`process` and the handlers) instead, when not 0: a few block
        /// periods in a live host (`set_block_deadline` changes it later).
        block_deadline_ms: u32,
        init_deadline_ms: u32,
        memory_limit_mb: u32,
        /// The script's own folder readable at its real path (`--no-script-folder` when
        /// false).
        script_folder: bool,
        /// `--allow-read` values: `PATH` or `HOST_PATH::GUEST_PATH`.
        allow_read: Vec<String>,
        /// `--allow-write` values (write implies read), as `allow_read`.
        allow_write: Vec<String>,
        /// `--allow-net` values: `HOST:PORT` or `HOST:PORT::LOCALHOST:PORT`.
        allow_net: Vec<String>,
        /// `--allow-listen` values: ports on 127.0.0.1.
        allow_listen: Vec<u16>,
        /// Interpreters to split the channels between, each over a contiguous group, when
        /// the script declares `channel_independent = True` (`--shards`); 0: one per core.
        shards: u32,
        /// Split them even without the declaration (`--assume-channel-independent`).
        assume_channel_independent: bool,
        /// Keep a second, spare set of interpreters built (script imported, `__init__`
        /// run) beside the running one, so that one that fails is replaced at the next
        /// block; false: a replacement is built after a failure, while blocks pass through.
        spare_interpreter: bool,
    }

    /// What the script tried to reach and was refused, over the processor's life (reloads
    /// included). Each refusal raised `PermissionError` in the script.
    #[derive(Debug, Clone)]
    struct DenialReport {
        count: u64,
        /// The first distinct refusals (at most 20), one line each:
        /// `process: read /mnt/lab/cfg.json (allow with --allow-read /mnt/lab)`.
        kept: Vec<String>,
    }

    /// What a processor's plots are doing (its script's `PyVisualizer`).
    #[derive(Debug)]
    enum PlotState {
        /// The host has not asked for a frame yet: no viewer runs.
        Off,
        /// The viewer's interpreter is starting (importing the script, `__init__`).
        Starting,
        /// The script has no `PyVisualizer`: nothing to draw (processing is unaffected).
        NoVisualizer,
        /// The viewer draws; frames come as the script publishes.
        Drawing,
        /// Starting the viewer or its last `update` failed; `PlotStatus::error` says why.
        /// The last frame, if any, stays.
        Failed,
    }

    /// A figure the viewer drew: `height` rows of `width` RGBA pixels, top row first.
    #[derive(Debug, Clone, Default)]
    struct PlotFrame {
        /// Which frame (1, 2, …; 0: none yet): `latest_frame` copies only a newer one.
        number: u64,
        width: u32,
        height: u32,
        /// The latest sample number among the values it was drawn from.
        sample_number: i64,
        rgba: Vec<u8>,
    }

    /// The viewer's state, the number of its latest frame (0: none), and its last error.
    #[derive(Debug, Clone)]
    struct PlotStatus {
        state: PlotState,
        frames: u64,
        /// While `state` is `Failed`: what failed (`sequence` counts the failures).
        error: ErrorReport,
    }

    unsafe extern "C++" {
        include!("pyproc/output.h");
        /// The host's output callback (`pyproc/output.h`).
        type OutputTarget;
        fn line(self: &OutputTarget, kind: u8, instance: &str, text: &str);
    }

    extern "Rust" {
        /// The compiled interpreter, shared by all processors made from it.
        type EngineHandle;
        /// One script in its own interpreter.
        type ProcessorHandle;

        /// Installs (first use) and loads the interpreter. `cache_dir` empty: the default.
        fn engine_new(cache_dir: &str) -> Result<Box<EngineHandle>>;
        /// Loads the interpreter only if it is installed and compiled already.
        fn engine_open(cache_dir: &str) -> Result<Box<EngineHandle>>;

        /// How many times the calling thread has waited for a lock of pyproc's that another
        /// thread held (for tests of the real-time path: its thread should never wait).
        fn lock_waits_on_this_thread() -> u64;

        /// Checks the grants in `options` as a processor would take them: the error names
        /// the flag and the value (`--allow-net hub: "hub" has no port: write HOST:PORT`).
        fn check_grants(options: &ProcessorOptions) -> Result<()>;

        /// Starts an interpreter, imports the script and constructs its `PyProcessor`.
        /// `output`: where printed lines go (null: to `tracing`); it must outlive the handle.
        unsafe fn processor_load(
            engine: &EngineHandle,
            script: &str,
            num_channels: u32,
            sample_rate: f64,
            options: &ProcessorOptions,
            output: *const OutputTarget,
        ) -> Result<Box<ProcessorHandle>>;

        // Real-time path. Takes no lock that another thread holds, except while the control
        // thread runs a control call itself (no blocks were flowing when it was made): then
        // it waits for that call, as long as its deadline at most. A control call made while
        // blocks flow runs at the start of the next `process`, before its block. A stopped
        // interpreter is replaced on a thread of the processor's own, never here.
        // `handle_ttl_event` and `handle_spike` queue without allocating; the next `process`
        // delivers the queue to the script's handlers and reports their failures. A block
        // that emits nothing and does not fail allocates only what wasmtime's calls into the
        // guest do, and a block that passes through while an interpreter is replaced
        // allocates nothing. A failed block's error goes to `last_error` as the host made
        // it, to be formatted by the reader.

        /// `channels` holds one `float*` per channel (as `size_t`), each `num_samples` long.
        unsafe fn process(
            self: &ProcessorHandle,
            channels: &[usize],
            num_samples: usize,
            first_sample: i64,
            events: &mut [TtlEventOut],
            spikes: &mut [SpikeOut],
        ) -> ProcessResult;
        fn handle_ttl_event(
            self: &ProcessorHandle,
            source_node: i64,
            channel: &str,
            sample_number: i64,
            line: u8,
            state: bool,
        ) -> Status;
        /// `waveform` is channels x samples, C order.
        fn handle_spike(
            self: &ProcessorHandle,
            source_node: i64,
            electrode_name: &str,
            sample_number: i64,
            sorted_id: i64,
            waveform: &[f32],
            num_channels: u32,
            num_samples: u32,
        ) -> Status;

        // Control path: call from one non-real-time thread at a time. Each call waits
        // until a block has run it (or runs it itself when no block comes).

        fn start_acquisition(self: &ProcessorHandle) -> Status;
        fn stop_acquisition(self: &ProcessorHandle) -> Status;
        /// `dir` outside `recording_root` (the host moved its recordings): the script is
        /// reloaded in an interpreter granted `dir`'s parent, as `reload` does.
        fn start_recording(self: &ProcessorHandle, dir: &str) -> Status;
        fn stop_recording(self: &ProcessorHandle) -> Status;
        fn set_stream(self: &ProcessorHandle, num_channels: u32, sample_rate: f64) -> Status;
        /// Loads the script again in a fresh interpreter on the calling thread, then swaps
        /// it in between two blocks: the old one gets `stop_recording` and
        /// `stop_acquisition` (as they apply) first and the new one the matching starts
        /// after. On failure the old processor keeps running.
        fn reload(self: &ProcessorHandle) -> Status;

        // Readers (any thread; they never wait for a block or a control call).

        fn last_error(self: &ProcessorHandle) -> ErrorReport;
        fn denials(self: &ProcessorHandle) -> DenialReport;
        /// "running", "restarting in the background after failure N", "restarting after
        /// failure N (in M blocks)", "switched off: …".
        fn status_text(self: &ProcessorHandle) -> String;
        fn pass_through_counts(self: &ProcessorHandle) -> PassThroughCounts;
        fn script_path(self: &ProcessorHandle) -> String;
        fn num_channels(self: &ProcessorHandle) -> u32;
        /// Interpreters running the script, each over a group of channels (1: one).
        fn num_shards(self: &ProcessorHandle) -> u32;
        /// Whether a spare waits built (see `spare_interpreter`): a failure now is replaced
        /// at the next block.
        fn spare_ready(self: &ProcessorHandle) -> bool;
        /// Changes the deadline of blocks (`process` and the event and spike handlers) from
        /// the next one on, in milliseconds (0: the callback deadline); a reload or restart
        /// keeps it.
        fn set_block_deadline(self: &ProcessorHandle, ms: u32) -> Status;
        /// TTL events the running interpreter's script emitted outside acquisition (in
        /// `__init__`, `stop_acquisition`, or waiting for a block when acquisition
        /// stopped), dropped as the original plugin drops them.
        fn events_outside_acquisition(self: &ProcessorHandle) -> u64;

        // Plots: the script's PyVisualizer in an interpreter of its own, on a thread of the
        // processor's own, fed by the real-time thread without waiting or allocating.
        // Call from the host's message thread; the first call starts the viewer.

        /// Copies the latest frame into `frame` when it is newer than the one `frame`
        /// holds (by `number`); reuses `frame.rgba`. False: nothing newer.
        fn latest_frame(self: &ProcessorHandle, frame: &mut PlotFrame) -> bool;
        fn plot_status(self: &ProcessorHandle) -> PlotStatus;
        /// How often blocks hand the viewer their published values, at most (default 10
        /// a second; 0 or less: the default).
        fn set_plots_per_second(self: &ProcessorHandle, per_second: f64);
    }
}
