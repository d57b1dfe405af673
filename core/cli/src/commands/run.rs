//! `scpool run`: its options, and the checks of their values.

use crate::seconds::parse_seconds;
use crate::size::parse_size;
use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::Args;
use scpool_core::{CgroupMode, CpuSet, SeccompPolicy, DEFAULT_CWD};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// The environment a program gets when no `--env` is given.
pub const DEFAULT_ENV: &str = "PATH=/usr/local/bin:/usr/bin:/bin";

const AFTER_HELP: &str = "\
SIZE is a byte count with an optional suffix K, M, G or T (powers of 1024; also
KiB, MiB, GiB, TiB, any case): 65536, 512K, 256MiB. S is seconds, e.g. 2 or 0.5.
CPU time, memory and process limits need cgroup support; a build without it
refuses them (exit status 2) rather than ignoring them.

The container's /w and /tmp are empty, writable, in-memory directories. The
program never gets the terminal: its stdout and stderr go through pipes.

Without --json, the program's stdout and stderr pass through, and the exit
status is:
  N        the program exited with code N
  128+N    the program was killed by signal N (SIGNALLED)
  124      a limit was exceeded: TIME_LIMIT_EXCEEDED, WALL_TIME_LIMIT_EXCEEDED,
           MEMORY_LIMIT_EXCEEDED or OUTPUT_LIMIT_EXCEEDED
  125      the sandbox could not run the program (RUNNER_ERROR) or killed it
           for a disallowed system call (DISALLOWED_SYSCALL)
  1        scpool itself failed (container set-up, --copy-in, --copy-out...)
  2        usage error, or a limit this build cannot enforce
For statuses 124 and 125, scpool prints 'scpool: STATUS: why' on stderr.

