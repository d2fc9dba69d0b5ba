//! Running the `pyproc` binary from tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
