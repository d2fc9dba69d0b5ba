//! A script sees only the stdlib (read-only), its recording folder, its private `/tmp` and
//! what it was granted. Every way out it tries must fail, harmlessly, grants or not.

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;

use common::{builder, Done, test_script, Printed};
use pyproc_host::Grants;
use serde_json::{json, Value};

#[test]
fn every_attempt_to_leave_the_sandbox_fails_and_the_recording_folder_works() {
    escape_attempts_fail(Grants::none());
}

#[test]
fn the_same_attempts_fail_with_grants_present() {
    let granted = tempfile::tempdir().unwrap();
    std::fs::write(granted.path().join("config.txt"), "x").unwrap();
    let grants = Grants::default()
        .allow_read(granted.path().to_str().unwrap())
        .unwrap()
        .allow_write(&format!("{}::/mnt/out", granted.path().display()))
        .unwrap();
    escape_attempts_fail(grants);
}

/// Runs `escape.py` with `grants` besides its recording folder.
fn escape_attempts_fail(grants: Grants) {
    let outside = tempfile::tempdir().unwrap();
    let root = outside.path().join("recordings");
    let recording = root.join("rec1");
    std::fs::create_dir_all(&recording).unwrap();
    std::fs::write(root.join("secret.txt"), "host secret").unwrap();
    std::os::unix::fs::symlink("/etc", recording.join("link_out")).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let targets = json!({
        "home": std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
        "script_dir": test_script("").to_str().unwrap(),
        "sibling_file": root.join("secret.txt").to_str().unwrap(),
        "port": listener.local_addr().unwrap().port(),
    });
    std::fs::write(recording.join("targets.json"), targets.to_string()).unwrap();

    let printed = Printed::default();
    let script_folder = grants.script_folder;
    let mut p = builder(test_script("escape.py")).recording_root(&recording).grants(grants).output(printed.sink()).build().unwrap();
    p.start_recording(&recording).unwrap();
    let results = attempts(&printed);
    let mut allowed = vec!["write in the recording folder", "symlink inside the recording folder", "write the private /tmp"];
    if script_folder {
        allowed.push("read the script's folder");
    }
    assert_eq!(results.len(), 20, "{results:#?}");
    for (name, (ok, detail)) in &results {
        if name == "list /" {
            // The guest's `/` is an empty folder: nothing of the host's is listed.
            assert!(!ok || detail == "[]", "{name} got through: {detail}");
        } else if !allowed.contains(&name.as_str()) {
            assert!(!ok, "{name} got through: {detail}");
        }
    }
    assert!(results["write in the recording folder"].0);
    assert!(results["write the private /tmp"].0, "{:?}", results["write the private /tmp"]);
    assert!(results["symlink inside the recording folder"].0, "{:?}", results["symlink inside the recording folder"]);
    for refused in ["symlink out with ..", "symlink to an absolute path", "read /etc/passwd"] {
        assert!(results[refused].1.starts_with("PermissionError"), "{refused}: {}", results[refused].1);
    }
    assert!(results["read /etc/passwd"].1.contains("--allow-read /etc/passwd"), "the refusal names its flag: {}", results["read /etc/passwd"].1);
    assert!(!recording.join("s_up").exists() && recording.join("s_up").symlink_metadata().is_err(), "no link out was left behind");
    // Nothing reached the host.
    assert!(listener.accept().is_err(), "no connection arrived");
    assert!(!std::path::Path::new("/tmp/pyproc-escaped.txt").exists(), "the script's /tmp is its own");
    assert!(!root.join("escaped.txt").exists() && !outside.path().join("escaped.txt").exists());
    assert_eq!(std::fs::read_to_string(root.join("secret.txt")).unwrap(), "host secret");
    let denied = p.denials();
    assert!(denied.first.iter().any(|d| d.what == "read /etc/passwd" && d.fix == "--allow-read /etc/passwd"), "{denied:?}");
    assert!(denied.first.iter().all(|d| d.callback == Some(pyproc_host::Callback::StartRecording)), "{denied:?}");
    // The instance is fine afterwards.
    let mut block = ndarray::Array2::<f32>::zeros((1, 4));
    p.process(block.view_mut(), 0).done();
}

