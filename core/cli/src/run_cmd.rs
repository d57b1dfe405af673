//! `scpool run`: one fresh container, one program, then the container is destroyed.

use crate::commands::run::RunArgs;
use crate::copy::{copy_in, copy_out};
use crate::error::{CliError, EXIT_RUNTIME};
use crate::program;
use crate::pump::{Drained, Pump};
use crate::report;
use crate::stdin;
use scpool_core::{Container, ExecveParam, Limits, RunResult, DEFAULT_CAPTURE_LIMIT};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

/// Runs the program as `options` say and returns scpool's exit status.
pub fn run(options: &RunArgs) -> Result<u8, CliError> {
    let launch = Launch::prepare(options)?;
    if options.json {
        let limit = options.output_limit.unwrap_or(DEFAULT_CAPTURE_LIMIT);
        let ran = run_in_container(options, &launch, Vec::new(), Vec::new(), limit)?;
        let mut result = ran.result;
        result.stdout = ran.stdout.sink;
        result.stderr = ran.stderr.sink;
        print_json_line(&report::to_json(&result))?;
        Ok(report_copy_out_errors(&ran.copy_out_errors).unwrap_or(0))
    } else {
        let limit = options.output_limit.unwrap_or(u64::MAX);
        let ran = run_in_container(options, &launch, io::stdout(), io::stderr(), limit)?;
        if let Some(note) = report::status_note(&ran.result) {
            eprintln!("{note}");
        }
        Ok(report_copy_out_errors(&ran.copy_out_errors)
            .unwrap_or_else(|| report::exit_status(&ran.result)))
    }
}

/// What the program is started with, prepared on the host before any container
/// exists (so a missing file fails fast).
struct Launch {
    args: Vec<OsString>,
    stdin: File,
    exec_file: Option<OwnedFd>,
}

impl Launch {
    fn prepare(options: &RunArgs) -> Result<Self, CliError> {
        let path = program::resolve_on_host(options.program());
        let (argv0, exec_file) = if options.host_exec {
            // Never fall back to a file of that name in our current directory.
            let path = path.ok_or_else(|| {
                CliError::runtime(format!(
                    "--host-exec: {:?} not found in PATH",
                    options.program()
                ))
            })?;
            let copy = scpool_core::memfd_copy_of(&path)
                .map_err(|e| CliError::from_core("--host-exec", e))?;
            // The copy is what runs; the program still sees the name it was given.
            (options.program().to_owned(), Some(copy))
        } else {
            // Not found: pass the name on, and the run reports RUNNER_ERROR. On image
            // layers the host's PATH says nothing of the image's files.
            let path = path
                .filter(|_| options.image_layers.is_empty() && options.image.is_none())
                .map_or_else(|| options.program().to_owned(), PathBuf::into_os_string);
            (path, None)
        };
        let mut args = vec![argv0];
        args.extend(options.program_args().iter().cloned());
        Ok(Self {
            args,
            stdin: stdin::open(options.stdin.as_deref())?,
            exec_file,
        })
    }

    fn param<'fd>(
        &'fd self,
        options: &RunArgs,
        stdout: BorrowedFd<'fd>,
        stderr: BorrowedFd<'fd>,
    ) -> ExecveParam<'fd> {
        let mut param = ExecveParam::new(self.args.iter().cloned());
        param.env = options.env.clone();
        param.cwd = options.cwd.clone();
        param.files = vec![self.stdin.as_fd(), stdout, stderr];
        param.exec_file = self.exec_file.as_ref().map(AsFd::as_fd);
        param.limits = limits(options);
        param.seccomp = options.seccomp.clone();
        param
    }
}

/// Every limit given is passed on; the library refuses those it cannot enforce.
pub fn limits(options: &RunArgs) -> Limits {
    let mut limits = Limits::default();
    limits.cpu_time = options.cpu_time_limit;
    limits.wall_time = options.wall_time_limit;
    limits.memory = options.memory_limit;
    limits.address_space = options.address_space_limit;
    limits.output = options.output_limit;
    limits.processes = options.process_limit;
    limits.cpu_rate = options.cpu_rate;
    limits.cpu_set = options.cpu_set.clone();
    limits
}

/// A finished run: its result, its drained output, and any failed --copy-out.
struct Ran<O, E> {
    result: RunResult,
    stdout: Drained<O>,
    stderr: Drained<E>,
    copy_out_errors: Vec<CliError>,
}

fn run_in_container<O, E>(
    options: &RunArgs,
    launch: &Launch,
    stdout_sink: O,
    stderr_sink: E,
    output_limit: u64,
) -> Result<Ran<O, E>, CliError>
where
    O: Write + Send + 'static,
    E: Write + Send + 'static,
{
    let config = crate::run_config::container_config(options)?;
    let mut container =
        Container::new(&config).map_err(|e| CliError::from_core("creating the container", e))?;
    for copy in &options.copy_in {
        copy_in(&mut container, copy)?;
    }
    let pipe_failed = |e: io::Error| CliError::runtime(format!("creating an output pipe: {e}"));
    let stdout = Pump::start(stdout_sink, output_limit).map_err(pipe_failed)?;
    let stderr = Pump::start(stderr_sink, output_limit).map_err(pipe_failed)?;

    let outcome = container.execve(&launch.param(options, stdout.write_end(), stderr.write_end()));
    let copy_out_errors = match outcome {
        Ok(_) => options
            .copy_out
            .iter()
            .filter_map(|copy| copy_out(&mut container, copy).err())
            .collect(),
        Err(_) => Vec::new(),
    };
    // Destroying the container kills whatever of the run still holds the pipes, so
    // the drains are sure to reach end of file.
    drop(container);
    let stdout = stdout.finish();
    let stderr = stderr.finish();

    let mut result = outcome.map_err(|e| CliError::from_core("cannot run the program", e))?;
    if stdout.over_limit || stderr.over_limit {
        result.note_output_over_limit(output_limit);
    }
    Ok(Ran {
        result,
        stdout,
        stderr,
        copy_out_errors,
    })
}

fn print_json_line(json: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{json}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::runtime(format!("writing the result: {e}")))
}

/// Prints failed copies; `Some(exit status)` when there were any.
fn report_copy_out_errors(errors: &[CliError]) -> Option<u8> {
    for error in errors {
        eprintln!("{error}");
    }
    (!errors.is_empty()).then_some(EXIT_RUNTIME)
}
