//! [`Grants`]: what of the host a script may reach besides its data, in the words of the
//! flags a user types (`--allow-read`, `--allow-write`, `--allow-net`, `--allow-listen`).
//!
//! Nothing here opens anything: the grants are checked and turned into guest paths and
//! socket addresses here, and the sandbox (`sandbox/`) and the network service (`net/`)
//! enforce them.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Everything a processor is granted. The default is what the original plugin's users
/// expect and nothing more: the script's own folder, readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    /// The folder holding the script is readable (never writable), first on `sys.path`,
    /// at its real absolute path. Turn off for a folder you do not trust.
    pub script_folder: bool,
    pub paths: Vec<PathGrant>,
    pub net: Vec<NetGrant>,
    /// Ports on 127.0.0.1 the script may accept TCP connections on.
    pub listen: Vec<u16>,
}

impl Default for Grants {
    fn default() -> Self {
        Grants { script_folder: true, paths: Vec::new(), net: Vec::new(), listen: Vec::new() }
    }
}

impl Grants {
    /// No script folder, no paths, no network: only the recording folder and the private
    /// `/tmp`.
    pub fn none() -> Self {
        Grants { script_folder: false, ..Grants::default() }
    }

    /// The grants a set of flags names, checked: the `--allow-*` values as typed, and
    /// whether the script's folder is shown (`--no-script-folder` hides it). `pyproc run`,
    /// the C++ options and the Open Ephys plugin all come through here.
    pub fn from_flags<S: AsRef<str>>(script_folder: bool, read: &[S], write: &[S], net: &[S], listen: &[u16]) -> Result<Self> {
        let mut grants = Grants { script_folder, ..Grants::default() };
        for spec in read {
            grants = grants.allow_read(spec.as_ref())?;
        }
        for spec in write {
            grants = grants.allow_write(spec.as_ref())?;
        }
        for spec in net {
            grants = grants.allow_net(spec.as_ref())?;
        }
        grants.listen.extend_from_slice(listen);
        Ok(grants)
    }

    /// Adds `--allow-read SPEC`: `PATH` or `HOST_PATH::GUEST_PATH`.
    pub fn allow_read(mut self, spec: &str) -> Result<Self> {
        self.paths.push(PathGrant::parse(spec, Access::Read)?);
        Ok(self)
    }

    /// Adds `--allow-write SPEC` (which implies read): `PATH` or `HOST_PATH::GUEST_PATH`.
    pub fn allow_write(mut self, spec: &str) -> Result<Self> {
        self.paths.push(PathGrant::parse(spec, Access::Write)?);
        Ok(self)
    }

    /// Adds `--allow-net SPEC`: `HOST:PORT` or `HOST:PORT::LOCALHOST:PORT`.
    pub fn allow_net(mut self, spec: &str) -> Result<Self> {
        self.net.push(NetGrant::parse(spec)?);
        Ok(self)
    }

    /// Adds `--allow-listen PORT`.
    pub fn allow_listen(mut self, port: u16) -> Self {
        self.listen.push(port);
        self
    }
}

/// Read, or read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Read,
    /// Implies read.
    Write,
}

impl Access {
    /// The command-line flag that grants this access.
    pub fn flag(self) -> &'static str {
        match self {
            Access::Read => "--allow-read",
            Access::Write => "--allow-write",
        }
    }
}

/// What a script needs a path for, as the sandbox asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Whether it is there, and what it is (stat, readlink): scripts look before they open
    /// (`os.path.isfile(CONFIG)`), so a refused look is reported too.
    Look,
    Read,
    /// Changing what is there: writing a file, creating, removing or renaming an entry.
    Write,
    /// Making a folder: a write, whose refusal suggests granting the folder itself.
    MakeFolder,
}

impl Need {
    pub fn writes(self) -> bool {
        matches!(self, Need::Write | Need::MakeFolder)
    }