#[test]
fn grants_do_not_widen() {
    let host = tempfile::tempdir().unwrap();
    let (r, w, f, secret) = (host.path().join("r"), host.path().join("w"), host.path().join("f"), host.path().join("secret"));
    for dir in [&r, &w, &f, &secret] {
        std::fs::create_dir(dir).unwrap();
    }
    std::fs::write(r.join("a.txt"), "readable").unwrap();
    std::fs::write(secret.join("s.txt"), "host secret").unwrap();
    std::fs::write(f.join("cfg.py"), "GAIN = 1").unwrap();
    std::fs::write(f.join("other.txt"), "not granted").unwrap();
    std::os::unix::fs::symlink("/etc", r.join("out")).unwrap();
    std::os::unix::fs::symlink("../secret", r.join("up")).unwrap();
    let grants = Grants::none()
        .allow_read(&format!("{}::/g/r", r.display()))
        .unwrap()
        .allow_write(&format!("{}::/g/w", w.display()))
        .unwrap()
        .allow_read(&format!("{}::/g/f/cfg.py", f.join("cfg.py").display()))
        .unwrap();
    let printed = Printed::default();
    let mut p = builder(test_script("grant_escape.py")).grants(grants).output(printed.sink()).build().unwrap();
    p.stop_acquisition().unwrap();
    let results = attempts(&printed);
    assert_eq!(results.len(), 25, "{results:#?}");
    let allowed = ["read in the read grant", "write in the write grant", "read the granted file", "read in the read grant after the attempts"];
    for (name, (ok, detail)) in &results {
        assert_eq!(*ok, allowed.contains(&name.as_str()), "{name}: {detail}");
    }
    for (name, flag) in [
        ("write in the read grant", "--allow-write"),
        ("delete in the read grant", "--allow-write"),
        ("rename out of the read grant", "--allow-write"),
        ("the granted file's sibling", "--allow-read /g/f/other.txt"),
        ("write above the grants", "--allow-write /g"),
    ] {
        assert!(results[name].1.starts_with("PermissionError") && results[name].1.contains(flag), "{name}: {}", results[name].1);
    }
    assert!(results["grant descriptors by number"].1.contains("none reachable"), "{:?}", results["grant descriptors by number"]);
    // Nothing changed on the host but the one allowed file.
    assert_eq!(std::fs::read_to_string(r.join("a.txt")).unwrap(), "readable");
    assert_eq!(std::fs::read_dir(&w).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect::<Vec<_>>(), ["ok.txt"]);
    assert_eq!(std::fs::read_dir(&r).unwrap().count(), 3, "nothing created in the read grant");
    assert!(!host.path().join("x.txt").exists() && !host.path().join("new").exists());
    assert_eq!(std::fs::read_to_string(f.join("cfg.py")).unwrap(), "GAIN = 1");
}

/// The JSON lines an escape script printed: attempt -> (got through, detail).
fn attempts(printed: &Printed) -> BTreeMap<String, (bool, String)> {
    let results: BTreeMap<String, (bool, String)> = printed
        .take()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["attempt"].as_str().unwrap().to_owned(), (v["ok"].as_bool().unwrap(), v["detail"].as_str().unwrap().to_owned())))
        .collect();
    for (name, (ok, detail)) in &results {
        eprintln!("{name}: {} ({detail})", if *ok { "through" } else { "blocked" });
    }
    results
}

fn host_open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn a_script_hoarding_file_descriptors_is_stopped_before_the_host_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hog.py");
    std::fs::write(
        &script,
        "import os\nclass PyProcessor:\n    def __init__(self, p, n, r):\n        self.files = []\n    def process(self, data):\n        data += 1\n    def start_recording(self, d):\n        for i in range(100000):\n            self.files.append(open(os.path.join(d, 'f.txt'), 'w'))\n",
    )
    .unwrap();
    let limits = pyproc_host::Limits { open_files: 64, ..Default::default() };
    let mut p = builder(&script).recording_root(dir.path()).limits(limits).build().unwrap();
    let before = host_open_fds();
    // wasmtime-wasi ends the instance (a trap) when its descriptor table is full.
    let err = p.start_recording(dir.path()).unwrap_err();
    assert!(matches!(&err, pyproc_host::Error::InstanceDied { .. }), "{err}");
    assert!(host_open_fds() <= before + 8, "the host's descriptors were not exhausted: {before} -> {}", host_open_fds());
    // The restarted interpreter replays start_recording, hoards again and is stopped again;
    // after that the processor switches itself off rather than loop.
    let mut block = ndarray::array![[0.0f32]];
    let _ = p.process(block.view_mut(), 0);
    assert!(host_open_fds() <= before + 8);
    assert!(p.stats().restarts >= 1);
}

