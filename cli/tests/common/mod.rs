//! Running the `pyproc` binary from tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// `continuous.dat` of a saved synthetic stream (or an output made from one), relative to
/// the folder given to `--save-input` or `--output`.
pub const SYNTHETIC_DAT: &str = "experiment1/recording1/continuous/Synthetic_Source-100.synthetic/continuous.dat";

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

pub fn cli_script(name: &str) -> String {
    repo("cli/tests/scripts").join(name).to_string_lossy().into_owned()
}

pub fn pyproc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyproc")).args(args).output().expect("pyproc runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs pyproc and insists it succeeded.
pub fn pyproc_ok(args: &[&str]) -> Output {
    let out = pyproc(args);
    assert!(out.status.success(), "pyproc {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    out
}

/// A synthetic recording saved in `dir` (4 channels, 1 s), returned as its recording folder.
pub fn synthetic_recording(dir: &Path) -> PathBuf {
    let save = dir.join("input");
    let out = dir.join("discard");
    pyproc_ok(&["run", &cli_script("passthrough.py"), "--seconds", "1", "--channels", "4", "--save-input", save.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    save.join("experiment1/recording1")
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of one synthetic recording (made once per test binary) in `dir`, returned as its
/// recording folder `dir/input/experiment1/recording1`.
pub fn copy_of_synthetic_recording(dir: &Path) -> PathBuf {
    static ORIGINAL: OnceLock<PathBuf> = OnceLock::new();
    let original = ORIGINAL.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("synthetic-recording-{}", env!("CARGO_CRATE_NAME")));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        synthetic_recording(&base)
    });
    let copy = dir.join("input/experiment1/recording1");
    copy_dir(original, &copy);
    copy
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The regular files below `dir`, sorted (links not followed).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    tree_state(dir).into_iter().filter(|(_, what)| what.starts_with("sha256 ")).map(|(path, _)| path).collect()
}

/// Everything below `dir`, links not followed: each regular file's SHA-256, each link's
/// target, each folder, and the kind of anything else (a FIFO is never opened). Equal
/// before and after a run: nothing was written, created or removed there.
pub fn tree_state(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut state = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let kind = entry.file_type();
        let what = if kind.is_file() {
            format!("sha256 {}", hex::encode(Sha256::digest(std::fs::read(entry.path()).unwrap())))
        } else if kind.is_symlink() {
            format!("link to {}", std::fs::read_link(entry.path()).unwrap().display())
        } else if kind.is_dir() {
            "folder".into()
        } else {
            format!("{kind:?}")
        };
        state.insert(entry.path().to_path_buf(), what);
    }
    state
}

/// A native CPython for the tests that need one: numpy and scipy (for `pyproc compare`),
/// open-ephys-python-tools 1.0.1 and Neo 0.14.6 (to read outputs back), made once per
/// target dir with pip.
pub fn native_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(make_native_python).clone()
}

fn make_native_python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("native-python-venv");
    let python = venv.join("bin/python");
    let marker = venv.join("pyproc-ready");
    if !marker.exists() {
        let status = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 runs");
        assert!(status.success(), "python3 -m venv failed: install python3-venv");
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "numpy", "scipy", "open-ephys-python-tools==1.0.1", "neo==0.14.6"])
            .output()
            .unwrap();
        assert!(pip.status.success(), "pip install failed:\n{}", text(&pip.stderr));
        std::fs::write(&marker, "").unwrap();
    }
    python
}