With --json, stdout carries only the JSON object, on one line:
  {\"status\":\"OK\",\"exit_code\":0,\"signal\":null,\"cpu_time\":0.001,
   \"user_time\":0.0008,\"system_time\":0.0002,\"wall_time\":0.002,
   \"memory\":1048576,\"setup_time\":0.0005,\"accounting\":\"cgroup-v1\",
   \"stdout\":\"...\",\"stderr\":\"...\",\"message\":\"...\"}
status is one of OK, NONZERO_EXIT, SIGNALLED, TIME_LIMIT_EXCEEDED,
WALL_TIME_LIMIT_EXCEEDED, MEMORY_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED,
DISALLOWED_SYSCALL, RUNNER_ERROR. Times are seconds (user_time and
system_time add up to cpu_time), memory is peak bytes, accounting says what
measured them (cgroup-v1, cgroup-v2, or none without a cgroup),
exit_code and signal are null when they do not apply, stdout and stderr are
text (invalid UTF-8 replaced by U+FFFD), message is present only when not
empty. The exit status is 0 whenever the program was run, whatever its
status; 1 or 2 as above when it could not be, and 1 when a --copy-out failed
(the JSON object is still printed).";

/// Run PROGRAM in a fresh sandbox container, then destroy the container.
///
/// Options end at '--' or at PROGRAM, the first argument that is not an option.
/// A PROGRAM without '/' is looked up in the host's PATH (the container sees the
/// host's /bin, /usr, /lib... at the same paths); one that is not found is passed
/// as is, and the run then fails with RUNNER_ERROR.
#[derive(Debug, Clone, PartialEq, Args)]
#[command(after_help = AFTER_HELP)]
pub struct RunArgs {
    /// Capture stdout and stderr and print one JSON object as the last line of
    /// stdout (see below)
    #[arg(long)]
    pub json: bool,
    /// CPU time limit, seconds (e.g. 0.5)
    #[arg(long, visible_alias = "time-limit", allow_hyphen_values = true, value_name = "S", value_parser = parse_seconds)]
    pub cpu_time_limit: Option<Duration>,
    /// Wall-clock time limit, seconds
    #[arg(long, allow_hyphen_values = true, value_name = "S", value_parser = parse_seconds)]
    pub wall_time_limit: Option<Duration>,
    /// Memory limit of all the program's processes
    #[arg(long, allow_hyphen_values = true, value_name = "SIZE", value_parser = positive_size)]
    pub memory_limit: Option<u64>,
    /// Address space of each process (RLIMIT_AS): allocations beyond it fail
    #[arg(long, allow_hyphen_values = true, value_name = "SIZE", value_parser = positive_size)]
    pub address_space_limit: Option<u64>,
    /// Files the program writes may grow to SIZE bytes, and stdout and stderr may
    /// carry SIZE bytes each; more is OUTPUT_LIMIT_EXCEEDED. Without it, --json
    /// captures at most 64M per stream and pass-through output is unlimited
    #[arg(long, allow_hyphen_values = true, value_name = "SIZE", value_parser = parse_size)]
    pub output_limit: Option<u64>,
    /// At most N processes and threads at once (fork and clone fail with EAGAIN
    /// beyond it)
    #[arg(long, allow_hyphen_values = true, value_name = "N", value_parser = process_count)]
    pub process_limit: Option<u32>,
    /// At most CORES of CPU (e.g. 0.5): slower, not killed
    #[arg(long, allow_hyphen_values = true, value_name = "CORES", value_parser = parse_cores)]
    pub cpu_rate: Option<f64>,
    /// Only these CPUs (a cpuset list such as 0 or 0-1,3): a hard limit, through the
    /// cgroup's cpuset
    #[arg(long, allow_hyphen_values = true, value_name = "LIST", value_parser = parse_cpu_set)]
    pub cpu_set: Option<CpuSet>,
    /// default (deny escape system calls with EPERM), strict (allow-list for
    /// single-process programs; anything else is DISALLOWED_SYSCALL),
    /// single-program (default, and any exec after the program's own is
    /// DISALLOWED_SYSCALL) or disabled (no filter; "off" is its old name)
    #[arg(long, allow_hyphen_values = true, value_name = "POLICY", default_value = "default", hide_default_value = true,
          value_parser = parse_seccomp)]
    pub seccomp: SeccompPolicy,
    /// auto (use cgroups when the host offers them), required (fail when it does
    /// not) or off (never; the limits that need cgroups are refused)
    #[arg(long, allow_hyphen_values = true, value_name = "MODE", default_value = "auto", value_parser = parse_cgroup_mode)]
    pub cgroup: CgroupMode,
    /// Create the container's cgroup under PATH of the hierarchy (e.g. /judge)
    /// instead of scpool's own cgroup
    #[arg(long, allow_hyphen_values = true, value_name = "PATH", value_parser = OsStringValueParser::new().try_map(cgroup_parent))]
    pub cgroup_parent: Option<PathBuf>,
    /// Count the run's processes in a cgroup of its own, so that --json reports
    /// peak_processes, the most processes and threads alive at once (kernels 6.1+;
    /// null where not counted)
    #[arg(long)]
    pub process_peak: bool,
    /// The program reads a sealed in-memory copy of FILE (at most 1G; default:
    /// empty input)
    #[arg(long, allow_hyphen_values = true, value_name = "FILE", value_parser = OsStringValueParser::new().try_map(host_path))]
    pub stdin: Option<PathBuf>,
    /// Set an environment variable; repeatable. Without any --env the environment
    /// is exactly PATH=/usr/local/bin:/usr/bin:/bin
    #[arg(long, allow_hyphen_values = true, value_name = "K=V", default_value = DEFAULT_ENV, hide_default_value = true,
          value_parser = OsStringValueParser::new().try_map(env_entry))]
    pub env: Vec<OsString>,
    /// Working directory in the container
    #[arg(long, allow_hyphen_values = true, value_name = "DIR", default_value = DEFAULT_CWD,
          value_parser = OsStringValueParser::new().try_map(container_path))]
    pub cwd: PathBuf,
    /// Copy host file HOST to PATH in the container before the run (keeps its
    /// permission bits); repeatable
    #[arg(long, allow_hyphen_values = true, value_name = "HOST:PATH", value_parser = OsStringValueParser::new().try_map(copy_in))]
    pub copy_in: Vec<CopyIn>,
    /// Copy PATH from the container to host file HOST after the run; repeatable
    #[arg(long, allow_hyphen_values = true, value_name = "PATH:HOST", value_parser = OsStringValueParser::new().try_map(copy_out))]
    pub copy_out: Vec<CopyOut>,
    /// Run on image REF's root filesystem (NAME[:TAG] in the image store, see
    /// 'scpool image --help') instead of the host's directories
    #[arg(long, value_name = "REF", conflicts_with = "image_layers")]
    pub image: Option<String>,
    /// The image store's directory (default: $SCPOOL_STORE, else the default store)
    #[arg(long, value_name = "DIR", requires = "image")]
    pub store: Option<PathBuf>,
    /// Load PROGRAM from the host into memory and run that copy (the program need
    /// not be visible inside the container; ELF binaries only, not #! scripts)
    #[arg(long)]
    pub host_exec: bool,
    /// Leave the program running in a container of its own after scpool exits,
    /// under --name (see 'scpool ps', 'exec', 'stop', 'rm'); its stdout and
    /// stderr go to files in the container's state directory
    #[arg(short = 'd', long, requires = "name", conflicts_with_all = ["json", "copy_in", "copy_out"])]
    pub detach: bool,
    /// The name of a detached container (letters, digits, '_', '.', '-')
    #[arg(long, value_name = "NAME", requires = "detach")]
    pub name: Option<String>,
    /// Unpacked image layers as the root instead of the host's directories: an
    /// overlay of them, lowest first, with a writable layer of the container's own;
    /// repeatable, or DIR:DIR... PROGRAM is then a path inside the image
    #[arg(long, value_name = "DIR", value_delimiter = ':',
          value_parser = OsStringValueParser::new().try_map(host_path))]
    pub image_layers: Vec<PathBuf>,
    /// Size cap of the writable layer over --image or --image-layers (default 256M)
    #[arg(long, allow_hyphen_values = true, value_name = "SIZE", value_parser = positive_size)]
    pub root_size: Option<u64>,
    /// PROGRAM and its arguments: everything from PROGRAM on is the program's
    #[arg(value_name = "PROGRAM", required = true, trailing_var_arg = true,
          value_parser = OsStringValueParser::new())]
    pub command: Vec<OsString>,
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

