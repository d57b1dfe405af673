//! The command line: `scpool run ...`, `scpool bench ...`, help and version.
//!
//! Options take their value as the next argument or after `=` (`--cwd /w` or
//! `--cwd=/w`). For `run`, options end at `--` or at the first argument that is not
//! an option: that is PROGRAM, and everything after it belongs to the program.

use crate::error::CliError;
use crate::seconds::parse_seconds;
use crate::size::parse_size;
use scpool_core::{CgroupMode, SeccompPolicy};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// The environment a program gets when no `--env` is given.
pub const DEFAULT_ENV: &str = "PATH=/usr/local/bin:/usr/bin:/bin";
/// The working directory inside the container when no `--cwd` is given.
pub const DEFAULT_CWD: &str = "/w";
/// Runs of the execve and floor benchmarks when no `--runs` is given.
pub const DEFAULT_BENCH_RUNS: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help(HelpTopic),
    Version,
    /// Boxed: far larger than the other variants.
    Run(Box<RunOptions>),
    Bench(BenchOptions),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpTopic {
    Main,
    Run,
    Bench,
}

/// A host file copied into the container before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyIn {
    pub host: PathBuf,
    pub container: PathBuf,
}

/// A container file copied to the host after the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOut {
    pub container: PathBuf,
    pub host: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub json: bool,
    pub time_limit: Option<Duration>,
    pub wall_time_limit: Option<Duration>,
    pub memory_limit: Option<u64>,
    /// RLIMIT_AS of each process.
    pub address_space_limit: Option<u64>,
    pub output_limit: Option<u64>,
    pub process_limit: Option<u32>,
    /// CPU rate in cores (CFS quota).
    pub cpu_rate: Option<f64>,
    pub seccomp: SeccompPolicy,
    pub stdin: Option<PathBuf>,
    /// `K=V` entries; [`DEFAULT_ENV`] alone when none were given.
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub copy_in: Vec<CopyIn>,
    pub copy_out: Vec<CopyOut>,
    pub host_exec: bool,
    /// Whether the container gets a cgroup: auto, required or off.
    pub cgroup: CgroupMode,
    /// The cgroup to make the container's cgroup in (a hierarchy path).
    pub cgroup_parent: Option<PathBuf>,
    pub program: OsString,
    pub program_args: Vec<OsString>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    pub runs: usize,
    pub json: bool,
    /// A Python interpreter with the scpool module, to time runs through it too.
    pub python: Option<PathBuf>,
}

/// Parses the arguments after the program name.
pub fn parse<I>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = OsString>,
{
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Err(CliError::usage("missing command", "scpool"));
    };
    match first.to_str() {
        Some("run") => parse_run(args),
        Some("bench") => parse_bench(args),
        Some("-h" | "--help") => Ok(Command::Help(HelpTopic::Main)),
        Some("help") => match args.next().as_deref().and_then(OsStr::to_str) {
            None => Ok(Command::Help(HelpTopic::Main)),
            Some("run") => Ok(Command::Help(HelpTopic::Run)),
            Some("bench") => Ok(Command::Help(HelpTopic::Bench)),
            Some(other) => Err(CliError::usage(
                format!("no help on '{other}': commands are run and bench"),
                "scpool",
            )),
        },
        Some("-V" | "--version") => Ok(Command::Version),
        _ => Err(CliError::usage(
            format!("unknown command {first:?}: expected run or bench"),
            "scpool",
        )),
    }
}

/// One command-line option: its name (without the leading dashes) and a value given
/// inline after `=`.
struct OptionArg {
    name: String,
    inline_value: Option<OsString>,
}

impl OptionArg {
    /// Splits `--name[=value]` or `-h`; `None` when `arg` is not an option.
    fn split(arg: &OsStr) -> Option<Result<Self, String>> {
        let bytes = arg.as_bytes();
        if bytes == b"-h" {
            return Some(Ok(Self {
                name: "help".into(),
                inline_value: None,
            }));
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            return None;
        }
        let Some(body) = bytes.strip_prefix(b"--") else {
            return Some(Err(format!("unknown option {arg:?}")));
        };
        let (name, inline_value) = match body.iter().position(|&b| b == b'=') {
            Some(eq) => (&body[..eq], Some(OsStr::from_bytes(&body[eq + 1..]).into())),
            None => (body, None),
        };
        Some(match std::str::from_utf8(name) {
            Ok(name) => Ok(Self {
                name: name.to_owned(),
                inline_value,
            }),
            Err(_) => Err(format!("unknown option {arg:?}")),
        })
    }

