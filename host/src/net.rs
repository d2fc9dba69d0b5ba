//! Sockets served by the host: WASI preview 1 has none, so the guest's `socket` module
//! (`guest-runtime/_pyproc_socket.py`) asks the host through the door for each operation,
//! and the host does it on its own sockets, for the addresses the grants allow
//! (`--allow-net HOST:PORT`, `--allow-listen PORT`) and nothing else.
//!
//! - `policy`: what the grants allow, and how real addresses are shown to the script.
//! - `resolver`: looking granted names up without blocking past the callback's time.
//! - `socket` and `table`: the interpreter's sockets, non-blocking, capped in number.
//! - `wait`: every blocking call waits in short `poll` slices, never past the deadline.
//! - `service`: one request served, refusals recorded as the processor's denials.
//! - `error`: failures as the script sees them.
//!
//! The sockets live in the interpreter's store: when it stops, restarts or its processor
//! is dropped, every connection and listener closes with it.

pub(crate) mod error;
pub(crate) mod policy;
pub(crate) mod resolver;
pub(crate) mod service;
pub(crate) mod socket;
pub(crate) mod table;
pub(crate) mod wait;
