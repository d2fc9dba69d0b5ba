// pyproc for C++: run an Open Ephys `PyProcessor` script in its own WebAssembly sandbox.
//
//   pyproc::Engine engine;                                   // once per process
//   pyproc::Processor p(engine, "filter.py", 64, 30000.0);   // off the audio thread
//   p.start_acquisition();
//   // audio thread, per block, in place on the host's own channel buffers:
//   if (p.process(channels, 64, 1024, first_sample) == pyproc::Status::Ok)
//       for (const pyproc::TtlEvent& e : p.events()) { /* e.line, e.state, e.sample_number */ }
//
// What the script may reach besides its data is in Options (the same grants as `pyproc run`'s
// --allow-* flags); what it was refused, in denials().
//
// Threads: one real-time thread calls process(), handle_ttl_event() and handle_spike();
// they never throw. A control call (start/stop_*, set_stream, reload) made while blocks
// flow runs on the real-time thread at the start of the next process(), between two
// blocks, and the control thread waits for it; made while no blocks flow, it runs on the
// control thread and a block that arrives meanwhile waits for it (no longer than the
// callback's deadline). No block passes through because of a control call. After a
// deadline or a trap a fresh interpreter takes the stopped one's place between two
// blocks: the spare a thread of the Processor's own built beforehand
// (Options::spare_interpreter), so only the failed block passes through; or, without a
// spare or before it is ready, one that thread starts then, while blocks pass through
// with Status::Restarting (allocating nothing). The stopped interpreter is freed on that
// thread too. handle_ttl_event() and handle_spike() queue (no allocation); the next
// process() hands the queue to the script's handlers before its process(), and reports
// their failures. A block that emits nothing and does not fail allocates only what
// wasmtime's calls into the guest do (two small boxes each: one call, or two with queued
// events). On any status but Ok the block is left exactly as it came in. One control
// thread calls the rest; constructors throw pyproc::Error, the other control calls return
// a Status and keep the details in last_error(). The readers (status_text(), last_error(),
// denials(), num_shards(), pass_through_counts(), spare_ready()) may be called from any
// thread and never wait for a block or a control call.
//
// Plots: a script that defines `class PyVisualizer` gets it run in a second interpreter
// on a thread of the Processor's own once the host first calls latest_frame() or
// plot_status() (a host that shows no plots never starts it). process() hands it the
// script's published values at most 10 times a second (set_plots_per_second) through
// storage it reuses and a lock it only tries: no allocation, no wait. The viewer draws;
// the message thread copies the latest frame out. A viewer that raises, runs slow or
// stops shows in plot_status() and never affects process(). reload() and set_stream()
// start a fresh viewer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rust/cxx.h"  // rust::Error, which the bridge header leaves out
#include "pyproc/output.h"
#include "pyproc-shim/src/bridge.rs.h"

namespace pyproc {

using Status = ffi::Status;
using TtlEvent = ffi::TtlEventOut;
// A spike from add_python_spike: sample number, channel, unit, and either the script's own
// waveform (has_waveform; 40 values, peak at index 8) or none, to cut from the processed
// data (8 samples before the peak, 32 from it on).
using Spike = ffi::SpikeOut;
using ErrorReport = ffi::ErrorReport;
using DenialReport = ffi::DenialReport;
using PassThroughCounts = ffi::PassThroughCounts;
// Plots (see Processor::latest_frame): a frame the script's PyVisualizer drew (number,
// width, height, sample_number, rgba as rust::Vec<uint8_t>: height rows of width RGBA
// pixels, top row first), the viewer's state, and its status.
using PlotFrame = ffi::PlotFrame;
using PlotState = ffi::PlotState;
using PlotStatus = ffi::PlotStatus;

// A failure to set up an engine or load a script; what() says what and how to fix it.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline const char* to_string(Status status) noexcept {
    switch (status) {
        case Status::Ok: return "ok";
        case Status::ScriptError: return "script error";
        case Status::DeadlineExceeded: return "deadline exceeded";
        case Status::InstanceDied: return "interpreter stopped";
        case Status::Restarting: return "restarting";
        case Status::Disabled: return "switched off";
        case Status::BadBlock: return "bad block";
        case Status::Failed: return "failed";
    }
    return "unknown";
}