    /// Every need, in code order: an ACCESS frame carries the index (see
    /// `guest-runtime/README.md`; the guest's `_pyproc_wire` has them as `NEED_*`).
    pub const ALL: [(Need, &'static str); 4] =
        [(Need::Look, "NEED_LOOK"), (Need::Read, "NEED_READ"), (Need::Write, "NEED_WRITE"), (Need::MakeFolder, "NEED_MAKE_FOLDER")];

    pub fn from_code(code: u8) -> Option<Need> {
        Need::ALL.get(code as usize).map(|(need, _)| *need)
    }
}

/// One `--allow-read` or `--allow-write`: a host folder or file, shown to the script at
/// `guest` (by default the same absolute path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGrant {
    /// Absolute, as given (not resolved through symlinks: the grant is checked when the
    /// processor starts).
    pub host: PathBuf,
    /// Absolute, normalized, `/`-separated.
    pub guest: String,
    pub access: Access,
}

impl PathGrant {
    /// Parses `PATH` or `HOST_PATH::GUEST_PATH`. The guest side may be any absolute path,
    /// including one that does not exist on this machine or a Windows path a script
    /// hard-codes (see [`guest_path`]). Whether the host side exists is checked when the
    /// processor starts.
    pub fn parse(spec: &str, access: Access) -> Result<PathGrant> {
        let bad = |why: String| Error::BadGrant { flag: access.flag(), value: spec.to_owned(), why };
        let (host, guest) = match spec.split_once("::") {
            Some((host, guest)) => (host, Some(guest)),
            None => (spec, None),
        };
        if host.is_empty() {
            return Err(bad("the host path is empty".into()));
        }
        let host = std::path::absolute(host).map_err(|e| bad(format!("cannot make it absolute: {e}")))?;
        let guest = match guest {
            Some(guest) => guest_path(guest).map_err(bad)?,
            None => guest_path(host.to_str().ok_or_else(|| bad("the path is not UTF-8".into()))?).map_err(bad)?,
        };
        Ok(PathGrant { host, guest, access })
    }
}

/// `path` as a normalized absolute guest path: `\` becomes `/`, `.` and empty components
/// go, and `..` takes the previous component away (by name, as the sandbox resolves the
/// paths a script opens). A Windows path keeps its drive as a first folder: inside the
/// sandbox the working folder is `/`, so a script's `C:\data\cfg.py` is the relative path
/// that names `/C:/data/cfg.py`.
pub fn guest_path(path: &str) -> std::result::Result<String, String> {
    let path = path.replace('\\', "/");
    if !path.starts_with('/') && !has_drive(&path) {
        return Err(format!("the sandbox path {path:?} is not absolute"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// One `--allow-net`: the script may connect (TCP) and send datagrams (UDP) to
/// `host:port`; with `to`, what it sends there goes to that address instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetGrant {
    /// As the script names it: a host name or an IP address.
    pub host: String,
    pub port: u16,
    /// Where connections and datagrams really go (`HOST:PORT::LOCALHOST:PORT`).
    pub to: Option<(String, u16)>,
}

impl NetGrant {
    pub fn parse(spec: &str) -> Result<NetGrant> {
        let bad = |why: String| Error::BadGrant { flag: "--allow-net", value: spec.to_owned(), why };
        // `::` inside `[...]` is an IPv6 address, not the mapping.
        let outside = if spec.starts_with('[') { spec.find(']').map_or(0, |i| i + 1) } else { 0 };
        let (named, to) = match spec[outside..].find("::") {
            Some(at) => (&spec[..outside + at], Some(&spec[outside + at + 2..])),
            None => (spec, None),
        };
        let (host, port) = host_port(named).map_err(bad)?;
        let to = to.map(host_port).transpose().map_err(bad)?;
        Ok(NetGrant { host, port, to })
    }
}

/// `HOST:PORT` or `[IPV6]:PORT`.
fn host_port(text: &str) -> std::result::Result<(String, u16), String> {
    let (host, port) = text.rsplit_once(':').ok_or_else(|| format!("{text:?} has no port: write HOST:PORT"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Err(format!("{text:?} has no host: write HOST:PORT"));
    }
    let port = port.parse::<u16>().map_err(|_| format!("{port:?} is not a port number (0-65535)"))?;
    Ok((host.to_ascii_lowercase(), port))
}

impl fmt::Display for NetGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)?;
        if let Some((host, port)) = &self.to {
            write!(f, "::{host}:{port}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn paths_are_mapped_as_written_or_to_themselves() {
        let g = PathGrant::parse("/data/lab::/mnt/lab/", Access::Read).unwrap();
        assert_eq!((g.host.as_path(), g.guest.as_str()), (Path::new("/data/lab"), "/mnt/lab"));
        let g = PathGrant::parse("/data/x//y/.", Access::Write).unwrap();
        assert_eq!(g.guest, "/data/x/y");
        let g = PathGrant::parse(r"/data/cfg.py::C:\Users\lab\cfg.py", Access::Read).unwrap();
        assert_eq!(g.guest, "/C:/Users/lab/cfg.py");
    }

    #[test]
    fn guest_paths_are_absolute_and_dot_dot_is_taken_by_name() {
        assert_eq!(PathGrant::parse("/data::/mnt/lab/../cfg", Access::Read).unwrap().guest, "/mnt/cfg");
        assert_eq!(PathGrant::parse("/work/x/../data", Access::Read).unwrap().guest, "/work/data");
        assert!(PathGrant::parse("/data::mnt", Access::Read).is_err());
        assert!(PathGrant::parse("::/mnt", Access::Read).is_err());
    }

    #[test]
    fn net_grants_name_host_and_port() {
        let g = NetGrant::parse("Hub.lab:5555::127.0.0.1:6000").unwrap();
        assert_eq!(g, NetGrant { host: "hub.lab".into(), port: 5555, to: Some(("127.0.0.1".into(), 6000)) });
        assert_eq!(g.to_string(), "hub.lab:5555::127.0.0.1:6000");
        assert_eq!(NetGrant::parse("[::1]:80").unwrap().host, "::1");
        assert_eq!(NetGrant::parse("[fe80::1]:80::[::1]:81").unwrap().to, Some(("::1".into(), 81)));
        for bad in ["hub", "hub:", ":80", "hub:70000", "hub:80::local"] {
            assert!(NetGrant::parse(bad).is_err(), "{bad}");
        }
    }
}
