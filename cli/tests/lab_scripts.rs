//! A lab script as labs write them runs unchanged under `pyproc run` with the grants it
//! needs; without them, each failure names the flag to add.

mod common;

use std::path::{Path, PathBuf};

use common::{pyproc, repo, s, text};
use serde_json::Value;

/// The lab's host folders: a config and a results folder.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("results")).unwrap();
        std::fs::write(dir.path().join("config/settings.py"), "GAIN = 2.0\nTHRESHOLD = -50.0\n").unwrap();
        Lab { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn read_flag(&self) -> String {
        format!("{}::/mnt/lab/config", self.path("config").display())
    }

    fn write_flag(&self) -> String {
        format!("{}::/mnt/lab/results", self.path("results").display())
    }
}

fn script() -> PathBuf {
    repo("cli/tests/scripts/lab/closed_loop.py")
}

fn run(flags: &[&str]) -> (Option<i32>, Value, String) {
    let script = script();
    let mut args = vec!["run", s(&script), "--seconds", "1", "--channels", "4", "--json"];
    args.extend_from_slice(flags);
    let out = pyproc(&args);
    let stdout = text(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code(), json, text(&out.stderr))
}

#[test]
fn with_its_grants_the_lab_script_runs_unchanged_and_nothing_is_denied() {
    let lab = Lab::new();
    let (read, write) = (lab.read_flag(), lab.write_flag());
    let (code, json, stderr) = run(&["--allow-read", &read, "--allow-write", &write]);
    assert_eq!(code, Some(0), "{stderr}\n{json}");
    assert_eq!(json["denied"]["count"], 0, "{json}");
    let summary = std::fs::read_to_string(lab.path("results/summary.txt")).unwrap();
    assert!(summary.starts_with("samples=30000 crossings=") && summary.ends_with("log='imported\\n'\n"), "{summary}");
}

#[test]
fn without_them_each_failure_names_the_flag_to_add() {
    let lab = Lab::new();
    // No grant: the import stops at the config.
    let (code, _, stderr) = run(&[]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("closed_loop.py") && stderr.contains("--allow-read /mnt/lab/config/settings.py"), "{stderr}");

    // The config granted, the results not: the run goes on; stop_acquisition fails, and
    // the report lists the refusal with its callback and flag.
    let read = lab.read_flag();
    let (code, json, stderr) = run(&["--allow-read", &read]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(json["denied"]["count"], 1, "{json}");
    let denial = &json["denied"]["first"][0];
    assert_eq!((denial["callback"].as_str(), denial["fix"].as_str()), (Some("stop_acquisition"), Some("--allow-write /mnt/lab/results")), "{json}");
    assert!(json["errors"]["stop_acquisition"]["first"].as_str().unwrap().contains("--allow-write /mnt/lab/results"), "{json}");
    assert!(!Path::new("/mnt/lab/results/summary.txt").exists());
}

#[test]
fn the_text_report_and_check_list_refused_accesses() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("peek.py");
    std::fs::write(
        &script,
        "class PyProcessor:\n    def __init__(self, p, n, r):\n        try:\n            open('/etc/hostname').read()\n        except PermissionError:\n            pass\n    def process(self, data):\n        pass\n",
    )
    .unwrap();
    let out = pyproc(&["check", s(&script)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("peek.py: ok") && stdout.contains("__init__: read /etc/hostname (allow with --allow-read /etc/hostname)"), "{stdout}");

    let out = pyproc(&["run", s(&script), "--seconds", "0.1", "--channels", "1"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("denied        1 accesses") && stdout.contains("--allow-read /etc/hostname"), "{stdout}");
}
