//! `pyproc check`, `pyproc new`, stream choice and Ctrl-C.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{cli_script, pyproc, pyproc_ok, repo, s, synthetic_recording, text, tree_state, SYNTHETIC_DAT};
use serde_json::{json, Value};

#[test]
fn check_accepts_a_good_script() {
    let out = pyproc_ok(&["check", s(&repo("examples/bandpass_filter.py"))]);
    assert!(text(&out.stdout).contains("bandpass_filter.py: ok"));
}

#[test]
fn check_says_whether_the_script_declares_channel_independent() {
    let declared = text(&pyproc_ok(&["check", s(&repo("examples/bandpass_filter.py"))]).stdout);
    assert!(declared.contains("channel_independent = True: `pyproc run` splits the channels between"), "{declared}");
    let undeclared = text(&pyproc_ok(&["check", s(&repo("examples/threshold_events.py"))]).stdout);
    assert!(!undeclared.contains("channel_independent"), "{undeclared}");
}

#[test]
fn check_reports_callbacks_with_the_wrong_parameters_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("sig.py");
    std::fs::write(&script, "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self):\n        pass\n    def handle_ttl_event(self, a, b, c, d):\n        pass\n").unwrap();
    let out = pyproc(&["check", s(&script)]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("sig.py:4: process() cannot take the 1 argument(s)"), "{stdout}");
    assert!(stdout.contains("sig.py:6: handle_ttl_event(a, b, c, d) cannot take the 5 argument(s)"), "{stdout}");
}

#[test]
fn check_reports_a_syntax_error_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("broken.py");
    std::fs::write(&script, "import numpy\n\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        x = [1, 2\n").unwrap();
    let out = pyproc(&["check", s(&script)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("broken.py:5: import raised SyntaxError"), "{}", text(&out.stdout));
}

#[test]
fn check_reports_a_failing_init_with_its_traceback() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("init.py");
    std::fs::write(&script, "class PyProcessor:\n    def __init__(self, p, n, r):\n        raise RuntimeError('no probe map')\n    def process(self, data):\n        pass\n").unwrap();
    let stdout = text(&pyproc(&["check", s(&script)]).stdout);
    assert!(stdout.contains("init.py:3: __init__ raised RuntimeError: no probe map") && stdout.contains("Traceback"), "{stdout}");
}

#[test]
fn new_writes_the_template_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let name = tmp.path().join("my_filter");
    pyproc_ok(&["new", s(&name)]);
    let written = std::fs::read_to_string(tmp.path().join("my_filter.py")).unwrap();
    assert_eq!(written, std::fs::read_to_string(repo("examples/processor_template.py")).unwrap());
    pyproc_ok(&["check", s(&tmp.path().join("my_filter.py"))]);
    std::fs::write(tmp.path().join("my_filter.py"), "mine").unwrap();
    assert_eq!(pyproc(&["new", s(&name)]).status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(tmp.path().join("my_filter.py")).unwrap(), "mine");
}

#[test]
fn a_recording_with_two_streams_needs_stream_and_lists_the_names() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let path = input.join("structure.oebin");
    let mut structure: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut second = structure["continuous"][0].clone();
    second["stream_name"] = json!("second");
    second["folder_name"] = json!("Synthetic_Source-100.second/");
    structure["continuous"].as_array_mut().unwrap().push(second);
    std::fs::write(&path, structure.to_string()).unwrap();
    let from = input.join("continuous/Synthetic_Source-100.synthetic");
    let to = input.join("continuous/Synthetic_Source-100.second");
    std::fs::create_dir_all(&to).unwrap();
    for f in ["continuous.dat", "sample_numbers.npy", "timestamps.npy"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let out = pyproc(&["run", &cli_script("passthrough.py"), "--input", s(&input)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("2 continuous streams (synthetic, second); choose one with --stream"), "{}", text(&out.stderr));
    let out = pyproc_ok(&["run", &cli_script("passthrough.py"), "--input", s(&input), "--stream", "second"]);
    assert!(text(&out.stdout).contains("(stream \"second\")"));
    let out = pyproc(&["run", &cli_script("passthrough.py"), "--input", s(&input), "--stream", "third"]);
    assert!(text(&out.stderr).contains("no continuous stream named \"third\"; its streams are: synthetic, second"));
}

#[test]
fn ctrl_c_stops_cleanly_and_keeps_a_valid_shorter_recording() {
    let tmp = tempfile::tempdir().unwrap();
    let output = tmp.path().join("out");
    let child = slow_run_midway(tmp.path(), &[]);
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("interrupted   by Ctrl-C"), "{stdout}");
    let recording = pyproc_oebin::Recording::open(&output).expect("the output is a complete recording");
    let continuous = recording.continuous(0).unwrap();
    assert!(continuous.len() > 0 && continuous.len() < 60 * 30_000, "{} samples", continuous.len());
    assert!(stdout.contains(&format!("({} samples per channel", continuous.len())), "{stdout}");
}

