//! The C++ side, in the workspace's one test command: configures `shim-cpp/` with CMake,
//! builds the library and the C++ tests (`tests/processor_test.cpp`,
//! `tests/realtime_test.cpp`, `tests/viewer_test.cpp`), and runs each under ctest.
//!
//! Needs `cmake` and a C++17 compiler (`.ci/run` installs cmake when it is missing).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn run(what: &str, command: &mut Command) {
    let status = command.status().unwrap_or_else(|e| {
        panic!("cannot start {what} ({e}).\nfix: install CMake 3.18 or newer (Debian/Ubuntu: `apt-get install cmake`); .ci/run does this")
    });
    assert!(status.success(), "{what} failed ({status}); its output is above");
}

/// The CMake build folder, configured and built once for both tests.
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let build = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shim-cpp-build");
        // The workspace's own target folder (CARGO_TARGET_TMPDIR is its `tmp`): the library
        // is already built there, and cargo does not hold its lock while tests run.
        let cargo_target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp has a parent");
        run(
            "cmake (configure)",
            Command::new("cmake")
                .arg("-S")
                .arg(source)
                .arg("-B")
                .arg(&build)
                .arg("-DCMAKE_BUILD_TYPE=Release")
                .arg(format!("-DPYPROC_CARGO_TARGET_DIR={}", cargo_target.display()))
                // What `cargo test --workspace` has built already, with the same features.
                .arg("-DPYPROC_CARGO_ARGS=--workspace;--all-targets"),
        );
        run("cmake --build", Command::new("cmake").arg("--build").arg(&build).arg("--parallel"));
        build
    })
}

fn ctest(name: &str) {
    let build = built();
    run(&format!("ctest {name}"), Command::new("ctest").arg("--test-dir").arg(build).arg("--output-on-failure").arg("-R").arg(format!("^{name}$")));
}

#[test]
fn the_cpp_api_test_passes_under_ctest() {
    ctest("pyproc_cpp_api");
}

#[test]
fn plots_draw_frames_for_the_message_thread_under_ctest() {
    ctest("pyproc_cpp_viewer");
}

#[test]
fn the_real_time_path_allocates_nothing_and_waits_for_no_lock_under_ctest() {
    ctest("pyproc_cpp_realtime");
}
