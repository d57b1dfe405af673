//! `scpool`: run a program in a sandbox container, or benchmark what a run costs
//! (through `scpool-bench`).

mod cli;
mod commands;
mod copy;
mod error;
mod interrupt;
mod json_out;
mod program;
mod pump;
mod report;
mod run_cmd;
mod seconds;
mod size;
mod stdin;

use cli::Command;
use error::{CliError, EXIT_RUNTIME};

fn main() {
    // First, before any thread exists: every thread must inherit the blocked signals.
    if let Err(e) = interrupt::install() {
        eprintln!("scpool: setting up signal handling: {e}");
        std::process::exit(i32::from(EXIT_RUNTIME));
    }
    let outcome = match cli::parse(std::env::args_os()) {
        Ok(command) => dispatch(command),
        // Help and --version too: clap prints them on stdout with status 0, usage
        // errors on stderr with status 2.
        Err(usage) => Ok(print_usage(&usage)),
    };
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
        Command::Run(options) => run_cmd::run(&options),
        Command::Bench(options) => Err(commands::bench::forward(&options)),
    }
}

/// Prints help, the version or a usage error; a closed stdout
/// (`scpool --help | head -1`) is not worth more than that.
fn print_usage(usage: &clap::Error) -> u8 {
    let _ = usage.print();
    u8::try_from(usage.exit_code()).unwrap_or(error::EXIT_USAGE)
}
