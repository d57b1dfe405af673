//! `scpool`: run a program in a sandbox container, or benchmark what a run costs.

mod args;
mod bench;
mod bench_cli;
mod bench_ffi;
mod bench_python;
mod bench_scale;
mod copy;
mod error;
mod interrupt;
mod json;
mod noop;
mod program;
mod pump;
mod report;
mod run_cmd;
mod seconds;
mod size;
mod stats;
mod stdin;
mod usage;

use args::Command;
use error::{CliError, EXIT_RUNTIME};
use std::io::{self, Write};

fn main() {
    // First, before any thread exists: every thread must inherit the blocked signals.
    if let Err(e) = interrupt::install() {
        eprintln!("scpool: setting up signal handling: {e}");
        std::process::exit(i32::from(EXIT_RUNTIME));
    }
    let outcome = args::parse(std::env::args_os().skip(1)).and_then(dispatch);
    interrupt::exit(|| match outcome {
        Ok(status) => status,
        Err(error) => {
            eprintln!("{error}");
            error.exit_code
        }
    })
}

/// Carries out a parsed command and returns the exit status.
fn dispatch(command: Command) -> Result<u8, CliError> {
    match command {
        Command::Help(topic) => print(usage::help_text(topic)),
        Command::Version => print(&format!("scpool {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Run(options) => run_cmd::run(&options),
        Command::Bench(options) => bench::run(&options).map(|()| 0),
    }
}

/// Writes to stdout; a closed stdout (`scpool --help | head -1`) is not worth a panic.
fn print(text: &str) -> Result<u8, CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(CliError::runtime(format!("writing to stdout: {e}"))),
    }
}