inline const char* to_string(PlotState state) noexcept {
    switch (state) {
        case PlotState::Off: return "off";
        case PlotState::Starting: return "starting";
        case PlotState::NoVisualizer: return "no PyVisualizer";
        case PlotState::Drawing: return "drawing";
        case PlotState::Failed: return "failed";
    }
    return "unknown";
}

// The compiled interpreter, shared by every Processor made from it. The first one on a
// machine fetches and compiles the pinned interpreter (one to two minutes, once per user);
// later ones load it from the cache in milliseconds.
class Engine {
public:
    // cache_dir empty: $PYPROC_CACHE_DIR, else $XDG_CACHE_HOME/pyproc, else ~/.cache/pyproc.
    explicit Engine(const std::string& cache_dir = {}) : handle_(make(cache_dir)) {}

    // The engine if the interpreter is installed and compiled already (milliseconds), else
    // nullptr: then the constructor is the one that may take minutes, worth telling the
    // user about first.
    static std::unique_ptr<Engine> if_prepared(const std::string& cache_dir = {}) {
        try {
            return std::unique_ptr<Engine>(new Engine(ffi::engine_open(cache_dir)));
        } catch (const rust::Error&) {
            return nullptr;
        }
    }

    const ffi::EngineHandle& handle() const noexcept { return *handle_; }

private:
    explicit Engine(rust::Box<ffi::EngineHandle> handle) : handle_(std::move(handle)) {}
    static rust::Box<ffi::EngineHandle> make(const std::string& cache_dir) {
        try {
            return ffi::engine_new(cache_dir);
        } catch (const rust::Error& e) {
            throw Error(e.what());
        }
    }
    rust::Box<ffi::EngineHandle> handle_;
};

struct Options {
    std::uint64_t seed = 0;
    std::string label;           // tells apart processors running the same script
    std::string recording_root;  // where recordings go; empty: no writable folder
    std::uint32_t callback_deadline_ms = 0;  // 0: defaults (1 s per callback,
    std::uint32_t block_deadline_ms = 0;     //    process and the handlers: the callback's,
    std::uint32_t init_deadline_ms = 0;      //    60 s for import, __init__ and the first block,
    std::uint32_t memory_limit_mb = 0;       //    1 GiB of interpreter memory)

    // What of the machine the script may reach besides its data: the values of `pyproc
    // run`'s flags, one entry per flag. An access outside them raises PermissionError in
    // the script and is listed by Processor::denials().
    bool script_folder = true;             // the script's folder, readable at its real path
    std::vector<std::string> allow_read;   // "PATH" or "HOST_PATH::GUEST_PATH"
    std::vector<std::string> allow_write;  // the same; write implies read
    std::vector<std::string> allow_net;    // "HOST:PORT" or "HOST:PORT::LOCALHOST:PORT" (TCP, UDP)
    std::vector<std::uint16_t> allow_listen;  // TCP ports on 127.0.0.1 to accept on

    // A script whose PyProcessor declares `channel_independent = True` runs as this many
    // interpreters in parallel, each over a contiguous group of the channels whose
    // __init__ sees the group's num_channels (0: one per core; never more than channels).
    // The events of the groups are merged in sample order. A group that fails leaves only
    // its own channels unchanged; the others are processed.
    std::uint32_t shards = 0;
    // Split the channels even though the script does not declare it: only for scripts
    // that never mix channels; equal output is then the caller's to check.
    bool assume_channel_independent = false;

    // A processor whose interpreter fails (a deadline, a crash) gets a new one with the
    // same script; until it is in, blocks pass through (status Restarting). With a spare,
    // the new one is built before anything fails (its import and __init__ run while the
    // running one works, and it takes the running one's memory again), so it goes in at
    // the next block and only the failed block passes through; the next spare is then
    // built in the background. Without, it is built after the failure: for scripts whose
    // __init__ takes something only one may hold (a serial port), or when memory is short.
    bool spare_interpreter = true;
};

