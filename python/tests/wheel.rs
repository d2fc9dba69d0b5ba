//! The Python package in the workspace's one test command: builds the wheel with maturin
//! into the workspace's own target folder (wasmtime and the rest are already compiled
//! there, and cargo does not hold its lock while tests run), installs it into a fresh
//! virtual environment with pytest, nbclient, Dask and the rest of `requirements.txt`,
//! checks `import pyproc` and the `pyproc` command, and runs the pytest suite beside this
//! file (which executes `examples/filter_notebook.ipynb`).
//!
//! Needs `python3` with venv and pip (`.ci/run` installs them when missing). The two
//! venvs live under `target/tmp/`, named by a hash of their requirements file: made once,
//! reused while the requirements stay the same.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("python/ is in the repository").to_path_buf()
}

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn run(what: &str, command: &mut Command) {
    let status = command.status().unwrap_or_else(|e| panic!("cannot start {what} ({e})"));
    assert!(status.success(), "{what} failed ({status}); its output is above");
}

/// A venv with `requirements` installed, under target/tmp/, named `name-<hash of the file>`;
/// returns its bin folder. Made once per requirements: a marker says it is complete.
fn venv(name: &str, requirements: &Path) -> PathBuf {
    let text = std::fs::read(requirements).expect("the requirements file is readable");
    let hash = hex::encode(&Sha256::digest(&text)[..8]);
    let dir = tmp().join(format!("{name}-{hash}"));
    let bin = dir.join("bin");
    let marker = dir.join("pyproc-ready");
    if marker.exists() {
        return bin;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("python3").args(["-m", "venv"]).arg(&dir).status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "python3 -m venv {} failed.\nfix: install Python 3.9 or newer with venv and pip (Debian/Ubuntu: `apt-get install python3-venv python3-pip`); .ci/run does this",
        dir.display()
    );
    run(
        &format!("pip install -r {}", requirements.display()),
        Command::new(bin.join("python")).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]).arg(requirements),
    );
    std::fs::write(&marker, "").unwrap();
    bin
}

#[test]
fn the_wheel_installs_and_its_python_tests_and_notebook_pass() {
    let repo = repo();
    let tests = repo.join("python/tests");
    let build = venv("python-build-venv", &tests.join("requirements-build.txt"));
    let wheels = tmp().join("python-wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    // The workspace's target folder (CARGO_TARGET_TMPDIR is its `tmp`).
    let cargo_target = tmp().parent().expect("target/tmp has a parent").to_path_buf();
    run(
        "maturin build",
        Command::new(build.join("maturin"))
            .args(["build", "--release", "--quiet", "-m"])
            .arg(repo.join("python/Cargo.toml"))
            .arg("--out")
            .arg(&wheels)
            .env("CARGO_TARGET_DIR", &cargo_target)
            .current_dir(&repo),
    );
    let wheel = std::fs::read_dir(&wheels).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "whl")).expect("maturin wrote a wheel");
    assert!(wheel.file_name().unwrap().to_string_lossy().starts_with("pyproc_oe-"), "{}", wheel.display());

    let test = venv("python-test-venv", &tests.join("requirements.txt"));
    run(
        "pip install the wheel",
        Command::new(test.join("python")).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--force-reinstall", "--no-deps"]).arg(&wheel),
    );
    // From the repository root: in python/ (the test's own folder) `import pyproc` would
    // find the sources instead of the installed wheel.
    let installed = Command::new(test.join("python")).args(["-c", "import pyproc, pyproc.testing; print(pyproc.__file__)"]).current_dir(&repo).output().unwrap();
    let location = String::from_utf8_lossy(&installed.stdout);
    assert!(installed.status.success() && location.contains("site-packages"), "import pyproc: {location}{}", String::from_utf8_lossy(&installed.stderr));
    run("pyproc --help", Command::new(test.join("pyproc")).arg("--help").current_dir(&repo));
    run(
        "pyproc run",
        Command::new(test.join("pyproc")).args(["run", "examples/bandpass_filter.py", "--seconds", "0.5", "--channels", "4"]).current_dir(&repo),
    );
    run(
        "pytest python/tests",
        Command::new(test.join("python")).args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]).arg(&tests).current_dir(&repo),
    );
}
