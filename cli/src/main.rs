//! The `pyproc` binary: everything is in the library, [`pyproc_cli::main_from_args`].

fn main() -> std::process::ExitCode {
    pyproc_cli::main_from_args(std::env::args_os())
}
