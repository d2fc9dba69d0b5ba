//! `pyproc`: run Open Ephys PyProcessor scripts in a WebAssembly sandbox, offline.
//!
//! Thin glue over `pyproc-host` (scripts) and `pyproc-oebin` (recordings): argument
//! parsing, progress, the report, the figures of `--plots` ([`plots`]) and the page of
//! `--live` ([`live`]) live here. The `pyproc` binary is [`main_from_args`];
//! the Python package (`python/`) runs the same command through [`exit_status_from_args`],
//! and calls [`run::run`] (with its [`report`]), [`synthetic`] and [`synthetic_input`] for
//! `pyproc.run` and `pyproc.testing`.

mod check;
mod compare;
mod grant_args;
mod input;
pub mod live;
mod new_script;
mod output;
mod progress;
pub mod report;
pub mod plots;
pub mod run;
mod setup_view;
mod spike_cut;
pub mod synthetic;
mod synthetic_recording;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use grant_args::GrantArgs;
use pyproc_host::Engine;

#[derive(Parser)]
#[command(name = "pyproc", version, about = "Run Open Ephys PyProcessor scripts in an isolated WebAssembly Python")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run SCRIPT over a recording (or the synthetic stream) and print a report.
    Run(RunArgs),
    /// Run SCRIPT in pyproc and, side by side, in a native CPython called as the original
    /// Open Ephys plugin calls it, and report what differs (exit status 0: the same).
    ///
    /// The native side is your own Python (--python, default python3 on PATH) running your
    /// script unsandboxed, with your permissions: compare only scripts you trust.
    Compare(CompareArgs),
    /// Import SCRIPT and construct its PyProcessor without data; report any problem.
    Check {
        script: PathBuf,
        #[arg(long, default_value_t = 64)]
        channels: usize,
        #[arg(long, default_value_t = 30_000.0)]
        sample_rate: f64,
        #[command(flatten)]
        grants: GrantArgs,
    },
    /// Write NAME.py, a new processor script from the template.
    New { name: PathBuf },
    /// Fetch, verify and compile the pinned interpreter now (it happens on first use anyway).
    Setup {
        /// Remove the cached interpreter and compiled modules first.
        #[arg(long)]
        force: bool,
    },
}

/// Where the data comes from: a recording, or the synthetic stream.
#[derive(Args)]
struct InputArgs {
    /// An Open Ephys Binary recording: the recording folder, or an experiment / Record
    /// Node folder holding a single recording.
    #[arg(long, conflicts_with = "synthetic")]
    input: Option<PathBuf>,
    /// Use the built-in deterministic synthetic stream (the default without --input).
    #[arg(long)]
    synthetic: bool,
    /// The continuous stream to process, when the recording has several.
    #[arg(long)]
    stream: Option<String>,
    /// Samples per block handed to `process`.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    block_size: u32,
    /// Synthetic stream: channels.
    #[arg(long, default_value_t = 64)]
    channels: usize,
    /// Synthetic stream: samples per second.
    #[arg(long, default_value_t = 30_000.0)]
    sample_rate: f64,
    /// Synthetic stream: length in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Synthetic stream: seed (same seed, same samples).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Synthetic stream: also keep it as an Open Ephys Binary recording in this folder.
    #[arg(long, conflicts_with = "input")]
    save_input: Option<PathBuf>,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("viewer").args(["plots", "live"]).multiple(true)))]
struct RunArgs {
    /// A Python file that defines `class PyProcessor`.
    script: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Write the processed recording here (a new folder).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Seed of the script's random numbers (`random`, numpy, os.urandom): same seed, same
    /// output.
    #[arg(long, default_value_t = 0)]
    random_seed: u64,
    /// How long each callback may run (milliseconds) before pyproc stops it, passes the
    /// block through and restarts the script.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    deadline_ms: u64,
    /// Run the script as K interpreters in parallel, each over a contiguous group of the
    /// channels, if its PyProcessor declares `channel_independent = True` (default: as
    /// many as the machine has cores; never more than channels).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// Split the channels between shards even though the script does not declare
    /// `channel_independent = True`. Only for a script that never mixes channels: whether
    /// its output equals one interpreter's is then yours to check.
    #[arg(long)]
    assume_channel_independent: bool,
    /// Print the final report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Draw the script's `PyVisualizer` (in a second sandboxed interpreter, never on the
    /// block path) from what its PyProcessor publishes, and write each figure to DIR as
    /// frame-NNNNNN-sSAMPLE.png, plus final.png.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Figures drawn per second at most, with --plots or --live.
    #[arg(long, value_name = "HZ", default_value_t = 10.0, requires = "viewer", value_parser = positive_rate)]
    plot_rate: f64,
    /// Serve a page on 127.0.0.1 (its address is printed on stderr at the start) that shows
    /// the script's `PyVisualizer` figure as it is drawn, with the run's progress and
    /// per-block latency; with or without --plots. When the run is over the page shows
    /// the result: until Ctrl-C when stdin is a terminal, else see --live-linger.
    #[arg(long)]
    live: bool,
    /// The port of --live's page (default: a free one the system picks).
    #[arg(long, value_name = "PORT", requires = "live")]
    live_port: Option<u16>,
    /// Keep --live's page up this many seconds after the run, then exit (default: until
    /// Ctrl-C when stdin is a terminal, otherwise 0: exit at once).
    #[arg(long, value_name = "SECONDS", requires = "live", value_parser = linger_seconds)]
    live_linger: Option<f64>,
    #[command(flatten)]
    grants: GrantArgs,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(hz) if hz > 0.0 && hz.is_finite() => Ok(hz),
        _ => Err(format!("{text} is not a rate above 0 (figures per second)")),
    }
}

