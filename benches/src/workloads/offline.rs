//! `pyproc run` over a long recording with an output, beside `cp -r` of the same folder:
//! what reading, converting, handing blocks to the script and writing cost on top of
//! moving the bytes. Both run as processes, the way a scientist runs them, in alternating
//! rounds so that a busy disk or neighbour slows both alike.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench::Bench;
use crate::median;
use crate::row::{Row, Unit};
use crate::workloads::script;

const SECONDS: u32 = 60;
const CHANNELS: u32 = 384;
const ROUNDS: usize = 3;

pub fn run_vs_copy(bench: &mut Bench) {
    let workload = format!("pyproc run --output, pass-through, {SECONDS} s x {CHANNELS} ch");
    if !bench.wants(&workload) {
        return;
    }
    let Some(pyproc) = beside_this_program("pyproc") else {
        bench.note(&format!("{workload}: skipped, no `pyproc` beside pyproc-bench (cargo build --release -p pyproc-cli first)"));
        return;
    };
    let scratch = tempfile::Builder::new().prefix("pyproc-bench-offline-").tempdir().expect("a temporary folder");
    let input = scratch.path().join("input");
    let passthrough = script("passthrough.py");
    let (seconds, channels) = (SECONDS.to_string(), CHANNELS.to_string());
    run(Command::new(&pyproc).arg("run").arg(&passthrough).args(["--channels", &channels, "--seconds", &seconds, "--save-input"]).arg(&input));
    let (mut ours, mut copies) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let output = scratch.path().join(format!("output{round}"));
        let copy = scratch.path().join(format!("copy{round}"));
        ours.push(timed(Command::new(&pyproc).arg("run").arg(&passthrough).arg("--input").arg(&input).arg("--output").arg(&output)));
        copies.push(timed(Command::new("cp").arg("-r").arg(&input).arg(&copy)));
        for done in [output, copy] {
            std::fs::remove_dir_all(&done).expect("removing a round's output");
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    bench.record(Row::beside(workload, Unit::Millis, ms(median(ours)), "cp -r", ms(median(copies))));
}

/// A program built into the same folder as this one.
fn beside_this_program(name: &str) -> Option<PathBuf> {
    let here = std::env::current_exe().ok()?;
    Some(here.parent()?.join(name)).filter(|p| p.is_file())
}

fn timed(command: &mut Command) -> Duration {
    let start = Instant::now();
    run(command);
    start.elapsed()
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}
