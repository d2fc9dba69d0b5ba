//! pyproc for C++: a `cxx` bridge over [`pyproc_host`], built as a static library.
//!
//! C++ projects use `include/pyproc/processor.h` and link the `pyproc::pyproc` CMake
//! target (see `shim-cpp/README.md`). The boundary is declared once, in [`bridge`].
//!
//! Threads: one real-time thread calls `process`, `handle_ttl_event` and `handle_spike`;
//! one control thread (a UI or message thread) calls the rest. The real-time calls only
//! ever *try* the locks the control thread takes, and answer `Status::Busy` (block passed
//! through) when it holds one, so a slow `start_recording` in Python never stalls audio.

#[cfg(test)]
mod allocation_count;
pub mod bridge;
mod denial_report;
mod engine_handle;
mod error_report;
mod grants;
mod processor_handle;

pub use bridge::ffi;
