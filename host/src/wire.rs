//! Everything that crosses the guest/host boundary: the one table of numbers both sides
//! use (`layout`), commands to the guest (with the events and spikes queued for them,
//! `batch`) and frames from it, the door (`host::call`) that carries them, what it refuses
//! (`refusal`, `in_flight`), the network service's frames (served by `net/`), the block
//! buffer, and the script's printed output.

pub(crate) mod batch;
pub(crate) mod buffer;
pub(crate) mod command;
pub(crate) mod door;
pub(crate) mod failure;
pub(crate) mod in_flight;
pub(crate) mod layout;
pub(crate) mod mailbox;
pub(crate) mod net_frame;
pub(crate) mod output;
pub(crate) mod reader;
pub(crate) mod refusal;
pub(crate) mod request;
