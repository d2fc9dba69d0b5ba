//! What keeps a processor within bounds and alive: its limits, cancelling a callback from
//! another thread, and restarting after a failure.

pub(crate) mod cancel;
pub(crate) mod limits;
pub(crate) mod recovery;
