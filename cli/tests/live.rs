//! `pyproc run --live`: a real headless Chromium loads the page while the example runs and
//! shows the viewer's figures as they are drawn. The page lists each figure it displayed
//! with the frame number the server sent, a hash of the PNG bytes it received and the
//! width the browser decoded; `chromium --dump-dom` reads that list back.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant};

use common::{repo, s, text};

/// The engine may compile the interpreter first (minutes, once per cache).
const START_TIMEOUT: Duration = Duration::from_secs(600);
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

fn chromium() -> PathBuf {
    ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|p| p.is_file()))
        })
        .unwrap_or_else(|| panic!("this test loads the --live page in a real browser and needs Chromium on PATH: install it with `apt-get install chromium`"))
}

/// A figure the page listed as displayed.
#[derive(Debug)]
struct Shown {
    frame: u64,
    width: u32,
    hash: String,
}

/// The `<li data-frame=… data-width=… data-hash=…>` items of the page's list.
fn shown(dom: &str) -> Vec<Shown> {
    let attr = |item: &str, name: &str| -> String {
        let key = format!("{name}=\"");
        let start = item.find(&key).unwrap_or_else(|| panic!("no {name} in {item}")) + key.len();
        item[start..].split('"').next().unwrap().to_owned()
    };
    dom.split("<li ")
        .skip(1)
        .map(|item| Shown { frame: attr(item, "data-frame").parse().unwrap(), width: attr(item, "data-width").parse().unwrap(), hash: attr(item, "data-hash") })
        .collect()
}

/// Waits for `child` at most `timeout`, then kills it.
fn wait_or_kill(child: &mut Child, timeout: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn live_page_shows_the_viewers_figures_changing_in_a_real_browser_then_finished() {
    let browser = chromium();
    let tmp = tempfile::tempdir().unwrap();
    let example = repo("examples/threshold_plot.py");
    // Small blocks over a long stream: enough blocks for several seconds of run, and so
    // many figures at 10 a second, after the browser is up.
    let mut pyproc = Command::new(env!("CARGO_BIN_EXE_pyproc"))
        .args(["run", s(&example), "--channels", "1", "--seconds", "120", "--block-size", "64", "--live", "--live-linger", "1", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pyproc runs");
    let (lines, heard) = channel();
    let stderr = pyproc.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = loop {
        match heard.recv_timeout(START_TIMEOUT) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("pyproc: live page at ") {
                    break url.to_owned();
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                let _ = pyproc.kill();
                panic!("pyproc printed no live page address:\n{}", reader.join().unwrap());
            }
        }
    };
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "{url}");

    // The page long-polls, and virtual time stands still while a request is pending, so
    // the budget runs out only once the page has seen the run finish and stopped polling.
    let mut browser = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=60000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", tmp.path().join("profile").display()))
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut dom = String::new();
    std::io::Read::read_to_string(browser.stdout.as_mut().unwrap(), &mut dom).unwrap();
    let browser_status = wait_or_kill(&mut browser, BROWSER_TIMEOUT, "chromium --dump-dom");
    let run_status = wait_or_kill(&mut pyproc, BROWSER_TIMEOUT, "pyproc run --live");
    let mut report = String::new();
    std::io::Read::read_to_string(pyproc.stdout.as_mut().unwrap(), &mut report).unwrap();
    let stderr = reader.join().unwrap();
    assert!(run_status.success(), "{report}\n{stderr}");
    assert!(browser_status.success(), "chromium failed:\n{dom}");

    let shown = shown(&dom);
    assert!(dom.contains(r#"<span id="status" class="finished">finished</span>"#), "the page does not say the run finished:\n{dom}");
    assert!(shown.len() >= 2, "the page showed {} figures:\n{dom}\n{stderr}", shown.len());
    assert!(shown.iter().all(|f| f.width == 800), "every figure decoded 800 px wide: {shown:?}");
    assert!(shown.windows(2).all(|w| w[0].frame < w[1].frame), "frames in the order drawn: {shown:?}");
    let mut hashes: Vec<&str> = shown.iter().map(|f| f.hash.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert!(hashes.len() >= 2, "the page displayed the same image every time: {shown:?}");

    let json: serde_json::Value = serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report}"));
    assert_eq!(json["plots"]["live_url"].as_str(), Some(url.as_str()), "{report}");
    assert!(json["plots"]["dir"].is_null(), "{report}");
    let frames = json["plots"]["frames"].as_u64().unwrap();
    assert_eq!(shown.last().unwrap().frame + 1, frames, "the page ends on the last frame drawn: {shown:?}\n{report}");
}

#[test]
fn live_page_port_taken_names_the_flag_and_the_fix() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let example = repo("examples/threshold_plot.py");
    let out = common::pyproc(&["run", s(&example), "--seconds", "0.1", "--channels", "1", "--live", "--live-port", &port]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains(&format!("--live-port {port}")) && err.contains("leave --live-port out"), "{err}");
}

#[test]
fn live_with_plots_writes_every_figure_and_reports_both_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("frames");
    let example = repo("examples/threshold_plot.py");
    let out = common::pyproc(&["run", s(&example), "--seconds", "2", "--channels", "2", "--live", "--plots", s(&dir), "--plot-rate", "1000", "--json"]);
    let (report, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{report}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report}"));
    let plots = &json["plots"];
    let url = plots["live_url"].as_str().unwrap_or_else(|| panic!("no live_url: {report}"));
    assert!(stderr.contains(&format!("pyproc: live page at {url}")), "{stderr}");
    assert_eq!(plots["dir"].as_str(), Some(s(&dir)), "{report}");
    let written = std::fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("frame-")).count();
    assert!(written > 0 && plots["frames"].as_u64() == Some(written as u64), "{written} files: {report}");
    assert_eq!(plots["viewer_errors"], serde_json::json!([]), "{report}");
}