impl RunArgs {
    /// The program to run.
    pub fn program(&self) -> &OsStr {
        &self.command[0]
    }

    /// The program's arguments after its name.
    pub fn program_args(&self) -> &[OsString] {
        &self.command[1..]
    }

    /// What clap cannot check by itself: PROGRAM may not be empty.
    pub fn check(&self) -> Result<(), clap::Error> {
        if self
            .command
            .first()
            .is_none_or(|program| program.is_empty())
        {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            let run = command.find_subcommand_mut("run").expect("run is defined");
            return Err(run.error(clap::error::ErrorKind::InvalidValue, "PROGRAM is empty"));
        }
        Ok(())
    }
}

fn positive_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("must be positive".into()),
        bytes => Ok(bytes),
    }
}

fn process_count(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid number '{text}'")),
    }
}

/// A CPU rate in cores: a number; its range is the library's to check.
fn parse_cores(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|_| format!("invalid number '{text}'"))
}

/// A CPU list, parsed by the library (whether this host has the CPUs is checked
/// when the run asks for them).
fn parse_cpu_set(text: &str) -> Result<CpuSet, String> {
    CpuSet::parse(text).map_err(|e| e.to_string())
}

/// The built-in policies by the library's names (a custom program has no name).
fn parse_seccomp(text: &str) -> Result<SeccompPolicy, String> {
    text.parse()
}

fn parse_cgroup_mode(text: &str) -> Result<CgroupMode, String> {
    text.parse()
}

/// A path inside the container: absolute (the library checks the rest).
fn container_path(path: OsString) -> Result<PathBuf, String> {
    if !path.as_bytes().starts_with(b"/") {
        return Err(format!(
            "must be an absolute path inside the container, got {path:?}"
        ));
    }
    Ok(PathBuf::from(path))
}

/// A path of the cgroup hierarchy, absolute like those of /proc/self/cgroup.
fn cgroup_parent(path: OsString) -> Result<PathBuf, String> {
    if !path.as_bytes().starts_with(b"/") {
        return Err(format!(
            "must be an absolute path of the cgroup hierarchy, got {path:?}"
        ));
    }
    Ok(PathBuf::from(path))
}

fn host_path(path: OsString) -> Result<PathBuf, String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    Ok(PathBuf::from(path))
}

/// `HOST:PATH`, split at the last ':' (container paths have no ':').
fn copy_in(spec: OsString) -> Result<CopyIn, String> {
    let bytes = spec.as_bytes();
    let Some(colon) = bytes.iter().rposition(|&b| b == b':') else {
        return Err(format!("expected HOST:PATH, got {spec:?}"));
    };
    Ok(CopyIn {
        host: host_path(OsStr::from_bytes(&bytes[..colon]).into())?,
        container: container_path(OsStr::from_bytes(&bytes[colon + 1..]).into())?,
    })
}

/// `PATH:HOST`, split at the first ':' (container paths have no ':').
fn copy_out(spec: OsString) -> Result<CopyOut, String> {
    let bytes = spec.as_bytes();
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return Err(format!("expected PATH:HOST, got {spec:?}"));
    };
    Ok(CopyOut {
        container: container_path(OsStr::from_bytes(&bytes[..colon]).into())?,
        host: host_path(OsStr::from_bytes(&bytes[colon + 1..]).into())?,
    })
}

