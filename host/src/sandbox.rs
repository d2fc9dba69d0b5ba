//! One interpreter's isolation: the state its store holds, the instance and the loop that
//! polls it, the folders it sees (preopens, the path grants under `/`, the recording gate)
//! and the shadow in front of WASI that enforces them, and its seeded randomness. Nothing
//! here names the engine or the processor above it.

pub(crate) mod guest_paths;
pub(crate) mod instance;
pub(crate) mod preopens;
pub(crate) mod recording_gate;
pub(crate) mod seed;
pub(crate) mod state;
pub(crate) mod symlink_target;
pub(crate) mod wasi_shadow;
