//! Deterministic randomness. Every processor has a seed (default 0); the random state of
//! its interpreter is derived from that seed and the processor's label, so the same script
//! on the same input gives byte-identical output run after run, alone or beside others,
//! while two processors with different labels (or seeds) draw different numbers.
//!
//! What it covers: WASI's random source (`os.urandom`, `random.SystemRandom`, unseeded
//! `numpy.random.default_rng()`), and on every load `random.seed` and numpy's global
//! `np.random.seed`. What it cannot: the interpreter's string-hash seed was fixed when the
//! pinned snapshot was built, so it is the same in every instance (deterministic, not
//! distinct). Do not use the sandbox's randomness for secrets: it is reproducible by design.

use sha2::{Digest, Sha256};

/// The seed of one interpreter: SHA-256 of the user's seed and the processor's label.
pub(crate) fn instance_seed(seed: u64, label: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(b"pyproc instance seed\0");
    h.update(seed.to_le_bytes());
    h.update(label.as_bytes());
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeds_are_stable_and_differ_by_label_and_seed() {
        let a = super::instance_seed(0, "bandpass.py");
        assert_eq!(a, super::instance_seed(0, "bandpass.py"));
        assert_ne!(a, super::instance_seed(0, "bandpass.py#2"));
        assert_ne!(a, super::instance_seed(1, "bandpass.py"));
    }
}