    /// The option's value: inline, or else the next argument.
    fn value(
        self,
        rest: &mut impl Iterator<Item = OsString>,
        help: &'static str,
    ) -> Result<OsString, CliError> {
        match self.inline_value.or_else(|| rest.next()) {
            Some(value) => Ok(value),
            None => Err(CliError::usage(
                format!("option --{} needs a value", self.name),
                help,
            )),
        }
    }

    /// The option's value, which must be text (numbers, sizes).
    fn text_value(
        self,
        rest: &mut impl Iterator<Item = OsString>,
        help: &'static str,
    ) -> Result<String, CliError> {
        let name = self.name.clone();
        self.value(rest, help)?
            .into_string()
            .map_err(|value| CliError::usage(format!("invalid value {value:?} for --{name}"), help))
    }

    fn no_value(&self, help: &'static str) -> Result<(), CliError> {
        match self.inline_value {
            None => Ok(()),
            Some(_) => Err(CliError::usage(
                format!("option --{} takes no value", self.name),
                help,
            )),
        }
    }
}

/// Stores an option that may be given once.
fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    name: &str,
    help: &'static str,
) -> Result<(), CliError> {
    if slot.is_some() {
        return Err(CliError::usage(
            format!("option --{name} given more than once"),
            help,
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses a value with `parse`, prefixing its error with the option name.
fn parsed<T>(
    name: &str,
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
    help: &'static str,
) -> Result<T, CliError> {
    parse(text).map_err(|why| CliError::usage(format!("--{name}: {why}"), help))
}

fn positive_count<T: std::str::FromStr + Default + PartialEq>(text: &str) -> Result<T, String> {
    match text.parse::<T>() {
        Ok(n) if n != T::default() => Ok(n),
        Ok(_) => Err("must be at least 1".into()),
        Err(_) => Err(format!("invalid number '{text}'")),
    }
}

fn positive_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("must be positive".into()),
        bytes => Ok(bytes),
    }
}

/// A path inside the container: absolute (the library checks the rest).
fn container_path(path: &[u8], what: &str, help: &'static str) -> Result<PathBuf, CliError> {
    if !path.starts_with(b"/") {
        return Err(CliError::usage(
            format!(
                "{what} must be an absolute path inside the container, got {:?}",
                OsStr::from_bytes(path)
            ),
            help,
        ));
    }
    Ok(PathBuf::from(OsStr::from_bytes(path)))
}

fn host_path(path: &[u8], what: &str, help: &'static str) -> Result<PathBuf, CliError> {
    if path.is_empty() {
        return Err(CliError::usage(format!("{what} is empty"), help));
    }
    Ok(PathBuf::from(OsStr::from_bytes(path)))
}

/// `HOST:PATH`, split at the last ':' (container paths have no ':').
fn parse_copy_in(spec: &OsStr, help: &'static str) -> Result<CopyIn, CliError> {
    let bytes = spec.as_bytes();
    let Some(colon) = bytes.iter().rposition(|&b| b == b':') else {
        return Err(CliError::usage(
            format!("--copy-in expects HOST:PATH, got {spec:?}"),
            help,
        ));
    };
    Ok(CopyIn {
        host: host_path(&bytes[..colon], "--copy-in host path", help)?,
        container: container_path(&bytes[colon + 1..], "--copy-in PATH", help)?,
    })
}

/// `PATH:HOST`, split at the first ':' (container paths have no ':').
fn parse_copy_out(spec: &OsStr, help: &'static str) -> Result<CopyOut, CliError> {
    let bytes = spec.as_bytes();
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return Err(CliError::usage(
            format!("--copy-out expects PATH:HOST, got {spec:?}"),
            help,
        ));
    };
    Ok(CopyOut {
        container: container_path(&bytes[..colon], "--copy-out PATH", help)?,
        host: host_path(&bytes[colon + 1..], "--copy-out host path", help)?,
    })
}

/// `K=V` with a non-empty K.
fn parse_env(entry: OsString, help: &'static str) -> Result<OsString, CliError> {
    match entry.as_bytes().iter().position(|&b| b == b'=') {
        Some(eq) if eq > 0 => Ok(entry),
        _ => Err(CliError::usage(
            format!("--env expects K=V, got {entry:?}"),
            help,
        )),
    }
}

fn parse_run(mut args: impl Iterator<Item = OsString>) -> Result<Command, CliError> {
    const HELP: &str = "scpool run";
    let mut json = false;
    let mut host_exec = false;
    let mut time_limit = None;
    let mut wall_time_limit = None;
    let mut memory_limit = None;
    let mut address_space_limit = None;
    let mut output_limit = None;
    let mut process_limit = None;
    let mut cpu_rate = None;
    let mut seccomp = None;
    let mut stdin = None;
    let mut cwd = None;
    let mut env = Vec::new();
    let mut copy_in = Vec::new();
    let mut copy_out = Vec::new();
    let mut cgroup = None;
    let mut cgroup_parent = None;

    let program = loop {
        let Some(arg) = args.next() else {
            return Err(CliError::usage("missing PROGRAM", HELP));
        };
        if arg == "--" {
            match args.next() {
                Some(program) => break program,
                None => return Err(CliError::usage("missing PROGRAM after --", HELP)),
            }
        }
        let option = match OptionArg::split(&arg) {
            None => break arg,
            Some(Ok(option)) => option,
            Some(Err(why)) => return Err(CliError::usage(why, HELP)),
        };
        let name = option.name.clone();
        match name.as_str() {
            "help" => {
                option.no_value(HELP)?;
                return Ok(Command::Help(HelpTopic::Run));
            }
            "json" => {
                option.no_value(HELP)?;
                json = true;
            }
            "host-exec" => {
                option.no_value(HELP)?;
                host_exec = true;
            }
            "time-limit" | "wall-time-limit" => {
                let text = option.text_value(&mut args, HELP)?;
                let seconds = parsed(&name, &text, parse_seconds, HELP)?;
                let slot = if name == "time-limit" {
                    &mut time_limit
                } else {
                    &mut wall_time_limit
                };
                set_once(slot, seconds, &name, HELP)?;
            }
            "memory-limit" => {
                let text = option.text_value(&mut args, HELP)?;
                let bytes = parsed(&name, &text, positive_size, HELP)?;
                set_once(&mut memory_limit, bytes, &name, HELP)?;
            }
            "address-space-limit" => {
                let text = option.text_value(&mut args, HELP)?;
                let bytes = parsed(&name, &text, positive_size, HELP)?;
                set_once(&mut address_space_limit, bytes, &name, HELP)?;
            }
            "output-limit" => {
                let text = option.text_value(&mut args, HELP)?;
                let bytes = parsed(&name, &text, parse_size, HELP)?;
                set_once(&mut output_limit, bytes, &name, HELP)?;
            }
            "process-limit" => {
                let text = option.text_value(&mut args, HELP)?;
                let count = parsed(&name, &text, positive_count::<u32>, HELP)?;
                set_once(&mut process_limit, count, &name, HELP)?;
            }
            "cpu-rate" => {
                let text = option.text_value(&mut args, HELP)?;
                let cores = parsed(&name, &text, parse_cores, HELP)?;
                set_once(&mut cpu_rate, cores, &name, HELP)?;
            }
            "seccomp" => {
                let text = option.text_value(&mut args, HELP)?;
                let choice = parsed(&name, &text, parse_seccomp, HELP)?;
                set_once(&mut seccomp, choice, &name, HELP)?;
            }
            "stdin" => {
                let path = option.value(&mut args, HELP)?;
                let path = host_path(path.as_bytes(), "--stdin", HELP)?;
                set_once(&mut stdin, path, &name, HELP)?;
            }
            "cwd" => {
                let dir = option.value(&mut args, HELP)?;
                let dir = container_path(dir.as_bytes(), "--cwd", HELP)?;
                set_once(&mut cwd, dir, &name, HELP)?;
            }
            "cgroup" => {
                let text = option.text_value(&mut args, HELP)?;
                let mode = parsed(&name, &text, parse_cgroup_mode, HELP)?;
                set_once(&mut cgroup, mode, &name, HELP)?;
            }
            "cgroup-parent" => {
                let path = PathBuf::from(option.value(&mut args, HELP)?);
                if !path.is_absolute() {
                    return Err(CliError::usage(
                        format!(
                            "--cgroup-parent must be a cgroup path such as /judge, got {path:?}"
                        ),
                        HELP,
                    ));
                }
                set_once(&mut cgroup_parent, path, &name, HELP)?;
            }
            "env" => env.push(parse_env(option.value(&mut args, HELP)?, HELP)?),
            "copy-in" => copy_in.push(parse_copy_in(&option.value(&mut args, HELP)?, HELP)?),
            "copy-out" => copy_out.push(parse_copy_out(&option.value(&mut args, HELP)?, HELP)?),
            _ => return Err(CliError::usage(format!("unknown option {arg:?}"), HELP)),
        }
    };
    if program.is_empty() {
        return Err(CliError::usage("PROGRAM is empty", HELP));
    }
    if env.is_empty() {
        env.push(OsString::from(DEFAULT_ENV));
    }
    Ok(Command::Run(Box::new(RunOptions {
        json,
        time_limit,
        wall_time_limit,
        memory_limit,
        address_space_limit,
        output_limit,
        process_limit,
        cpu_rate,
        seccomp: seccomp.unwrap_or_default(),
        stdin,
        env,
        cwd: cwd.unwrap_or_else(|| PathBuf::from(DEFAULT_CWD)),
        copy_in,
        copy_out,
        host_exec,
        cgroup: cgroup.unwrap_or_default(),
        cgroup_parent,
        program,
        program_args: args.collect(),
    })))
}

/// Whether the container gets a cgroup.
fn parse_cgroup_mode(text: &str) -> Result<CgroupMode, String> {
    match text {
        "auto" => Ok(CgroupMode::Auto),
        "required" => Ok(CgroupMode::Required),
        "off" => Ok(CgroupMode::Off),
        _ => Err("expected auto, required or off".into()),
    }
}

/// A CPU rate in cores: a positive decimal such as 0.5 or 2.
fn parse_cores(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(cores) if cores.is_finite() && cores >= 0.01 => Ok(cores),
        Ok(_) => Err("must be at least 0.01 cores".into()),
        Err(_) => Err("invalid number".into()),
    }
}

