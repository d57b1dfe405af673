//! `scpool-bench` (also run as `scpool bench`): what a run costs compared with a
//! plain fork+exec, measured in one process on this machine. A program of its own
//! so that the `scpool` command links neither the C ABI nor the measuring code.

mod args;
mod breakdown;
mod c_abi;
mod commands;
mod error;
mod json;
mod measure;
mod noop;
mod python;
mod scale;
mod stats;

use args::BenchArgs;
use clap::Parser;

fn main() {
    let options = BenchArgs::parse();
    if let Err(error) = measure::run(&options) {
        eprintln!("{error}");
        std::process::exit(1);
    }
}
