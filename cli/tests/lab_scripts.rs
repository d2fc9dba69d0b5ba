//! A lab script as labs write them runs unchanged under `pyproc run` with the grants it
//! needs; without them, each failure names the flag to add.

mod common;

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

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

/// The lab's hub (TCP) and stimulator (UDP), as local stand-ins the script reaches
/// through `--allow-net NAME:PORT::127.0.0.1:PORT`.
struct Rig {
    hub: JoinHandle<String>,
    stimulator: UdpSocket,
    hub_flag: String,
    stimulator_flag: String,
}

impl Rig {
    /// A hub that takes `connections` connections, one after the other.
    fn new(connections: usize) -> Rig {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let hub_flag = format!("hub.lab:5555::127.0.0.1:{}", listener.local_addr().unwrap().port());
        let hub = std::thread::spawn(move || {
            let mut said = String::new();
            for _ in 0..connections {
                let (mut conn, _) = listener.accept().unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                conn.read_to_string(&mut said).unwrap();
            }
            said
        });
        let stimulator = UdpSocket::bind("127.0.0.1:0").unwrap();
        stimulator.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let stimulator_flag = format!("stim.lab:6000::127.0.0.1:{}", stimulator.local_addr().unwrap().port());
        Rig { hub, stimulator, hub_flag, stimulator_flag }
    }

    /// What the hub was told, once the script closed the connection.
    fn hub_heard(self) -> (String, Vec<u8>) {
        let mut pulse = [0u8; 16];
        let n = self.stimulator.recv(&mut pulse).unwrap_or(0);
        (self.hub.join().unwrap(), pulse[..n].to_vec())
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
    let rig = Rig::new(1);
    let (read, write) = (lab.read_flag(), lab.write_flag());
    let flags = ["--allow-read", &read, "--allow-write", &write, "--allow-net", &rig.hub_flag, "--allow-net", &rig.stimulator_flag];
    let (code, json, stderr) = run(&flags);
    assert_eq!(code, Some(0), "{stderr}\n{json}");
    assert_eq!(json["denied"]["count"], 0, "{json}");
    let summary = std::fs::read_to_string(lab.path("results/summary.txt")).unwrap();
    assert!(summary.starts_with("samples=30000 crossings=") && summary.ends_with("log='imported\\n'\n"), "{summary}");
    let crossings: u32 = summary.split("crossings=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(crossings > 0, "the synthetic stream crosses the threshold: {summary}");
    let (hub, pulse) = rig.hub_heard();
    // The heartbeat timer runs on the stream's clock: every 7500 samples, after the block
    // that reaches them (1024-sample blocks).
    let expected = "acquisition start\nheartbeat 8192\nheartbeat 15360\nheartbeat 22528\nheartbeat 30000\n";
    assert_eq!(hub, format!("{expected}acquisition stop {crossings}\n"));
    assert_eq!(pulse, b"pulse");
}

#[test]
fn without_them_each_failure_names_the_flag_to_add() {
    let lab = Lab::new();
    // No grant: the import stops at the config.
    let (code, _, stderr) = run(&[]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("closed_loop.py") && stderr.contains("--allow-read /mnt/lab/config/settings.py"), "{stderr}");

    // With each grant added in turn, the run goes on to the next access it lacks; the
    // report names the callback and the flag.
    let read = lab.read_flag();
    let rig = Rig::new(2);
    let steps: [(&[&str], &str, &str); 3] = [
        (&["--allow-read", &read], "start_acquisition", "--allow-net hub.lab:5555"),
        (&["--allow-read", &read, "--allow-net", &rig.hub_flag], "process", "--allow-net stim.lab:6000"),
        (&["--allow-read", &read, "--allow-net", &rig.hub_flag, "--allow-net", &rig.stimulator_flag], "stop_acquisition", "--allow-write /mnt/lab/results"),
    ];
    for (flags, callback, fix) in steps {
        let (code, json, stderr) = run(flags);
        assert_eq!(code, Some(2), "{stderr}");
        let first = &json["denied"]["first"][0];
        assert_eq!((first["callback"].as_str(), first["fix"].as_str()), (Some(callback), Some(fix)), "{json}");
        assert!(json["errors"][callback]["first"].as_str().unwrap().contains(fix), "{json}");
    }
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
