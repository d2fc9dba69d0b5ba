//! `pyproc compare`: a script in pyproc beside the same script in a native CPython, called
//! as the original plugin calls it.

mod common;

use common::{cli_script, native_python, pyproc, repo, s, text};

fn compare(script: &str, extra: &[&str]) -> (Option<i32>, String) {
    let python = native_python();
    let mut args = vec!["compare", script, "--python", s(&python), "--channels", "16"];
    if !extra.contains(&"--seconds") {
        args.extend(["--seconds", "2"]);
    }
    args.extend_from_slice(extra);
    let out = pyproc(&args);
    (out.status.code(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

#[test]
fn every_example_gives_the_same_output_events_and_spikes_as_native_cpython() {
    for example in ["bandpass_filter.py", "processor_template.py", "spike_detector.py", "threshold_events.py", "threshold_plot.py"] {
        let (code, report) = compare(s(&repo("examples").join(example)), &[]);
        assert_eq!(code, Some(0), "{example}:\n{report}");
        assert!(report.contains("agrees on all 16 channels") && report.contains("exceptions  none"), "{example}:\n{report}");
    }
}

#[test]
fn a_ttl_driven_detector_sends_the_same_events_at_the_same_samples() {
    let (code, report) = compare(&cli_script("ttl_detector.py"), &["--seconds", "4"]);
    assert_eq!(code, Some(0), "{report}");
    let events: usize = report.lines().find_map(|l| l.strip_prefix("events      the same ")).and_then(|l| l.split(' ').next()).and_then(|n| n.parse().ok()).expect(&report);
    // Each synthetic pulse: its two edges echoed, and a mark (on, off) in a later block.
    assert!(events >= 8, "the detector echoed the synthetic TTL pulses and marked blocks:\n{report}");
}

#[test]
fn a_script_that_computes_differently_in_pyproc_is_reported_with_exit_status_2() {
    let (code, report) = compare(&cli_script("differs_in_pyproc.py"), &[]);
    assert_eq!(code, Some(2), "{report}");
    assert!(report.contains("output      differs on 16 of 16 channels"), "{report}");
    assert!(report.contains("the first in block 0 at sample 0"), "{report}");
}

#[test]
fn an_exception_on_one_side_only_is_reported_with_its_traceback() {
    let (code, report) = compare(&cli_script("raises_natively.py"), &[]);
    assert_eq!(code, Some(2), "{report}");
    assert!(report.contains("native process in block 2:") && report.contains("RuntimeError: only natively"), "{report}");
}

#[test]
fn a_python_without_numpy_is_refused_with_the_fix() {
    let bare = tempfile::tempdir().unwrap();
    let venv = bare.path().join("venv");
    assert!(std::process::Command::new("python3").args(["-m", "venv", "--without-pip"]).arg(&venv).status().unwrap().success());
    let out = pyproc(&["compare", &cli_script("ttl_detector.py"), "--python", s(&venv.join("bin/python")), "--seconds", "1"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot import numpy and scipy") && stderr.contains("-m pip install numpy scipy"), "{stderr}");
}