#[test]
fn a_killed_run_leaves_only_its_staging_folder_and_the_next_run_into_the_same_output_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, output) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(tmp.path().join(".other.pyproc-partial-Ab12cD")).unwrap();
    let before = tree_state(tmp.path());
    // The synthetic stream is saved whole before the run starts; the run is then killed.
    let mut child = slow_run_midway(tmp.path(), &["--save-input", s(&input)]);
    child.kill().unwrap(); // SIGKILL: nothing runs after it
    child.wait().unwrap();
    let left: Vec<_> = tree_state(tmp.path()).into_keys().filter(|p| !before.contains_key(p) && !p.starts_with(&input)).collect();
    let staging = left.iter().find(|p| p.parent() == Some(tmp.path())).expect("the staging folder").clone();
    assert!(staging.file_name().unwrap().to_string_lossy().starts_with(".out.pyproc-partial-"), "{left:?}");
    assert!(left.iter().all(|p| p.starts_with(&staging)), "only the staging folder is left: {left:?}");

    let out = pyproc_ok(&["run", &cli_script("passthrough.py"), "--input", s(&input), "--output", s(&output)]);
    let removed = format!("pyproc: removed {}, left by a run into {} that did not finish", staging.display(), output.display());
    assert!(text(&out.stderr).contains(&removed), "{}", text(&out.stderr));
    let mut after = tree_state(tmp.path());
    after.retain(|p, _| !p.starts_with(&output) && !p.starts_with(&input));
    assert_eq!(after, before, "the leftover is gone and nothing else was touched");
}

/// `pyproc run slow.py` over 60 s of the synthetic stream into `dir/out` (with `extra`
/// arguments), returned once it is midway.
fn slow_run_midway(dir: &Path, extra: &[&str]) -> Child {
    let output = dir.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyproc"))
        .args(["run", &cli_script("slow.py"), "--seconds", "60", "--channels", "2", "--output", s(&output)])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_processed_blocks(&mut child, dir);
    child
}

/// Waits (two minutes at most) until processed blocks reach the staging folder of the
/// output `out` in `dir`: then the engine is up, Ctrl-C is handled and the run is midway,
/// however long the start took.
fn wait_for_processed_blocks(child: &mut Child, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("pyproc ended ({status}) before writing a block:\n{stderr}");
        }
        let written = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".out.pyproc-partial-"))
            .any(|e| std::fs::metadata(e.path().join(SYNTHETIC_DAT)).is_ok_and(|m| m.len() > 0));
        if written {
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no processed block reached {} within two minutes", dir.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_same_random_seed_gives_a_byte_identical_output_recording() {
    let tmp = tempfile::tempdir().unwrap();
    let input = synthetic_recording(tmp.path());
    let script = repo("host/tests/scripts/random_writer.py");
    let dat = |name: &str, seed: &str| {
        let out = tmp.path().join(name);
        pyproc_ok(&["run", s(&script), "--input", s(&input), "--output", s(&out), "--random-seed", seed]);
        std::fs::read(out.join(SYNTHETIC_DAT)).unwrap()
    };
    let first = dat("a", "11");
    assert_eq!(first, dat("b", "11"));
    assert_ne!(first, dat("c", "12"));
}

#[test]
fn a_runaway_script_is_cut_at_the_deadline_and_the_run_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("runaway.py");
    std::fs::write(&script, "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        if data.shape[1] < 1024:\n            while True:\n                pass\n").unwrap();
    // 0.1 s at 30 kHz: two full blocks, then a short one that loops forever.
    let out = pyproc(&["run", s(&script), "--seconds", "0.1", "--channels", "2", "--deadline-ms", "100"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("blocks        3"), "{stdout}");
    assert!(stdout.contains("past its deadline of 100 ms") && stdout.contains("--deadline-ms"), "{stdout}");
}