namespace detail {
inline rust::Vec<rust::String> strings(const std::vector<std::string>& values) {
    rust::Vec<rust::String> out;
    out.reserve(values.size());
    for (const std::string& value : values) out.push_back(rust::String(value));
    return out;
}

inline ffi::ProcessorOptions to_ffi(const Options& o) {
    rust::Vec<std::uint16_t> listen;
    listen.reserve(o.allow_listen.size());
    for (std::uint16_t port : o.allow_listen) listen.push_back(port);
    return ffi::ProcessorOptions{o.seed,
                                 rust::String(o.label),
                                 rust::String(o.recording_root),
                                 o.callback_deadline_ms,
                                 o.block_deadline_ms,
                                 o.init_deadline_ms,
                                 o.memory_limit_mb,
                                 o.script_folder,
                                 strings(o.allow_read),
                                 strings(o.allow_write),
                                 strings(o.allow_net),
                                 std::move(listen),
                                 o.shards,
                                 o.assume_channel_independent,
                                 o.spare_interpreter};
}

// How many times the calling thread has waited for a lock of pyproc's that another thread
// held: for tests that the real-time thread never waits (it may, while a control call runs
// on the control thread because no blocks were flowing).
inline std::uint64_t lock_waits_on_this_thread() noexcept { return ffi::lock_waits_on_this_thread(); }
}  // namespace detail

// Checks the grants in `options` without loading anything; throws pyproc::Error naming the
// flag and value, as `pyproc run` would (e.g. `--allow-net hub: "hub" has no port: write
// HOST:PORT`). A Processor constructor throws the same error.
inline void check_grants(const Options& options) {
    try {
        ffi::check_grants(detail::to_ffi(options));
    } catch (const rust::Error& e) {
        throw Error(e.what());
    }
}

// What the last process() call emitted (events or spikes); valid until the next one.
template <typename T>
class View {
public:
    View(const T* begin, std::size_t size) noexcept : begin_(begin), size_(size) {}
    const T* begin() const noexcept { return begin_; }
    const T* end() const noexcept { return begin_ + size_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const T& operator[](std::size_t i) const noexcept { return begin_[i]; }

private:
    const T* begin_;
    std::size_t size_;
};
using Events = View<TtlEvent>;
using Spikes = View<Spike>;

class Processor {
public:
    // Most events and spikes a single block can return; more are dropped and counted.
    static constexpr std::size_t kMaxEventsPerBlock = 10000;
    static constexpr std::size_t kMaxSpikesPerBlock = 1000;

    // Starts an interpreter, imports `script` and constructs its PyProcessor.
    // Throws pyproc::Error (with the Python traceback) if that fails, or naming the flag of
    // a grant in `options` that cannot be given (see check_grants).
    Processor(const Engine& engine, const std::string& script, int num_channels, double sample_rate,
              const Options& options = {})
        : Processor(engine, script, num_channels, sample_rate, options, nullptr) {}

    // The same, with the script's printed lines and pyproc's notes about it (a restart)
    // going to `output`, called on a thread of pyproc's own (pyproc/output.h); without it
    // they go to Rust's `tracing`, which a C++ host does not see.
    Processor(const Engine& engine, const std::string& script, int num_channels, double sample_rate,
              const Options& options, OutputCallback output)
        : output_(output ? std::make_unique<ffi::OutputTarget>(std::move(output)) : nullptr),
          handle_(make(engine, script, num_channels, sample_rate, options, output_.get())),
          events_(kMaxEventsPerBlock),
          spikes_(kMaxSpikesPerBlock) {}

    // --- real-time thread ---------------------------------------------------------------

