//! pyproc for C++: a `cxx` bridge over [`pyproc_host`], built as a static library.
//!
//! C++ projects use `include/pyproc/processor.h` and link the `pyproc::pyproc` CMake
//! target (see `shim-cpp/README.md`). The boundary is declared once, in [`bridge`].
//!
//! Threads: one real-time thread calls `process`, `handle_ttl_event` and `handle_spike`;
//! one control thread (a UI or message thread) calls the rest. A control call runs between
//! two blocks on the real-time thread (or, when no blocks flow, on the control thread while
//! blocks wait), so no block skips the script because of one; a stopped interpreter is
//! replaced by the handle's own thread, never the real-time one; `status_text`,
//! `last_error`, `denials`, `num_shards` and `pass_through_counts` read what the processor's
//! thread published, without touching the processor.

#[cfg(test)]
mod allocation_count;
mod block_clock;
pub mod bridge;
mod control;
mod control_mailbox;
mod denial_report;
mod engine_handle;
mod error_report;
mod fresh;
mod grants;
mod held_output;
mod last_error;
mod locks;
mod output_relay;
mod plots;
mod processor_handle;
mod published;
mod replacement;

pub use bridge::ffi;
