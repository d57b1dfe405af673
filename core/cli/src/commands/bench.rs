//! `scpool bench`: handed over to `scpool-bench`, installed beside `scpool`, which
//! holds the measuring code and links the C ABI it times; `scpool` itself links
//! neither.

use crate::error::CliError;
use clap::Args;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Measure what a run costs (see 'scpool bench --help': the options are those of
/// scpool-bench, which this runs)
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[command(disable_help_flag = true)]
pub struct BenchArgs {
    /// The options of scpool-bench, passed on as they are
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// Replaces this process with `scpool-bench ARGS`; returns only if that fails.
pub fn forward(options: &BenchArgs) -> CliError {
    let bench = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("scpool-bench"),
        Err(e) => return CliError::runtime(format!("finding the scpool executable: {e}")),
    };
    // The bench takes SIGINT like any program: the mask `main` set for its signal
    // thread would otherwise pass through exec.
    if let Err(e) = crate::interrupt::blocked().thread_unblock() {
        return CliError::runtime(format!("unblocking signals: {e}"));
    }
    let error = Command::new(&bench).args(&options.args).exec();
    CliError::runtime(format!(
        "running {}: {error} (it is built by 'cargo build -p scpool-bench')",
        bench.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Command};

    fn bench(words: &[&str]) -> BenchArgs {
        let args = ["scpool", "bench"].into_iter().chain(words.iter().copied());
        match parse(args.map(OsString::from)).unwrap() {
            Command::Bench(options) => options,
            other => panic!("{words:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn every_word_is_passed_on() {
        let words = ["--runs", "5", "--json", "--help", "extra"];
        let expected: Vec<OsString> = words.iter().map(OsString::from).collect();
        assert_eq!(bench(&words).args, expected);
        assert!(bench(&[]).args.is_empty());
    }
}