/// `K=V` with a non-empty K.
fn env_entry(entry: OsString) -> Result<OsString, String> {
    match entry.as_bytes().iter().position(|&b| b == b'=') {
        Some(eq) if eq > 0 => Ok(entry),
        _ => Err(format!("expected K=V, got {entry:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Command};
    use clap::error::ErrorKind;
    use std::os::unix::ffi::OsStringExt;

    fn parse_run<I: IntoIterator<Item = OsString>>(args: I) -> Result<RunArgs, clap::Error> {
        let words = ["scpool", "run"].map(OsString::from).into_iter();
        match parse(words.chain(args))? {
            Command::Run(options) => Ok(*options),
            other => panic!("parsed as {other:?}"),
        }
    }

    fn run_options(words: &[&str]) -> RunArgs {
        parse_run(words.iter().map(OsString::from)).unwrap_or_else(|e| panic!("{words:?}: {e}"))
    }

    fn usage_error(words: &[&str]) -> String {
        match parse_run(words.iter().map(OsString::from)) {
            Err(e) => {
                assert_eq!(e.exit_code(), 2, "{words:?}: {e}");
                e.to_string()
            }
            Ok(other) => panic!("{words:?} parsed as {other:?}"),
        }
    }

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn defaults() {
        let options = run_options(&["--", "echo", "hi"]);
        assert_eq!(
            options,
            RunArgs {
                json: false,
                cpu_time_limit: None,
                wall_time_limit: None,
                memory_limit: None,
                address_space_limit: None,
                output_limit: None,
                process_limit: None,
                cpu_rate: None,
                cpu_set: None,
                seccomp: SeccompPolicy::Default,
                cgroup: CgroupMode::Auto,
                cgroup_parent: None,
                process_peak: false,
                stdin: None,
                env: os(&[DEFAULT_ENV]),
                cwd: PathBuf::from("/w"),
                copy_in: vec![],
                copy_out: vec![],
                image: None,
                store: None,
                host_exec: false,
                detach: false,
                name: None,
                image_layers: vec![],
                root_size: None,
                command: os(&["echo", "hi"]),
            }
        );
        assert_eq!(options.program(), "echo");
        assert_eq!(options.program_args(), os(&["hi"]));
    }

    #[test]
    fn detach_needs_a_name_and_image_layers_split_at_colons() {
        let options = run_options(&[
            "-d",
            "--name",
            "web",
            "--image-layers",
            "/l/a:/l/b",
            "--image-layers",
            "/l/c",
            "--root-size",
            "1M",
            "x",
        ]);
        assert!(options.detach);
        assert_eq!(options.name.as_deref(), Some("web"));
        assert_eq!(
            options.image_layers,
            ["/l/a", "/l/b", "/l/c"].map(PathBuf::from)
        );
        assert_eq!(options.root_size, Some(1 << 20));
        for words in [
            &["-d", "x"][..],
            &["--name", "web", "x"][..],
            &["-d", "--name", "web", "--json", "x"][..],
        ] {
            let args = ["scpool", "run"].iter().chain(words).map(OsString::from);
            assert!(crate::cli::parse(args).is_err(), "{words:?}");
        }
    }

    #[test]
    fn cpu_rate_seccomp_and_cgroup() {
        let options = run_options(&["--cpu-rate", "0.5", "--seccomp=strict", "x"]);
        assert_eq!(options.cpu_rate, Some(0.5));
        assert_eq!(options.seccomp, SeccompPolicy::Strict);
        let options = run_options(&["--cpu-set", "0-1,3", "x"]);
        assert_eq!(options.cpu_set, Some(CpuSet::parse("0-1,3").unwrap()));
        let options = run_options(&["--seccomp", "single-program", "x"]);
        assert_eq!(options.seccomp, SeccompPolicy::SingleProgram);
        let options = run_options(&["--seccomp=off", "x"]);
        assert_eq!(options.seccomp, SeccompPolicy::Disabled);
        let options = run_options(&["--seccomp=disabled", "x"]);
        assert_eq!(options.seccomp, SeccompPolicy::Disabled);
        // --time-limit is the old name of --cpu-time-limit.
        let options = run_options(&["--cpu-time-limit", "2", "x"]);
        assert_eq!(options.cpu_time_limit, Some(Duration::from_secs(2)));
        let options = run_options(&["--cgroup", "required", "--cgroup-parent=/judge", "x"]);
        assert_eq!(options.cgroup, CgroupMode::Required);
        assert_eq!(options.cgroup_parent, Some(PathBuf::from("/judge")));
        assert_eq!(run_options(&["--cgroup=off", "x"]).cgroup, CgroupMode::Off);
        for (args, expected) in [
            (&["--cpu-rate", "fast", "x"][..], "invalid number"),
            (&["--cpu-set", "1-0", "x"][..], "1-0"),
            (&["--seccomp", "lax", "x"][..], SeccompPolicy::NAMES),
            (&["--cgroup", "on", "x"][..], CgroupMode::NAMES),
            (&["--cgroup-parent", "judge", "x"][..], "absolute"),
        ] {
            let message = usage_error(args);
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    #[test]
    fn every_option() {
        let options = run_options(&[
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
        assert_eq!(options.cpu_time_limit, Some(Duration::from_millis(1500)));
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
        assert_eq!(options.program(), "prog");
        assert_eq!(options.program_args(), os(&["--json", "--", "-x"]));
    }

    #[test]
    fn program_without_double_dash_ends_the_options() {
        let options = run_options(&["--json", "sh", "-c", "--json", "echo"]);
        assert!(options.json);
        assert_eq!(options.program(), "sh");
        assert_eq!(options.program_args(), os(&["-c", "--json", "echo"]));
        let options = run_options(&["sh", "--json"]);
        assert!(!options.json);
        assert_eq!(options.program_args(), os(&["--json"]));
    }

    #[test]
    fn help() {
        let kind = |words: &[&str]| {
            parse_run(words.iter().map(OsString::from))
                .unwrap_err()
                .kind()
        };
        assert_eq!(kind(&["--help"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["--json", "-h", "x"]), ErrorKind::DisplayHelp);
        // After PROGRAM, --help belongs to the program.
        assert_eq!(
            run_options(&["ls", "--help"]).program_args(),
            os(&["--help"])
        );
    }

    #[test]
    fn usage_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "PROGRAM"),
            (&["--json"], "PROGRAM"),
            (&["--"], "PROGRAM"),
            (&["--", ""], "PROGRAM is empty"),
            (&["--bogus", "x"], "unexpected argument '--bogus'"),
            (&["-x", "prog"], "unexpected argument '-x'"),
            (&["--json=yes", "x"], "unexpected value 'yes'"),
            (&["--time-limit"], "a value is required"),
            (&["--time-limit", "abc", "x"], "invalid time"),
            (&["--time-limit", "-1", "x"], "invalid time"),
            (&["--time-limit", "0", "x"], "positive"),
            (&["--wall-time-limit", "1s", "x"], "invalid time"),
            (
                &["--time-limit", "1", "--time-limit", "2", "x"],
                "cannot be used multiple times",
            ),
            (&["--memory-limit", "lots", "x"], "invalid size"),
            (&["--memory-limit", "0", "x"], "must be positive"),
            (&["--output-limit", "1.5K", "x"], "invalid size"),
            (&["--process-limit", "0", "x"], "at least 1"),
            (&["--process-limit", "-3", "x"], "invalid number"),
            (&["--process-limit", "ten", "x"], "invalid number"),
            (&["--env", "NOEQUALS", "x"], "K=V"),
            (&["--env", "=v", "x"], "K=V"),
            (&["--cwd", "w", "x"], "absolute"),
            (&["--copy-in", "nocolon", "x"], "HOST:PATH"),
            (&["--copy-in", "a:w/a", "x"], "absolute"),
            (&["--copy-in", ":/w/a", "x"], "empty"),
            (&["--copy-out", "/w/a", "x"], "PATH:HOST"),
            (&["--copy-out", "w/a:b", "x"], "absolute"),
            (&["--copy-out", "/w/a:", "x"], "empty"),
            (&["--stdin", "", "x"], "empty"),
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
        let message = usage_error(&["--memory-limit=12Q", "x"]);
        assert!(message.contains("--memory-limit"), "{message}");
        assert!(message.contains("invalid size"), "{message}");
    }

    #[test]
    fn non_utf8_arguments_pass_through() {
        let weird = OsString::from_vec(b"caf\xe9".to_vec());
        let env = OsString::from_vec(b"X=\xff".to_vec());
        let args = vec!["--env".into(), env.clone(), weird.clone(), weird.clone()];
        let options = parse_run(args).unwrap();
        assert_eq!(options.command, vec![weird.clone(), weird]);
        assert_eq!(options.env, vec![env]);
    }
}
