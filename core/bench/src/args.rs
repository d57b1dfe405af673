//! `scpool bench`: its options.

use clap::Parser;
use std::path::PathBuf;

/// Runs of the execve and floor benchmarks when no `--runs` is given.
pub const DEFAULT_BENCH_RUNS: usize = 1000;

/// Measure what a run costs, in one process on this machine.
///
/// Compiles a static no-op program (int main(void){return 0;}) with 'cc -static'
/// into a fresh temporary directory (removed afterwards), then times, after a
/// warm-up of each:
///   floor      fork+exec+wait of the no-op on the host, no sandbox (N runs)
///   execve     the no-op in an existing container (N runs)
///   pooled     acquire + execve + release from a pool of 2 (N runs)
///   pooled-c   the same through the C ABI, alternating run for run with pooled
///   pooled-py  the same through the Python module (with --python)
///   acquire    the acquire alone
///   fresh      create a container + execve + destroy (N/10 runs, at least 20)
///   create     create + destroy
///   bwrap      the no-op under bwrap --unshare-all, when bwrap is installed
///   throughput pooled runs per second with 1 thread and with one per core
/// and an idle container's memory. Reports medians and 99th percentiles in
/// microseconds, and the ratios pooled/floor, pooled-c/pooled, fresh/pooled.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "scpool bench", version, verbatim_doc_comment)]
pub struct BenchArgs {
    /// Runs of each measurement
    #[arg(long, allow_hyphen_values = true, value_name = "N", default_value_t = DEFAULT_BENCH_RUNS,
          value_parser = at_least_one)]
    pub runs: usize,
    /// Print one JSON object as the last line of stdout: NAME_us and NAME_p99_us
    /// for each measurement, runs_per_sec, pooled_per_floor, pooled_c_per_pooled,
    /// fresh_per_pooled, idle_anon_kib, runs, create_runs
    #[arg(long)]
    pub json: bool,
    /// Also time runs through PYTHON -m scpool.bench (the interpreter needs the
    /// scpool module installed)
    #[arg(long, allow_hyphen_values = true, value_name = "PYTHON")]
    pub python: Option<PathBuf>,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid number '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn bench(words: &[&str]) -> Result<BenchArgs, clap::Error> {
        BenchArgs::try_parse_from(std::iter::once("scpool-bench").chain(words.iter().copied()))
    }

    #[test]
    fn definitions_are_consistent() {
        BenchArgs::command().debug_assert();
    }

    fn error(words: &[&str]) -> (ErrorKind, String) {
        let e = bench(words).unwrap_err();
        (e.kind(), e.to_string())
    }

    #[test]
    fn defaults_and_values() {
        let expect = |runs, json, python: Option<&str>| BenchArgs {
            runs,
            json,
            python: python.map(PathBuf::from),
        };
        assert_eq!(bench(&[]).unwrap(), expect(DEFAULT_BENCH_RUNS, false, None));
        assert_eq!(
            bench(&["--runs", "300", "--json"]).unwrap(),
            expect(300, true, None)
        );
        assert_eq!(bench(&["--runs=5"]).unwrap(), expect(5, false, None));
        assert_eq!(
            bench(&["--python", "/usr/bin/python3"]).unwrap(),
            expect(DEFAULT_BENCH_RUNS, false, Some("/usr/bin/python3"))
        );
    }

    #[test]
    fn bad_command_lines() {
        assert_eq!(
            bench(&["--help"]).unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
        let (kind, text) = error(&["--runs", "0"]);
        assert!(kind == ErrorKind::ValueValidation && text.contains("at least 1"));
        assert!(error(&["--runs", "many"]).1.contains("invalid number"));
        assert_eq!(error(&["--runs"]).0, ErrorKind::InvalidValue);
        assert_eq!(error(&["extra"]).0, ErrorKind::UnknownArgument);
        assert_eq!(error(&["--fast"]).0, ErrorKind::UnknownArgument);
        assert_eq!(error(&["--python"]).0, ErrorKind::InvalidValue);
        assert_eq!(
            error(&["--runs", "1", "--runs", "2"]).0,
            ErrorKind::ArgumentConflict
        );
    }
}
