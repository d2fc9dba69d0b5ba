//! What keeps a processor within bounds and alive: its limits, the clock that paces the
//! deadline checks, cancelling a callback from another thread, and restarting after a
//! failure.

pub(crate) mod cancel;
pub(crate) mod limits;
pub(crate) mod recovery;
pub(crate) mod ticker;
