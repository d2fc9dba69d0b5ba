//! Which symlinks a script may create: only ones whose target goes down from the link's own
//! folder, so a granted folder (and the recording it becomes) never holds a link out of it.
//!
//! The sandbox itself never follows a link out of a grant, but the folder outlives the
//! sandbox: a recording with `s_up -> ../../../../etc` in it would lead whoever opens it on
//! the host elsewhere. The rule looks at the target's text only, so it must hold wherever
//! the link ends up: a link can be renamed into another folder afterwards, and the path it
//! was created at can pass through other links. A target that is relative and never names
//! `..` stays below the link's folder in every such case; absolute and empty targets, and
//! any `..`, are refused.

use std::path::{Component, Path};

/// Whether a symlink with this target may be created.
pub(crate) fn allowed(target: &str) -> bool {
    !target.is_empty() && Path::new(target).components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn targets_that_only_go_down_are_allowed() {
        assert!(allowed("data.bin"));
        assert!(allowed("sub/data.bin"));
        assert!(allowed("./x/y"));
    }

    #[test]
    fn targets_that_climb_or_are_absolute_are_refused() {
        assert!(!allowed("../../../../../../etc"));
        assert!(!allowed(".."));
        assert!(!allowed("x/../y"), "even one that comes back down: the link may be moved");
        assert!(!allowed("/etc/passwd"));
        assert!(!allowed(""), "an empty target");
    }
}
