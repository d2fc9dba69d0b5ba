//! `pyproc run` as a user runs it: the binary, its exit code and what it prints.

mod common;

use common::{cli_script, pyproc, pyproc_ok, repo, s, text, SYNTHETIC_DAT};

#[test]
fn run_prints_a_summary_of_blocks_latency_and_events() {
    let script = repo("examples/threshold_events.py");
    let out = pyproc(&["run", s(&script), "--seconds", "2", "--channels", "8"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    // 2 s at 30 kHz in 1024-sample blocks.
    assert!(stdout.contains("blocks        59"), "{stdout}");
    assert!(stdout.contains("60000 per channel x 8 channels"), "{stdout}");
    assert!(stdout.contains("per block     p50 "), "{stdout}");
    // Two TTL edges a second on the synthetic line, delivered to the script.
    assert!(stdout.contains("events in     4 TTL"), "{stdout}");
    assert!(stdout.contains("errors        none"), "{stdout}");
}

#[test]
fn the_synthetic_stream_is_the_same_for_the_same_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let saved = |name: &str, seed: &str| {
        let dir = tmp.path().join(name);
        pyproc_ok(&["run", &cli_script("passthrough.py"), "--seconds", "0.2", "--channels", "4", "--seed", seed, "--save-input", s(&dir)]);
        std::fs::read(dir.join(SYNTHETIC_DAT)).unwrap()
    };
    let first = saved("a", "5");
    assert_eq!(first.len(), 6000 * 4 * 2, "0.2 s of 4 int16 channels at 30 kHz");
    assert!(first == saved("b", "5"), "seed 5 twice gave different samples");
    assert!(first != saved("c", "6"), "seeds 5 and 6 gave the same samples");
}

#[test]
fn script_errors_are_counted_shown_with_their_traceback_and_give_exit_status_2() {
    let script = repo("host/tests/scripts/raises_in_process.py");
    let out = pyproc(&["run", s(&script), "--seconds", "1", "--channels", "2"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("process: "), "{stdout}");
    assert!(stdout.contains("raises_in_process.py:12: process raised ValueError: sample too large"), "{stdout}");
    assert!(stdout.contains("blocks        30"), "the run went on after the errors: {stdout}");
}

#[test]
fn a_missing_script_fails_with_its_path_and_status_1() {
    let out = pyproc(&["run", "/nonexistent/script.py"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot read the script /nonexistent/script.py"), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "the cause is said once: {stderr}");
}

#[test]
fn the_output_recording_is_passed_to_start_recording_and_writable_by_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo("host/tests/scripts/recording_writer.py");
    let out = pyproc(&["run", s(&script), "--seconds", "0.5", "--channels", "4", "--output", s(dir.path())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The script writes into the output recording, which moves into place at the end.
    let written = std::fs::read_to_string(dir.path().join("experiment1/recording1/from_script.txt")).unwrap();
    assert_eq!(written, "recorded by the script\nblocks seen: 15\n");
}

#[test]
fn what_the_script_prints_reaches_the_terminal() {
    let script = repo("examples/processor_template.py");
    let out = pyproc(&["run", s(&script), "--seconds", "0.1", "--channels", "3"]);
    assert!(text(&out.stderr).contains("[processor_template.py] Num Channels: 3 | Sample Rate: 30000.0"), "{}", text(&out.stderr));
}

#[test]
fn without_output_the_script_still_records_into_a_temporary_folder() {
    let script = repo("host/tests/scripts/argument_recorder.py");
    let out = pyproc(&["run", s(&script), "--seconds", "0.1", "--channels", "2"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let started = stderr.lines().find(|l| l.contains("\"start_recording\"")).expect("start_recording was called");
    // The granted folder as the script sees it (the host's sandbox/preopens.rs).
    assert!(started.contains("\"/recordings/0\""), "{started}");
    assert!(stderr.contains("\"stop_recording\""), "{stderr}");
    assert!(text(&out.stdout).contains("output        none (the script's recording folder was temporary"));
}

#[test]
fn shards_write_the_same_recording_as_one_interpreter_and_the_report_says_how_many_ran() {
    let tmp = tempfile::tempdir().unwrap();
    let script = repo("examples/bandpass_filter.py");
    let run = |shards: &str| {
        let dir = tmp.path().join(format!("out{shards}"));
        let out = pyproc_ok(&["run", s(&script), "--seconds", "0.5", "--channels", "6", "--shards", shards, "--output", s(&dir)]);
        let dat = common::files_below(&dir).into_iter().find(|p| p.ends_with("continuous.dat")).expect("the output has a continuous.dat");
        (text(&out.stdout), std::fs::read(dat).unwrap())
    };
    let (one, one_data) = run("1");
    assert!(one.contains("shards        1 (--shards 1)"), "{one}");
    let (three, three_data) = run("3");
    assert!(three.contains("shards        3 in parallel, channels 0–1, 2–3, 4–5"), "{three}");
    assert!(one_data == three_data, "3 shards wrote other samples than 1");
}

#[test]
fn a_script_that_does_not_declare_channel_independent_runs_in_one_interpreter() {
    let out = pyproc_ok(&["run", &cli_script("passthrough.py"), "--seconds", "0.2", "--channels", "4", "--shards", "2"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("shards        1 (the script does not declare `channel_independent = True`"), "{stdout}");
}
