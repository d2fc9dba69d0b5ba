//! Which symlinks a script may create: only ones whose target stays inside the folder the
//! link is created in, so a granted folder (and the recording it becomes) never holds a
//! link out of it.
//!
//! The sandbox itself never follows a link out of a grant, but the folder outlives the
//! sandbox: a recording with `s_up -> ../../../../etc` in it would lead whoever opens it on
//! the host elsewhere. The rule is lexical and strict: the target must be relative, and
//! walking it from the link's own folder must never climb above the descriptor's folder
//! the link is made relative to (which is inside the grant, or the grant itself).

use std::path::{Component, Path};

/// Whether a link at `link` (relative to a folder descriptor) pointing at `target` stays
/// within that folder.
pub(crate) fn stays_inside(link: &str, target: &str) -> bool {
    let Some(parent) = Path::new(link).parent() else { return false };
    let Some(mut depth) = depth_of(parent, 0) else { return false };
    for component in Path::new(target).components() {
        match component {
            Component::Normal(_) | Component::CurDir => depth += usize::from(matches!(component, Component::Normal(_))),
            Component::ParentDir if depth > 0 => depth -= 1,
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    !target.is_empty()
}

/// The folder depth of `path` walked from `start`, None if it climbs above it or is absolute.
fn depth_of(path: &Path, start: usize) -> Option<usize> {
    let mut depth = start;
    for component in path.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1)?,
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(depth)
}

#[cfg(test)]
mod tests {
    use super::stays_inside;

    #[test]
    fn targets_inside_the_folder_are_allowed() {
        assert!(stays_inside("link", "data.bin"));
        assert!(stays_inside("a/b/link", "../c/data.bin"));
        assert!(stays_inside("a/link", "./x/../y"));
        assert!(stays_inside("a/b/link", "../../top.txt"));
    }

    #[test]
    fn targets_that_leave_the_folder_or_are_absolute_are_refused() {
        assert!(!stays_inside("s_up", "../../../../../../etc"));
        assert!(!stays_inside("link", ".."));
        assert!(!stays_inside("a/link", "../../outside"));
        assert!(!stays_inside("link", "/etc/passwd"));
        assert!(!stays_inside("link", "x/../../y"));
        assert!(!stays_inside("../link", "x"), "a link placed above the folder");
        assert!(!stays_inside("link", ""), "an empty target");
    }
}
