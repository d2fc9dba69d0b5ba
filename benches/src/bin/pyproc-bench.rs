//! `pyproc-bench [SCRIPT] [--only SUBSTRING]... [--json]`: pyproc's performance table,
//! beside CPython embedded natively (the original plugin's approach) measured in the same
//! run.
//!
//! ```sh
//! cargo run --release -p pyproc-benches --bin pyproc-bench                          # all rows
//! cargo run --release -p pyproc-benches --bin pyproc-bench -- my_script.py          # + yours
//! cargo run --release -p pyproc-benches --bin pyproc-bench -- --only sosfilt --json # some rows, as JSON
//! ```
//!
//! Per-block figures interleave pyproc and native rounds and report the median round, so a
//! noisy neighbour slows both sides alike. Ratios say how many times native's cost pyproc's
//! is (lower is better).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use pyproc_benches::bench::Bench;
use pyproc_benches::report::{Format, Report};
use pyproc_benches::selection::Selection;
use pyproc_benches::workloads::{callbacks, cold, example, memory, offline, parallel, per_block, plots, script, shards, startup};
use pyproc_host::Engine;

#[derive(Parser)]
#[command(about = "pyproc's per-block costs beside natively embedded CPython, measured in the same run")]
struct Args {
    /// A `PyProcessor` script of yours, measured first at 1, 64 and 384 channels.
    script: Option<PathBuf>,
    /// Measure only the rows whose workload contains SUBSTRING (any case; repeat for more).
    #[arg(long, value_name = "SUBSTRING")]
    only: Vec<String>,
    /// One JSON object per row (`workload`, `pyproc_us`, `native_us`, `ratio`, ...)
    /// instead of the table.
    #[arg(long)]
    json: bool,
}

const ALL: &[usize] = &[1, 64, 384];

fn main() {
    let args = Args::parse();
    let started = Instant::now();
    let engine = Engine::prepare().expect("the interpreter is installed and compiled (first run: minutes)");
    let format = if args.json { Format::Json } else { Format::Table };
    let mut bench = Bench::new(engine.clone(), Selection::only(args.only), Report::new(format));
    bench.note(&format!("engine ready in {:.0} ms (compiled interpreter loaded from the cache)\n", started.elapsed().as_secs_f64() * 1e3));

    if let Some(own) = &args.script {
        per_block::run(&mut bench, &engine, &own.file_name().unwrap_or_default().to_string_lossy(), own, ALL);
    }
    for (name, path, channels) in python_heavy() {
        per_block::run(&mut bench, &engine, name, &path, channels);
    }
    shards::run(&mut bench, &engine, "per-channel sosfilt loop (no state)", &script("per_channel_sosfilt.py"), 384, &[1, 2, 4]);
    cold::pass_through(&mut bench);
    cold::with_events(&mut bench);
    callbacks::events(&mut bench);
    callbacks::spikes(&mut bench);
    startup::instance_ready(&mut bench);
    memory::instances(&mut bench);
    parallel::threads(&mut bench);
    offline::run_vs_copy(&mut bench);
    plots::publish(&mut bench, &engine);
    plots::viewer(&mut bench, &engine);
    plots::with_viewer(&mut bench, &engine);
    // Last: compiling that variant (first run only) would inflate the memory figures.
    without_deadlines(&mut bench);
}

/// The per-block rows: pyproc's own cost (pass-through), numpy and scipy doing the work,
/// Python's loop doing it, and the per-channel loop lab scripts write.
fn python_heavy() -> Vec<(&'static str, PathBuf, &'static [usize])> {
    vec![
        ("pass-through", script("passthrough.py"), ALL),
        ("band-pass (examples/bandpass_filter.py)", example("bandpass_filter.py"), ALL),
        ("pure Python loop over 1024 samples", script("pure_python.py"), &[1]),
        ("per-channel sosfilt loop (no state)", script("per_channel_sosfilt.py"), &[384]),
        ("per-channel lfilter loop (no state)", script("per_channel_lfilter.py"), &[384]),
    ]
}

/// The per-block rows again from an interpreter compiled without deadline checks, to show
/// what deadlines cost. It is its own cached module (the first run compiles it, about
/// 90 s), so it is prepared only when one of its rows is wanted.
fn without_deadlines(bench: &mut Bench) {
    let rows: Vec<(String, PathBuf, &[usize])> =
        python_heavy().into_iter().map(|(name, path, channels)| (format!("{name}, no deadline"), path, channels)).collect();
    let wanted = rows.iter().any(|(name, _, channels)| channels.iter().any(|c| bench.wants(&format!("{name}, {c} ch"))));
    if !wanted {
        return;
    }
    let engine = Engine::builder().without_deadlines().prepare().expect("the interpreter without deadline checks compiles");
    for (name, path, channels) in &rows {
        per_block::run(bench, &engine, name, path, channels);
    }
}
