//! Which host folder a path under the guest's `/` leads to: the granted folders and files
//! mounted at their guest paths, and nothing else.
//!
//! The guest's C library fixed its table of preopened folders in the ready snapshot, with
//! an empty placeholder at `/` (see `preopens.rs`). Every absolute path that no other
//! preopen covers, and every relative one (the working folder is `/`), therefore reaches
//! the host as a path relative to that placeholder. The granted folders are preopened too,
//! after the snapshot's table, where the C library never looks; this table sends each such
//! path to the grant that covers it, as a path relative to the grant's own descriptor,
//! and refuses the rest. The descriptor's own checks (wasmtime-wasi opens everything
//! beneath it with `openat2`-style containment, so `..` and symlinks cannot leave it) and
//! its read-only or read-write mode then hold as for any preopen.

use std::collections::HashSet;

use crate::grants::{Access, Need, PathGrant};

/// One grant, mounted.
#[derive(Debug, Clone)]
struct Mount {
    /// Normalized guest components, `/mnt/lab` → `["mnt", "lab"]`.
    guest: Vec<String>,
    /// The preopened descriptor of the granted folder (of the file's folder, for a file).
    fd: u32,
    access: Access,
    /// For a granted file: its name in that folder, the one name reachable there.
    file: Option<String>,
    /// The grant as a user writes it, for messages.
    spec: String,
}

/// Where a path under `/` leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Into a grant: use `path` relative to descriptor `fd`.
    Granted { fd: u32, path: String },
    /// A folder above some grant (or `/` itself): it looks like an empty folder.
    Above,
    /// A granted file used as a folder.
    NotADirectory,
    /// Not granted: the words for the refusal, and whether it belongs in the processor's
    /// list of refusals.
    Denied { what: String, fix: String, listed: bool },
}

/// The mounted grants of one interpreter.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuestPaths {
    mounts: Vec<Mount>,
    /// The grants' descriptors: reachable only through `/`, never by number.
    hidden: HashSet<u32>,
}

impl GuestPaths {
    /// Mounts `grant`, preopened at descriptor `fd` (its folder's, for a file). A later
    /// grant of the same guest path replaces an earlier one.
    pub fn mount(&mut self, grant: &PathGrant, fd: u32, file: Option<String>) {
        let guest = normalize(&grant.guest);
        let host = grant.host.display().to_string();
        let spec = if host == grant.guest { host } else { format!("{host}::{}", grant.guest) };
        self.mounts.retain(|m| m.guest != guest);
        self.mounts.push(Mount { guest, fd, access: grant.access, file, spec });
        self.hidden.insert(fd);
    }

    /// Whether `fd` is a grant's own descriptor, which the guest may not use by number.
    pub fn is_hidden(&self, fd: i32) -> bool {
        self.hidden.contains(&(fd as u32))
    }

    /// Where `path` (relative to the guest's `/`, as the C library hands it over) leads,
    /// for `need`.
    pub fn resolve(&self, path: &str, need: Need) -> Resolved {
        let parts = normalize(path);
        let shown = format!("/{}", parts.join("/"));
        let verb = match need {
            Need::Look => "look at",
            Need::Read => "read",
            Need::Write | Need::MakeFolder => "write",
        };
        // The deepest grant that covers the path decides.
        let mount = self
            .mounts
            .iter()
            .filter(|m| parts.len() >= m.guest.len() && parts[..m.guest.len()] == m.guest[..])
            .max_by_key(|m| m.guest.len());
        let Some(mount) = mount else {
            if !need.writes() && self.mounts.iter().any(|m| m.guest.len() > parts.len() && m.guest[..parts.len()] == parts[..]) {
                return Resolved::Above;
            }
            // A new file is granted through its folder; something to read, by its own path.
            let fix = match need {
                Need::Look | Need::Read => format!("--allow-read {shown}"),
                // A folder the script makes is where it will write.
                Need::MakeFolder => format!("--allow-write {shown}"),
                Need::Write => format!("--allow-write {}", parent(&parts)),
            };
            return Resolved::Denied { what: format!("{verb} {shown}"), fix, listed: listed(&shown) };
        };
        if need.writes() && mount.access == Access::Read {
            return Resolved::Denied { what: format!("{verb} {shown}"), fix: format!("--allow-write {}", mount.spec), listed: listed(&shown) };
        }
        let rest = &parts[mount.guest.len()..];
        match &mount.file {
            Some(_) if !rest.is_empty() => Resolved::NotADirectory,
            Some(name) => Resolved::Granted { fd: mount.fd, path: name.clone() },
            None if rest.is_empty() => Resolved::Granted { fd: mount.fd, path: ".".to_owned() },
            None => Resolved::Granted { fd: mount.fd, path: rest.join("/") },
        }
    }
}