/// The built-in policies by their shared names (a custom program has no name).
fn parse_seccomp(text: &str) -> Result<SeccompPolicy, String> {
    SeccompPolicy::from_name(text).ok_or_else(|| format!("expected {}", SeccompPolicy::NAMES))
}

fn parse_bench(mut args: impl Iterator<Item = OsString>) -> Result<Command, CliError> {
    const HELP: &str = "scpool bench";
    let mut runs = None;
    let mut json = false;
    let mut python = None;
    while let Some(arg) = args.next() {
        let option = match OptionArg::split(&arg) {
            Some(Ok(option)) => option,
            Some(Err(why)) => return Err(CliError::usage(why, HELP)),
            None => {
                return Err(CliError::usage(
                    format!("unexpected argument {arg:?}"),
                    HELP,
                ))
            }
        };
        let name = option.name.clone();
        match name.as_str() {
            "help" => {
                option.no_value(HELP)?;
                return Ok(Command::Help(HelpTopic::Bench));
            }
            "json" => {
                option.no_value(HELP)?;
                json = true;
            }
            "runs" => {
                let text = option.text_value(&mut args, HELP)?;
                let count = parsed(&name, &text, positive_count::<usize>, HELP)?;
                set_once(&mut runs, count, &name, HELP)?;
            }
            "python" => {
                let path = PathBuf::from(option.value(&mut args, HELP)?);
                set_once(&mut python, path, &name, HELP)?;
            }
            _ => return Err(CliError::usage(format!("unknown option {arg:?}"), HELP)),
        }
    }
    Ok(Command::Bench(BenchOptions {
        runs: runs.unwrap_or(DEFAULT_BENCH_RUNS),
        json,
        python,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EXIT_USAGE;
    use std::os::unix::ffi::OsStringExt;

    fn parse_words(words: &[&str]) -> Result<Command, CliError> {
        parse(words.iter().map(OsString::from))
    }

    fn run_options(words: &[&str]) -> RunOptions {
        match parse_words(words) {
            Ok(Command::Run(options)) => *options,
            other => panic!("{words:?} parsed as {other:?}"),
        }
    }

    fn usage_error(words: &[&str]) -> String {
        match parse_words(words) {
            Err(e) => {
                assert_eq!(e.exit_code, EXIT_USAGE, "{words:?}");
                e.message
            }
            Ok(other) => panic!("{words:?} parsed as {other:?}"),
        }
    }

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn top_level_commands() {
        assert_eq!(parse_words(&["--help"]), Ok(Command::Help(HelpTopic::Main)));
        assert_eq!(parse_words(&["-h"]), Ok(Command::Help(HelpTopic::Main)));
        assert_eq!(parse_words(&["help"]), Ok(Command::Help(HelpTopic::Main)));
        assert_eq!(
            parse_words(&["help", "run"]),
            Ok(Command::Help(HelpTopic::Run))
        );
        assert_eq!(
            parse_words(&["help", "bench"]),
            Ok(Command::Help(HelpTopic::Bench))
        );
        assert_eq!(parse_words(&["--version"]), Ok(Command::Version));
        assert_eq!(parse_words(&["-V"]), Ok(Command::Version));
        assert!(usage_error(&[]).contains("missing command"));
        assert!(usage_error(&["frobnicate"]).contains("unknown command"));
        assert!(usage_error(&["help", "x"]).contains("no help"));
    }

    #[test]
    fn run_defaults() {
        let options = run_options(&["run", "--", "echo", "hi"]);
        assert_eq!(
            options,
            RunOptions {
                json: false,
                time_limit: None,
                wall_time_limit: None,
                memory_limit: None,
                address_space_limit: None,
                output_limit: None,
                process_limit: None,
                cpu_rate: None,
                seccomp: SeccompPolicy::Default,
                stdin: None,
                env: os(&[DEFAULT_ENV]),
                cwd: PathBuf::from("/w"),
                copy_in: vec![],
                copy_out: vec![],
                host_exec: false,
                cgroup: CgroupMode::Auto,
                cgroup_parent: None,
                program: "echo".into(),
                program_args: os(&["hi"]),
            }
        );
    }

    #[test]
    fn cpu_rate_and_seccomp() {
        let options = run_options(&["run", "--cpu-rate", "0.5", "--seccomp=strict", "x"]);
        assert_eq!(options.cpu_rate, Some(0.5));
        assert_eq!(options.seccomp, SeccompPolicy::Strict);
        let options = run_options(&["run", "--seccomp", "single-program", "x"]);
        assert_eq!(options.seccomp, SeccompPolicy::SingleProgram);
        let options = run_options(&["run", "--seccomp=off", "x"]);
        assert_eq!(options.seccomp, SeccompPolicy::Disabled);
        for (args, expected) in [
            (&["run", "--cpu-rate", "0", "x"][..], "at least 0.01"),
            (&["run", "--cpu-rate", "fast", "x"][..], "invalid number"),
            (
                &["run", "--seccomp", "lax", "x"][..],
                "\"default\", \"strict\", \"single-program\" or \"disabled\"",
            ),
        ] {
            let err = parse(args.iter().map(OsString::from)).unwrap_err();
            assert!(err.to_string().contains(expected), "{args:?}: {err}");
        }
    }

    #[test]
    fn run_with_every_option() {
        let options = run_options(&[
            "run",
            "--json",
            "--time-limit",
            "1.5",
            "--wall-time-limit=0.5",
            "--memory-limit",
            "256M",
            "--output-limit=1K",
            "--address-space-limit",
            "1G",
            "--process-limit",
            "16",
            "--stdin",
            "in.txt",
            "--env",
            "A=1",
            "--env=B=x=y",
            "--env",
            "EMPTY=",
            "--cwd",
            "/tmp",
            "--copy-in",
            "/etc/host:name:/w/h",
            "--copy-in=a.c:/w/a.c",
            "--copy-out",
            "/w/out:/tmp/res:ult",
            "--host-exec",
            "--",
            "prog",
            "--json",
            "--",
            "-x",
        ]);
        assert!(options.json && options.host_exec);
        assert_eq!(options.time_limit, Some(Duration::from_millis(1500)));
        assert_eq!(options.wall_time_limit, Some(Duration::from_millis(500)));
        assert_eq!(options.memory_limit, Some(256 << 20));
        assert_eq!(options.output_limit, Some(1024));
        assert_eq!(options.address_space_limit, Some(1 << 30));
        assert_eq!(options.process_limit, Some(16));
        assert_eq!(options.stdin, Some(PathBuf::from("in.txt")));
        assert_eq!(options.env, os(&["A=1", "B=x=y", "EMPTY="]));
        assert_eq!(options.cwd, PathBuf::from("/tmp"));
        assert_eq!(
            options.copy_in,
            vec![
                CopyIn {
                    host: "/etc/host:name".into(),
                    container: "/w/h".into()
                },
                CopyIn {
                    host: "a.c".into(),
                    container: "/w/a.c".into()
                },
            ]
        );
        assert_eq!(
            options.copy_out,
            vec![CopyOut {
                container: "/w/out".into(),
                host: "/tmp/res:ult".into()
            }]
        );
        assert_eq!(options.program, "prog");
        assert_eq!(options.program_args, os(&["--json", "--", "-x"]));
    }

    #[test]
    fn cgroup_options() {
        let options = run_options(&["run", "x"]);
        assert_eq!(options.cgroup, CgroupMode::Auto);
        assert_eq!(options.cgroup_parent, None);
        let options = run_options(&["run", "--cgroup=required", "--cgroup-parent", "/judge", "x"]);
        assert_eq!(options.cgroup, CgroupMode::Required);
        assert_eq!(options.cgroup_parent, Some(PathBuf::from("/judge")));
        assert_eq!(
            run_options(&["run", "--cgroup", "off", "x"]).cgroup,
            CgroupMode::Off
        );
        assert!(usage_error(&["run", "--cgroup", "v2", "x"]).contains("auto, required or off"));
        assert!(usage_error(&["run", "--cgroup-parent", "judge", "x"]).contains("--cgroup-parent"));
        assert!(usage_error(&["run", "--cgroup=off", "--cgroup=auto", "x"]).contains("cgroup"));
    }

    #[test]
    fn program_without_double_dash_ends_the_options() {
        let options = run_options(&["run", "--json", "sh", "-c", "--json", "echo"]);
        assert!(options.json);
        assert_eq!(options.program, "sh");
        assert_eq!(options.program_args, os(&["-c", "--json", "echo"]));
    }

    #[test]
    fn run_help() {
        assert_eq!(
            parse_words(&["run", "--help"]),
            Ok(Command::Help(HelpTopic::Run))
        );
        assert_eq!(
            parse_words(&["run", "--json", "-h", "x"]),
            Ok(Command::Help(HelpTopic::Run))
        );
        // After PROGRAM, --help belongs to the program.
        let options = run_options(&["run", "ls", "--help"]);
        assert_eq!(options.program_args, os(&["--help"]));
    }

    #[test]
    fn run_usage_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&["run"], "missing PROGRAM"),
            (&["run", "--json"], "missing PROGRAM"),
            (&["run", "--"], "missing PROGRAM after --"),
            (&["run", "--", ""], "PROGRAM is empty"),
            (&["run", "--bogus", "x"], "unknown option"),
            (&["run", "-x", "prog"], "unknown option"),
            (&["run", "--json=yes", "x"], "takes no value"),
            (&["run", "--time-limit"], "needs a value"),
            (&["run", "--time-limit", "abc", "x"], "invalid time"),
            (&["run", "--time-limit", "-1", "x"], "invalid time"),
            (&["run", "--time-limit", "0", "x"], "positive"),
            (&["run", "--wall-time-limit", "1s", "x"], "invalid time"),
            (
                &["run", "--time-limit", "1", "--time-limit", "2", "x"],
                "more than once",
            ),
            (&["run", "--memory-limit", "lots", "x"], "invalid size"),
            (&["run", "--memory-limit", "0", "x"], "must be positive"),
            (&["run", "--output-limit", "1.5K", "x"], "invalid size"),
            (&["run", "--process-limit", "0", "x"], "at least 1"),
            (&["run", "--process-limit", "-3", "x"], "invalid number"),
            (&["run", "--process-limit", "ten", "x"], "invalid number"),
            (&["run", "--env", "NOEQUALS", "x"], "K=V"),
            (&["run", "--env", "=v", "x"], "K=V"),
            (&["run", "--cwd", "w", "x"], "absolute"),
            (&["run", "--copy-in", "nocolon", "x"], "HOST:PATH"),
            (&["run", "--copy-in", "a:w/a", "x"], "absolute"),
            (&["run", "--copy-in", ":/w/a", "x"], "empty"),
            (&["run", "--copy-out", "/w/a", "x"], "PATH:HOST"),
            (&["run", "--copy-out", "w/a:b", "x"], "absolute"),
            (&["run", "--copy-out", "/w/a:", "x"], "empty"),
            (&["run", "--stdin", "", "x"], "empty"),
        ];
        for (words, expected) in cases {
            let message = usage_error(words);
            assert!(
                message.contains(expected),
                "{words:?}: {message:?} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn option_names_are_reported_with_value_errors() {
        let message = usage_error(&["run", "--memory-limit=12Q", "x"]);
        assert!(
            message.starts_with("--memory-limit: invalid size"),
            "{message}"
        );
    }

    #[test]
    fn non_utf8_arguments_pass_through() {
        let weird = OsString::from_vec(b"caf\xe9".to_vec());
        let args = vec![
            OsString::from("run"),
            OsString::from("--env"),
            OsString::from_vec(b"X=\xff".to_vec()),
            weird.clone(),
            weird.clone(),
        ];
        match parse(args) {
            Ok(Command::Run(options)) => {
                assert_eq!(options.program, weird);
                assert_eq!(options.program_args, vec![weird]);
                assert_eq!(options.env, vec![OsString::from_vec(b"X=\xff".to_vec())]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bench_options() {
        assert_eq!(
            parse_words(&["bench"]),
            Ok(Command::Bench(BenchOptions {
                runs: DEFAULT_BENCH_RUNS,
                json: false,
                python: None
            }))
        );
        assert_eq!(
            parse_words(&["bench", "--runs", "300", "--json"]),
            Ok(Command::Bench(BenchOptions {
                runs: 300,
                json: true,
                python: None
            }))
        );
        assert_eq!(
            parse_words(&["bench", "--runs=5"]),
            Ok(Command::Bench(BenchOptions {
                runs: 5,
                json: false,
                python: None
            }))
        );
        assert_eq!(
            parse_words(&["bench", "--help"]),
            Ok(Command::Help(HelpTopic::Bench))
        );
        assert!(usage_error(&["bench", "--runs", "0"]).contains("at least 1"));
        assert!(usage_error(&["bench", "--runs", "many"]).contains("invalid number"));
        assert!(usage_error(&["bench", "--runs"]).contains("needs a value"));
        assert!(usage_error(&["bench", "extra"]).contains("unexpected argument"));
        assert!(usage_error(&["bench", "--fast"]).contains("unknown option"));
        assert_eq!(
            parse_words(&["bench", "--python", "/usr/bin/python3"]),
            Ok(Command::Bench(BenchOptions {
                runs: DEFAULT_BENCH_RUNS,
                json: false,
                python: Some(PathBuf::from("/usr/bin/python3"))
            }))
        );
        assert!(usage_error(&["bench", "--python"]).contains("needs a value"));
    }
}