fn linger_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s >= 0.0 && s.is_finite() => Ok(s),
        _ => Err(format!("{text} is not a number of seconds (0 or more)")),
    }
}

/// `pyproc compare`'s arguments.
#[derive(Args)]
struct CompareArgs {
    /// A Python file that defines `class PyProcessor`.
    script: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// The native CPython to compare with (needs numpy and scipy). It runs your script
    /// unsandboxed, with your own permissions.
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Seed of the script's random numbers in pyproc (the native side is not seeded).
    #[arg(long, default_value_t = 0)]
    random_seed: u64,
    /// How long each callback may run in pyproc (milliseconds).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    deadline_ms: u64,
    #[command(flatten)]
    grants: GrantArgs,
}

/// The `pyproc` command: parses `args` (the program name first, as `std::env::args_os`
/// gives them), runs the subcommand and returns its exit status. `--help`, `--version` and
/// argument errors print and return as clap prints them.
///
/// ```no_run
/// let status = pyproc_cli::main_from_args(["pyproc", "run", "examples/bandpass_filter.py", "--seconds", "1"]);
/// ```
pub fn main_from_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    ExitCode::from(exit_status_from_args(args))
}

/// [`main_from_args`], with the exit status as a number (0 ok, 1 setup error, 2 a callback
/// failed or a check found a problem, 130 interrupted): for a caller that passes it on
/// itself, such as the Python package's `pyproc` command.
pub fn exit_status_from_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // A second call in one process (the Python package) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PYPROC_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return u8::try_from(err.exit_code()).unwrap_or(2);
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pyproc: error: {err:#}");
            1
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Setup { force } => {
            let mut builder = Engine::builder().progress(setup_view::setup_progress());
            if force {
                builder = builder.afresh();
            }
            let engine = builder.prepare()?;
            println!("interpreter ready in {}", engine.interpreter_dir().display());
            Ok(0)
        }
        Command::New { name } => {
            let path = new_script::new_script(&name)?;
            println!("wrote {}; try it with: pyproc run {}", path.display(), path.display());
            Ok(0)
        }
        Command::Check { script, channels, sample_rate, grants } => {
            let checked = check::check(&engine()?, &script, channels, sample_rate, grants.grants()?)?;
            let mut denied = String::new();
            if !checked.denials.is_empty() {
                report::write_denials(&mut denied, &checked.denials)?;
            }
            if checked.problems.is_empty() {
                println!("{}: ok (imports, constructs for {channels} channels at {sample_rate} Hz, callbacks take pyproc's arguments)", script.display());
                if checked.channel_independent {
                    println!("channel_independent = True: `pyproc run` splits the channels between {} interpreters (--shards K to choose)", pyproc_host::default_shards().min(channels));
                }
                print!("{denied}");
                return Ok(0);
            }
            for problem in &checked.problems {
                println!("{problem}");
            }
            print!("{denied}");
            Ok(2)
        }
        Command::Run(args) => run(args),
        Command::Compare(args) => compare(args),
    }
}