#[test]
fn the_recording_folder_is_shut_before_and_after_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("existing.txt"), "there before").unwrap();
    std::fs::write(root.join("keep.txt"), "must survive").unwrap();
    let source = std::fs::read_to_string(test_script("recording_window.py")).unwrap();
    let script = dir.path().join("recording_window.py");
    // The first granted root, as the script sees it (see the sandbox's preopens.rs).
    std::fs::write(&script, source.replace("@ROOT@", "/recordings/0")).unwrap();

    let printed = Printed::default();
    let mut p = builder(&script).recording_root(&root).output(printed.sink()).build().unwrap();
    let mut block = ndarray::Array2::<f32>::zeros((1, 4));
    p.process(block.view_mut(), 0).done();
    p.start_recording(&root).unwrap();
    p.process(block.view_mut(), 4).done();
    p.stop_recording().unwrap();
    p.process(block.view_mut(), 8).done();

    let attempts: Vec<(String, String, bool, String)> = printed
        .take()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["phase"].as_str().unwrap().into(), v["what"].as_str().unwrap().into(), v["ok"].as_bool().unwrap(), v["detail"].as_str().unwrap().into()))
        .collect();
    for (phase, what, ok, detail) in &attempts {
        eprintln!("{phase:>14} {what:<17} {} {detail}", if *ok { "through" } else { "blocked" });
        let open = matches!(phase.as_str(), "recording" | "stop_recording");
        assert_eq!(*ok, open, "{phase}: {what}: {detail}");
    }
    // init and process before; recording (start_recording and process) and stop_recording;
    // process after, which also tries the file and folder it kept open.
    let count = |phase: &str| attempts.iter().filter(|a| a.0 == phase).count();
    assert_eq!((count("init"), count("process"), count("recording"), count("stop_recording"), count("after")), (10, 0, 14, 7, 7));
    assert!(!root.join("init.txt").exists() && !root.join("after.txt").exists());
    assert_eq!(std::fs::read_to_string(root.join("keep.txt")).unwrap(), "must survive");
    assert_eq!(std::fs::read_to_string(root.join("kept.txt")).unwrap(), "moremoremore", "written during the recording only");
}

/// A processor of the script text `source` with `grants`, and what it prints.
fn from_source(source: &str, grants: pyproc_host::Grants, limits: pyproc_host::Limits) -> (pyproc_host::Processor, Printed) {
    let printed = Printed::default();
    let p = pyproc_host::Processor::builder_for_source(&common::engine(), "net_escape.py", source)
        .grants(grants)
        .limits(limits)
        .output(printed.sink())
        .build()
        .unwrap();
    (p, printed)
}