/// Paths the interpreter's own C libraries try as a random source (SQLite behind `shelve`
/// and `dbm` does): their refusal is not the script's doing, and granting them would only
/// trade the sandbox's seeded randomness for the host's.
const RANDOM_DEVICES: [&str; 2] = ["/dev/urandom", "/dev/random"];

/// Whether the refusal of the guest path `shown` is listed.
fn listed(shown: &str) -> bool {
    !RANDOM_DEVICES.contains(&shown)
}

/// The components of a guest path, with `\` read as `/` (a script's Windows path) and `.`,
/// empty and `..` components resolved by name: above a grant the guest's folders are this
/// table, not a file system, so there is nothing for `..` to follow but the name.
fn normalize(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part.to_owned()),
        }
    }
    parts
}

fn parent(parts: &[String]) -> String {
    format!("/{}", parts[..parts.len().saturating_sub(1)].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(spec: &str, access: Access) -> PathGrant {
        PathGrant::parse(spec, access).unwrap()
    }

    fn table() -> GuestPaths {
        let mut t = GuestPaths::default();
        t.mount(&grant("/data/lab::/mnt/lab", Access::Read), 9, None);
        t.mount(&grant("/data/out::/mnt/lab/results", Access::Write), 10, None);
        t.mount(&grant("/data/cfg/settings.py::/C:/Users/lab/CONFIG.py", Access::Read), 11, Some("settings.py".into()));
        t
    }

    fn granted(fd: u32, path: &str) -> Resolved {
        Resolved::Granted { fd, path: path.into() }
    }

    #[test]
    fn paths_go_to_the_deepest_grant_that_covers_them() {
        let t = table();
        assert_eq!(t.resolve("mnt/lab/x.csv", Need::Read), granted(9, "x.csv"));
        assert_eq!(t.resolve("mnt/lab", Need::Read), granted(9, "."));
        assert_eq!(t.resolve("mnt/lab/results/run1/a.npy", Need::Write), granted(10, "run1/a.npy"));
        assert_eq!(t.resolve("mnt/lab/resultsX", Need::Read), granted(9, "resultsX"), "a name prefix is not a folder");
        assert_eq!(t.resolve("C:\\Users\\lab\\CONFIG.py", Need::Read), granted(11, "settings.py"));
        assert_eq!(t.resolve("C:/Users/lab/CONFIG.py/x", Need::Read), Resolved::NotADirectory);
    }

    #[test]
    fn dot_dot_is_resolved_by_name_and_never_climbs_out_of_slash() {
        let t = table();
        assert_eq!(t.resolve("mnt/lab/results/../x", Need::Read), granted(9, "x"));
        assert_eq!(t.resolve("../../mnt/./lab//x", Need::Read), granted(9, "x"));
        assert!(matches!(t.resolve("mnt/lab/../../etc/passwd", Need::Read), Resolved::Denied { .. }));
    }

    #[test]
    fn above_a_grant_is_an_empty_folder_for_reading_only() {
        let t = table();
        assert_eq!(t.resolve("", Need::Read), Resolved::Above);
        assert_eq!(t.resolve("mnt", Need::Read), Resolved::Above);
        assert!(matches!(t.resolve("mnt", Need::Write), Resolved::Denied { .. }));
        assert!(matches!(t.resolve("mn", Need::Read), Resolved::Denied { .. }));
    }

    #[test]
    fn refusals_name_the_flag_that_would_allow_them() {
        let t = table();
        let denied = |path, need| match t.resolve(path, need) {
            Resolved::Denied { what, fix, .. } => (what, fix),
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(denied("etc/passwd", Need::Read), ("read /etc/passwd".into(), "--allow-read /etc/passwd".into()));
        assert!(matches!(t.resolve("dev/random", Need::Read), Resolved::Denied { listed: false, .. }));
        assert!(matches!(t.resolve("dev/null", Need::Read), Resolved::Denied { listed: true, .. }));
        assert_eq!(denied("home/u/out.csv", Need::Write), ("write /home/u/out.csv".into(), "--allow-write /home/u".into()));
        assert_eq!(denied("mnt/lab/x.csv", Need::Write), ("write /mnt/lab/x.csv".into(), "--allow-write /data/lab::/mnt/lab".into()));
    }

    #[test]
    fn grant_descriptors_are_hidden() {
        let t = table();
        assert!(t.is_hidden(9) && t.is_hidden(11) && !t.is_hidden(8));
    }
}