fn run(args: RunArgs) -> anyhow::Result<u8> {
    let interrupted = Arc::new(AtomicBool::new(false));
    // Set once the run is over and only the live page is still up.
    let lingering = Arc::new(AtomicBool::new(false));
    {
        let (flag, lingering) = (interrupted.clone(), lingering.clone());
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::Relaxed) {
                std::process::exit(130); // a second Ctrl-C: stop now
            }
            if lingering.load(Ordering::Relaxed) {
                eprintln!("\npyproc: closing the live page");
            } else {
                eprintln!("\npyproc: stopping after this block (Ctrl-C again to abort at once)");
            }
        })
        .context("installing the Ctrl-C handler")?;
    }
    let (input, _scratch) = recording(&args.input)?;
    let live = if args.live {
        let server = live::LiveServer::start(args.live_port.unwrap_or(0))?;
        eprintln!("pyproc: live page at {}", server.url());
        Some(server)
    } else {
        None
    };
    let plots = match (args.plots, &live) {
        (None, None) => None,
        (dir, live) => Some(plots::PlotOptions { dir, rate_hz: args.plot_rate, live: live.as_ref().map(live::LiveServer::feed) }),
    };
    let options = run::RunOptions {
        script: args.script.clone(),
        input,
        stream: args.input.stream,
        block_size: args.input.block_size as usize,
        output: args.output,
        random_seed: args.random_seed,
        deadline: std::time::Duration::from_millis(args.deadline_ms),
        grants: args.grants.grants()?,
        shards: args.shards.map(|k| k as usize),
        assume_channel_independent: args.assume_channel_independent,
        progress: None,
        plots,
    };
    let report = run::run(engine, options, interrupted.clone())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        println!("pyproc run {}\n{report}", args.script.display());
    }
    if let Some(server) = live {
        let linger = match args.live_linger {
            Some(seconds) => live::Linger::For(std::time::Duration::from_secs_f64(seconds)),
            None if std::io::IsTerminal::is_terminal(&std::io::stdin()) => live::Linger::UntilInterrupted,
            None => live::Linger::For(std::time::Duration::ZERO),
        };
        match linger {
            live::Linger::UntilInterrupted => eprintln!("pyproc: the run is over; {} shows it until Ctrl-C", server.url()),
            live::Linger::For(d) if !d.is_zero() => eprintln!("pyproc: the run is over; {} shows it for {:.0} s more (Ctrl-C to stop sooner)", server.url(), d.as_secs_f64()),
            live::Linger::For(_) => {}
        }
        // A Ctrl-C that stopped the run does not also close the page at once.
        interrupted.store(false, Ordering::Relaxed);
        lingering.store(true, Ordering::Relaxed);
        server.linger(linger, &interrupted);
        server.stop();
    }
    Ok(report.exit_status())
}

fn compare(args: CompareArgs) -> anyhow::Result<u8> {
    let (input, _scratch) = recording(&args.input)?;
    let options = compare::CompareOptions {
        script: args.script.clone(),
        input,
        stream: args.input.stream,
        block_size: args.input.block_size as usize,
        python: args.python.unwrap_or_else(compare::default_python),
        random_seed: args.random_seed,
        deadline: std::time::Duration::from_millis(args.deadline_ms),
        grants: args.grants.grants()?,
    };
    let comparison = compare::compare(engine, options)?;
    println!("pyproc compare {}\n{comparison}", args.script.display());
    Ok(if comparison.agree() { 0 } else { 2 })
}

/// The recording the input arguments name; the synthetic stream becomes a real recording
/// first (one pipeline for both), kept in the returned temporary folder unless
/// `--save-input` names one.
fn recording(args: &InputArgs) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(input) = &args.input {
        return Ok((input.clone(), None));
    }
    let settings = synthetic::Settings {
        channels: args.channels,
        sample_rate: args.sample_rate,
        seconds: args.seconds,
        block_size: args.block_size as usize,
        seed: args.seed,
    };
    synthetic_input(settings, args.save_input.as_deref(), true)
}

/// The synthetic stream for `settings` written as a recording: into `save` when given,
/// else into a temporary folder that lives as long as the returned `TempDir`. Returns the
/// recording folder. `bar`: the CLI's progress bar on a terminal.
pub fn synthetic_input(settings: synthetic::Settings, save: Option<&Path>, bar: bool) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    anyhow::ensure!(settings.channels > 0 && settings.seconds > 0.0 && settings.sample_rate > 0.0, "the synthetic stream needs channels, seconds and a sample rate above 0");
    let mut scratch = None;
    let destination = match save {
        Some(dir) => dir.to_path_buf(),
        None => scratch.insert(tempfile::Builder::new().prefix("pyproc-synthetic-").tempdir()?).path().join("synthetic"),
    };
    let total = (settings.seconds * settings.sample_rate).round() as u64;
    let bar = if bar { progress::samples_bar(total, settings.sample_rate, "generating the synthetic recording  ") } else { indicatif::ProgressBar::hidden() };
    let written = synthetic_recording::write(settings, &destination, &bar)?;
    bar.finish_and_clear();
    Ok((written, scratch))
}

/// The CLI installs and compiles the interpreter on first use, with the steps on screen.
fn engine() -> anyhow::Result<Engine> {
    Ok(Engine::builder().progress(setup_view::setup_progress()).prepare()?)
}