#[test]
fn network_frames_written_by_hand_get_no_further_than_the_socket_module() {
    use pyproc_host::{Callback, Grants, Limits};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let source = r#"
import struct, _host, _pyproc_door
from _pyproc_wire import *
def text(s):
    return struct.pack("<I", len(s)) + s.encode()
def ask(frame):
    # The host answers in the runtime's reply area; `_host.call` itself answers b''.
    assert _host.call(frame) == b""
    return _pyproc_door.replies.view[8:8 + _pyproc_door.replies.header()[1]].tobytes()
def open_handle(kind):
    return struct.unpack_from("<I", ask(struct.pack("<BB", NET_OPEN, kind) + text("raw")), 1)[0]
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        handle = open_handle(NET_TCP)
        reply = ask(struct.pack("<BIdH", NET_CONNECT, handle, 1.0, PORT) + text("127.0.0.1"))
        print("connect denied", reply[0] == NET_DENIED)
        reply = ask(struct.pack("<BIdH", NET_SEND, 424242, 0.0, 0) + text("") + b"x")
        print("unknown handle", reply[0] == NET_OS_ERROR and b"EBADF" in reply)
    def stop_acquisition(self):
        handle = open_handle(NET_UDP)
        try:
            _host.call(struct.pack("<BIdBII", NET_RECV, handle, 0.0, 0, 0xFFFFFF00, 4096))
            print("wrote outside its memory")
        except OSError as e:
            print("refused", e)
"#
    .replace("PORT", &port.to_string());
    let (mut p, printed) = from_source(&source, Grants::none(), Limits::default());
    p.start_acquisition().unwrap();
    assert_eq!(printed.take(), ["connect denied True", "unknown handle True"]);
    let denials = p.denials();
    assert_eq!((denials.count, denials.first[0].callback, denials.first[0].what.clone()), (1, Some(Callback::StartAcquisition), format!("connect 127.0.0.1:{port}")));
    assert!(listener.accept().is_err(), "no connection arrived");
    // A receive into memory the guest does not have is refused: an OSError in the script.
    p.stop_acquisition().unwrap();
    let lines = printed.take();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("the host refused a frame") && lines[0].contains("outside its memory"), "{}", lines[0]);
    assert_eq!(lines[1], "refused host door returned 1");
    assert_eq!((p.stats().frames_refused, p.stats().restarts), (1, 0));
}

#[test]
fn a_script_cannot_hold_more_sockets_than_its_cap() {
    use pyproc_host::{Grants, Limits};
    let source = r#"
import errno, socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.held = []
    def process(self, data):
        pass
    def start_acquisition(self):
        try:
            for _ in range(10000):
                self.held.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                self.held[-1].bind(("", 0))
        except OSError as e:
            print(len(self.held), e.errno == errno.EMFILE)
"#;
    let limits = Limits { open_files: 16, ..Limits::default() };
    let (mut p, printed) = from_source(source, Grants::none(), limits);
    p.start_acquisition().unwrap();
    assert_eq!(printed.take(), ["16 True"]);
}

#[test]
fn a_granted_listener_is_served_on_loopback_only() {
    use pyproc_host::{Grants, Limits};
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.server = socket.socket()
        self.server.bind(("0.0.0.0", PORT))
        self.server.listen()
        print(self.server.getsockname())
    def process(self, data):
        pass
"#
    .replace("PORT", &port.to_string());
    let (p, printed) = from_source(&source, Grants::none().allow_listen(port), Limits::default());
    assert_eq!(printed.take(), [format!("('127.0.0.1', {port})")]);
    std::net::TcpStream::connect(("127.0.0.1", port)).expect("reachable on 127.0.0.1");
    // This machine's address on its network, when it has one: nothing listens there.
    let outward = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|u| u.connect("192.0.2.1:9").and_then(|()| u.local_addr()));
    if let Ok(std::net::SocketAddr::V4(local)) = outward {
        if !local.ip().is_loopback() && !local.ip().is_unspecified() {
            let timeout = std::time::Duration::from_secs(2);
            assert!(std::net::TcpStream::connect_timeout(&(*local.ip(), port).into(), timeout).is_err(), "reachable on {}", local.ip());
        }
    }
    drop(p);
}

#[test]
fn an_answer_larger_than_the_reply_area_arrives_whole() {
    // The refusal names the path: over 6 000 bytes, more than the 4 KiB reply area, so
    // the runtime makes a larger area first (GROW, AREA) and then reads the answer.
    let source = r#"
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        path = "/mnt/" + "x" * 6000 + "/cfg.json"
        for attempt in range(2):
            try:
                open(path)
            except PermissionError as e:
                print("refused", path in str(e), "--allow-read" in str(e))
    def process(self, data):
        pass
"#;
    let (_p, printed) = from_source(source, pyproc_host::Grants::none(), pyproc_host::Limits::default());
    assert_eq!(printed.take(), ["refused True True", "refused True True"]);
}