    // Runs process(data) in place on `channels` (one buffer of num_samples floats per
    // channel). On anything but Ok the buffers are unchanged (with shards, those of the
    // failing groups; last_error() names their channels).
    Status process(float* const* channels, int num_channels, int num_samples, std::int64_t first_sample) noexcept {
        static_assert(sizeof(float*) == sizeof(std::size_t), "channel pointers cross as size_t");
        if (num_channels < 0 || num_samples < 0) return Status::BadBlock;
        rust::Slice<const std::size_t> pointers(reinterpret_cast<const std::size_t*>(channels),
                                                static_cast<std::size_t>(num_channels));
        rust::Slice<TtlEvent> out(events_.data(), events_.size());
        rust::Slice<Spike> spikes_out(spikes_.data(), spikes_.size());
        ffi::ProcessResult result =
            handle_->process(pointers, static_cast<std::size_t>(num_samples), first_sample, out, spikes_out);
        num_events_ = result.num_events;
        events_dropped_ += result.events_dropped;
        num_spikes_ = result.num_spikes;
        spikes_dropped_ += result.spikes_dropped;
        control_us_ = result.control_us;
        return result.status;
    }

    // Microseconds the last process() spent before its block running a control call the
    // control thread had posted (start_recording, stop_recording, ...) or swapping in a
    // reloaded or replaced interpreter: the block waited that long, but not for the
    // script's process. Subtract it to see what process itself costs.
    std::uint64_t control_us() const noexcept { return control_us_; }

    Events events() const noexcept { return Events(events_.data(), num_events_); }
    std::uint64_t events_dropped() const noexcept { return events_dropped_; }
    Spikes spikes() const noexcept { return Spikes(spikes_.data(), num_spikes_); }
    // Events and spikes that did not fit (kMaxEventsPerBlock, kMaxSpikesPerBlock) so far.
    // Read them on the real-time thread or while no block is running.
    std::uint64_t spikes_dropped() const noexcept { return spikes_dropped_; }

    // Names as views: a caller holding its names elsewhere passes them without a copy.
    Status handle_ttl_event(std::int64_t source_node, std::string_view channel, std::int64_t sample_number,
                            std::uint8_t line, bool state) noexcept {
        return handle_->handle_ttl_event(source_node, rust::Str(channel.data(), channel.size()), sample_number, line, state);
    }

    // `waveform` is num_channels x num_samples, channel after channel.
    Status handle_spike(std::int64_t source_node, std::string_view electrode_name, std::int64_t sample_number,
                        std::int64_t sorted_id, const float* waveform, int num_channels, int num_samples) noexcept {
        if (num_channels < 0 || num_samples < 0) return Status::BadBlock;
        rust::Slice<const float> samples(waveform, static_cast<std::size_t>(num_channels) * num_samples);
        return handle_->handle_spike(source_node, rust::Str(electrode_name.data(), electrode_name.size()), sample_number,
                                     sorted_id, samples, num_channels, num_samples);
    }

    // --- control thread -----------------------------------------------------------------
    // Each call runs between two blocks (see the top of this file) and returns when done.

    Status start_acquisition() noexcept { return handle_->start_acquisition(); }
    Status stop_acquisition() noexcept { return handle_->stop_acquisition(); }
    // A dir outside Options::recording_root reloads the script in an interpreter granted
    // dir's parent folder (the sandbox's folders are fixed when an interpreter starts).
    Status start_recording(const std::string& dir) noexcept {
        return handle_->start_recording(rust::Str(dir.data(), dir.size()));
    }
    Status stop_recording() noexcept { return handle_->stop_recording(); }
    // Re-creates the PyProcessor for a new stream (the old one stays if __init__ raises).
    Status set_stream(int num_channels, double sample_rate) noexcept {
        return handle_->set_stream(static_cast<std::uint32_t>(num_channels), sample_rate);
    }
    // Loads the script again in a fresh interpreter (on this thread) and swaps it in
    // between two blocks: the old one gets stop_recording() and stop_acquisition() (as
    // they apply) before the new one gets the matching starts, so files are closed before
    // they are opened again. On failure the old processor keeps running and last_error()
    // says why.
    Status reload() noexcept { return handle_->reload(); }
    // The deadline of process() and the handlers from the next block on (0: the callback
    // deadline), e.g. a few block periods once the host knows them; reloads keep it.
    Status set_block_deadline(std::uint32_t ms) noexcept { return handle_->set_block_deadline(ms); }

