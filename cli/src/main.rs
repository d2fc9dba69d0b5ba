//! `pyproc`: run Open Ephys PyProcessor scripts in a WebAssembly sandbox, offline.
//!
//! Thin glue over `pyproc-host`: argument parsing, progress and the report live here; every
//! rule about scripts lives in the library.

mod report;
mod run;
mod setup_view;
mod synthetic;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pyproc_host::Engine;

#[derive(Parser)]
#[command(name = "pyproc", version, about = "Run Open Ephys PyProcessor scripts in an isolated WebAssembly Python")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run SCRIPT over a stream and print a summary.
    Run(RunArgs),
    /// Fetch, verify and compile the pinned interpreter now (it happens on first use anyway).
    Setup {
        /// Remove the cached interpreter and compiled modules first.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
struct RunArgs {
    /// A Python file that defines `class PyProcessor`.
    script: PathBuf,
    /// Use the built-in deterministic synthetic stream (the default for now).
    #[arg(long, default_value_t = true)]
    synthetic: bool,
    /// Channels of the synthetic stream.
    #[arg(long, default_value_t = 64)]
    channels: usize,
    /// Samples per second of the synthetic stream.
    #[arg(long, default_value_t = 30_000.0)]
    sample_rate: f64,
    /// Length of the synthetic stream in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seed of the synthetic stream: same seed, same samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Samples per block handed to `process`.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    block_size: u32,
    /// A folder the script may write to: it is passed to `start_recording`.
    #[arg(long)]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PYPROC_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    match dispatch(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pyproc: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Setup { force } => {
            let root = pyproc_host::interpreter::Interpreter::default_cache_root()?;
            if force {
                for dir in [pyproc_host::interpreter::Interpreter::install_dir(&root), root.join("compiled")] {
                    if dir.exists() {
                        std::fs::remove_dir_all(&dir)?;
                        eprintln!("pyproc: removed {}", dir.display());
                    }
                }
            }
            let engine = engine()?;
            println!("interpreter ready in {}", engine.interpreter().dir().display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => {
            let engine = engine()?;
            let synthetic = synthetic::Settings {
                channels: args.channels,
                sample_rate: args.sample_rate,
                seconds: args.seconds,
                block_size: args.block_size as usize,
                seed: args.seed,
            };
            anyhow::ensure!(args.synthetic, "only the synthetic stream is available in this version");
            let script = args.script.display().to_string();
            let report = run::run(&engine, run::RunOptions { script: args.script, synthetic, output: args.output })?;
            println!("pyproc run {script}: synthetic stream, seed {}\n{report}", args.seed);
            Ok(if report.error_count() == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
    }
}

fn engine() -> anyhow::Result<Engine> {
    Ok(Engine::builder().progress(setup_view::setup_progress()).build()?)
}