    // --- any thread: what the processor's thread last published ----------------------

    ErrorReport last_error() const { return handle_->last_error(); }
    // Accesses the script was refused (each a PermissionError in it), over this
    // Processor's life, reloads and restarts included: the count and the first distinct
    // ones as text, each naming the flag that would allow it.
    DenialReport denials() const { return handle_->denials(); }
    // "running", "restarting in the background after failure N", "restarting after
    // failure N (in M blocks)" or "switched off: <why>".
    std::string status_text() const { return std::string(handle_->status_text()); }
    // Blocks that passed through unchanged, by the status process() returned.
    PassThroughCounts pass_through_counts() const noexcept { return handle_->pass_through_counts(); }
    std::string script_path() const { return std::string(handle_->script_path()); }
    int num_channels() const noexcept { return static_cast<int>(handle_->num_channels()); }
    // Interpreters running the script (see Options::shards); 1 without the declaration.
    int num_shards() const noexcept { return static_cast<int>(handle_->num_shards()); }
    // Whether a spare waits built (Options::spare_interpreter): an interpreter that fails
    // now is replaced at the next block. False for a moment after a swap and after a
    // reload, while the next one is built.
    bool spare_ready() const noexcept { return handle_->spare_ready(); }
    // TTL events the running interpreter's script emitted outside acquisition (in __init__,
    // stop_acquisition, or waiting for a block when acquisition stopped): dropped, as the
    // original plugin drops them. Any thread.
    std::uint64_t events_outside_acquisition() const noexcept { return handle_->events_outside_acquisition(); }

    // --- message thread: plots ------------------------------------------------------------

    // Copies the latest frame the viewer drew into `frame` when it is newer than the one
    // `frame` holds (frame.number; start from a PlotFrame{}), reusing frame.rgba's storage;
    // false when there is nothing newer, so a UI repaints only on true. The first call
    // starts the viewer (see the top of this file).
    bool latest_frame(PlotFrame& frame) const { return handle_->latest_frame(frame); }
    // The viewer's state: Off (not asked for yet), Starting, NoVisualizer (the script
    // defines none; processing is unaffected), Drawing, or Failed (error says why; the
    // last frame stays). frames: the number of the latest frame (0: none).
    PlotStatus plot_status() const { return handle_->plot_status(); }
    // How often process() hands the viewer the published values, at most (default 10 a
    // second; 0 or less: the default). Any thread.
    void set_plots_per_second(double per_second) noexcept { handle_->set_plots_per_second(per_second); }

private:
    static rust::Box<ffi::ProcessorHandle> make(const Engine& engine, const std::string& script, int num_channels,
                                                double sample_rate, const Options& o, const ffi::OutputTarget* output) {
        if (num_channels < 0) throw Error("pyproc: num_channels must not be negative");
        ffi::ProcessorOptions options = detail::to_ffi(o);
        try {
            return ffi::processor_load(engine.handle(), script, static_cast<std::uint32_t>(num_channels), sample_rate,
                                       options, output);
        } catch (const rust::Error& e) {
            throw Error(e.what());
        }
    }

    // Before handle_, so destroyed after it: the handle stops the output thread first.
    std::unique_ptr<ffi::OutputTarget> output_;
    rust::Box<ffi::ProcessorHandle> handle_;
    std::vector<TtlEvent> events_;
    std::size_t num_events_ = 0;
    std::uint64_t events_dropped_ = 0;
    std::vector<Spike> spikes_;
    std::size_t num_spikes_ = 0;
    std::uint64_t spikes_dropped_ = 0;
    std::uint64_t control_us_ = 0;
};

}  // namespace pyproc
