//! Runs a checked request: one pooled container per command, files in, the run,
//! files out, and the result in go-judge's terms.

use crate::cancel::Cancel;
use crate::collect::{self, Collected};
use crate::links::{self, in_container};
use crate::model::{CmdResult, FileError, FileErrorKind};
use crate::plan::{CmdPlan, Plan, Slot, Source};
use crate::status;
use crate::store::FileStore;
use scpool_core::{sealed_memfd, Container, Error, ExecveParam, Limits, OpenCmd, Pool};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where programs run and files come from; one per service.
pub struct Executor {
    pub pool: Pool,
    pub store: Arc<FileStore>,
    /// Host directories `src` may name (canonical paths); empty: `src` is refused.
    pub src_prefixes: Vec<PathBuf>,
    /// `copyOutMax` when a command gives none, and the most a `src` file may hold.
    pub copy_out_max: u64,
    /// RLIMIT_FSIZE of every program.
    pub output_limit: u64,
    /// Write a program run by fileId into /w as go-judge does, instead of running
    /// it from the store's sealed copy.
    pub copy_in_programs: bool,
    /// Container paths that show the host's file of the same path (read-only binds
    /// with source = target): a program is looked up there without a round trip.
    pub host_paths: Vec<PathBuf>,
}

/// How long a request that already holds its queue permits waits for containers
/// being reset.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl Executor {
    /// Runs every command of `plan` at once, each in its own container, and gives
    /// their results in order. `Err` only when no container could be had.
    pub fn run(&self, plan: Plan, cancel: &Cancel) -> Result<Vec<CmdResult>, String> {
        let mut containers = Vec::with_capacity(plan.cmds.len());
        for _ in &plan.cmds {
            containers.push(
                self.pool
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .map_err(|e| e.to_string())?,
            );
        }
        let runtime = tokio::runtime::Handle::try_current().ok();
        let runtime = runtime.as_ref();
        let pipes = collect::Pipes::new(&plan.pipes, plan.cmds.len())
            .map_err(|e| format!("creating pipes: {e}"))?;
        let (mut ends, relays) = pipes.split();
        if plan.cmds.len() == 1 {
            let mut c = containers.pop().expect("one container per command");
            let cmd = &plan.cmds[0];
            return Ok(vec![self.run_cmd(
                &mut c,
                cmd,
                ends.remove(0),
                cancel,
                runtime,
            )]);
        }
        let mut results: Vec<CmdResult> = std::thread::scope(|scope| {
            let handles: Vec<_> = plan
                .cmds
                .iter()
                .zip(containers.iter_mut())
                .zip(ends)
                .map(|((cmd, c), ends)| {
                    scope.spawn(move || self.run_cmd(c, cmd, ends, cancel, runtime))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| internal("a run thread panicked"))
                })
                .collect()
        });
        for relay in relays {
            let (index, name, data) = relay.finish();
            if let (Some(result), false) = (results.get_mut(index), name.is_empty()) {
                result
                    .files
                    .insert(name, String::from_utf8_lossy(&data).into_owned());
            }
        }
        Ok(results)
    }

    fn run_cmd(
        &self,
        c: &mut Container,
        plan: &CmdPlan,
        mut pipe_ends: BTreeMap<usize, OwnedFd>,
        cancel: &Cancel,
        runtime: Option<&tokio::runtime::Handle>,
    ) -> CmdResult {
        let cmd = &plan.cmd;
        let mut file_errors = Vec::new();
        let program = self.stored_program(plan);
        for (path, source) in &plan.copy_in {
            if program.is_some() && path == &cmd.args[0] {
                continue;
            }
            if let Err(e) = self.copy_in(c, path, source) {
                file_errors.push(e);
            }
        }
        if file_errors.is_empty() {
            file_errors = links::make_symlinks(c, &plan.symlinks);
        }
        // Descriptors: inputs as sealed memfds, outputs as pipes the service reads.
        let mut fds: Vec<OwnedFd> = Vec::with_capacity(plan.slots.len());
        let mut collectors = Vec::new();
        for (fd, slot) in plan.slots.iter().enumerate() {
            let opened = match slot {
                Slot::Empty => File::open("/dev/null")
                    .map(OwnedFd::from)
                    .map_err(|e| e.to_string()),
                Slot::Input(source) => self
                    .bytes_of(source)
                    .and_then(|b| sealed_memfd(&b).map_err(|e| e.to_string()))
                    .inspect_err(|m| {
                        file_errors.push(FileError {
                            name: source_name(source, fd),
                            kind: FileErrorKind::CopyInOpenFile,
                            message: m.clone(),
                        })
                    }),
                Slot::Collector { name, max } => collect::Collector::start(name, *max, runtime)
                    .map(|(write, collector)| {
                        collectors.push(collector);
                        write
                    })
                    .map_err(|e| e.to_string()),
                Slot::Pipe => pipe_ends
                    .remove(&fd)
                    .ok_or_else(|| "pipe end missing".to_string()),
            };
            match opened {
                Ok(f) => fds.push(f),
                Err(_) if !file_errors.is_empty() => break,
                Err(m) => return internal(&m),
            }
        }
        if !file_errors.is_empty() {
            return CmdResult {
                status: status::FILE_ERROR,
                file_error: file_errors,
                ..CmdResult::default()
            };
        }

        let mut param = ExecveParam::new(cmd.args.iter().map(OsString::from));
        let name = &cmd.args[0];
        param.args[0] = if plan.copy_in.iter().any(|(path, _)| path == name)
            || plan.symlinks.iter().any(|(path, _)| path == name)
        {
            // go-judge's usual `"args": ["a"]` with `a` copied in: the work dir's.
            in_container(&cmd.args[0]).into()
        } else {
            self.find_program(c, &cmd.args[0], &cmd.env).into()
        };
        param.env = cmd.env.iter().map(OsString::from).collect();
        param.files = fds.iter().map(|f| f.as_fd()).collect();
        param.exec_file = program.as_deref().map(AsFd::as_fd);
        param.limits = limits(cmd);
        param.limits.output = Some(self.output_limit);
        let init = c.init_pid();
        if !cancel.register(init) {
            return internal("the client went away before the run started");
        }
        let outcome = c.execve(&param);
        cancel.unregister(init);
        drop(param);
        // The program's ends close with it; ours now, so the collectors see the end.
        drop(fds);
        let collected: Vec<Collected> = collectors
            .into_iter()
            .map(collect::Collector::finish)
            .collect();
        let run = match outcome {
            Ok(run) => run,
            Err(e) => return internal(&e.to_string()),
        };
        let overflow = collected.iter().any(|c| c.overflow);
        let mut result = CmdResult {
            status: status::go_judge_status(run.status, overflow),
            exit_status: status::exit_status(run.exit_code, run.signal),
            error: run.message.clone(),
            time: duration_ns(run.cpu_time),
            memory: run.memory,
            run_time: duration_ns(run.wall_time),
            // Omitted (0) where no count of this run alone exists, never a guess.
            proc_peak: run.peak_processes.unwrap_or(0),
            ..CmdResult::default()
        };
        self.copy_out(c, cmd, collected, &mut result);
        if !result.file_error.is_empty() && result.status == status::ACCEPTED {
            result.status = status::FILE_ERROR;
        }
        result
    }

    /// The stored program to run straight from the store: `args[0]` copied in by
    /// fileId, unless the service copies programs in (`--copy-in-programs`).
    fn stored_program(&self, plan: &CmdPlan) -> Option<Arc<OwnedFd>> {
        if self.copy_in_programs {
            return None;
        }
        plan.copy_in
            .iter()
            .find_map(|(path, source)| match source {
                Source::Stored(file) if path == &plan.cmd.args[0] => Some(file),
                _ => None,
            })
            .and_then(|file| self.store.program(file))
    }

    fn copy_in(&self, c: &mut Container, path: &str, source: &Source) -> Result<(), FileError> {
        let error = |kind, message: String| FileError {
            name: path.to_owned(),
            kind,
            message,
        };
        let data = self
            .bytes_of(source)
            .map_err(|m| error(FileErrorKind::CopyInOpenFile, m))?;
        let target = in_container(path);
        links::make_parents(c, &target)
            .map_err(|e| error(FileErrorKind::CopyInCreateDir, e.to_string()))?;
        // Executable: a compiled program copied in by fileId must run.
        c.write_file_mode(&target, &data, 0o755)
            .map_err(|e| error(FileErrorKind::CopyInCreateFile, e.to_string()))
    }

    /// The bytes of an input: in memory already, or a host file under a configured
    /// prefix (`src`).
    fn bytes_of(&self, source: &Source) -> Result<Arc<Vec<u8>>, String> {
        match source {
            Source::Bytes(b) => Ok(b.clone()),
            Source::Stored(file) => Ok(file.data.clone()),
            Source::Host(path) => self.read_src(path).map(Arc::new),
        }
    }

    fn read_src(&self, path: &str) -> Result<Vec<u8>, String> {
        if self.src_prefixes.is_empty() {
            return Err(format!(
                "src {path:?} refused: this service reads no host files unless started with --src-prefix DIR"
            ));
        }
        // Canonical first, so `..` and symlinks cannot lead out of a prefix.
        let real = std::fs::canonicalize(path).map_err(|e| format!("src {path:?}: {e}"))?;
        if !self.src_prefixes.iter().any(|p| real.starts_with(p)) {
            return Err(format!(
                "src {path:?} refused: it is not under a --src-prefix directory ({})",
                self.src_prefixes
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&real)
            .map_err(|e| format!("src {path:?}: {e}"))?;
        let meta = file.metadata().map_err(|e| format!("src {path:?}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("src {path:?} is not a regular file"));
        }
        let mut data = Vec::new();
        file.take(self.copy_out_max + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("src {path:?}: {e}"))?;
        if data.len() as u64 > self.copy_out_max {
            return Err(format!(
                "src {path:?} is larger than {} bytes",
                self.copy_out_max
            ));
        }
        Ok(data)
    }

    /// A program named without a slash (and not copied in) is looked up in the PATH
    /// of its env, as a shell does; the library executes paths only.
    fn find_program(&self, c: &mut Container, name: &str, env: &[String]) -> String {
        if name.contains('/') {
            return name.to_owned();
        }
        let path = env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH);
        for dir in path.split(':').filter(|d| d.starts_with('/')) {
            let candidate = Path::new(dir).join(name);
            let found = if self.host_paths.iter().any(|p| candidate.starts_with(p)) {
                candidate.is_file()
            } else {
                // Opened inside the container; a symlink is refused with ELOOP but
                // exists, and execve follows it.
                match c.open(&[OpenCmd::new(
                    &candidate,
                    libc::O_RDONLY | libc::O_NONBLOCK,
                    0,
                )]) {
                    Ok(_) => true,
                    Err(Error::Open { errno, .. }) => errno == libc::ELOOP,
                    Err(_) => false,
                }
            };
            if found {
                return candidate.to_string_lossy().into_owned();
            }
        }
        name.to_owned()
    }

    fn copy_out(
        &self,
        c: &mut Container,
        cmd: &crate::model::Cmd,
        collected: Vec<Collected>,
        result: &mut CmdResult,
    ) {
        let max = if cmd.copy_out_max > 0 {
            cmd.copy_out_max
        } else {
            self.copy_out_max
        };
        let mut collected: BTreeMap<String, Collected> =
            collected.into_iter().map(|c| (c.name.clone(), c)).collect();
        let wanted = cmd
            .copy_out
            .iter()
            .map(|n| (n, false))
            .chain(cmd.copy_out_cached.iter().map(|n| (n, true)));
        for (name, cached) in wanted {
            let (name, optional) = match name.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name.as_str(), false),
            };
            let data = match collected.remove(name) {
                Some(c) => c.data,
                None => match read_out(c, name, max, cmd.copy_out_truncate) {
                    Ok(data) => data,
                    Err((kind, _)) if optional && kind == FileErrorKind::CopyOutOpen => continue,
                    Err((kind, message)) => {
                        result.file_error.push(FileError {
                            name: name.to_owned(),
                            kind,
                            message,
                        });
                        continue;
                    }
                },
            };
            if cached {
                match self.store.add(name, data) {
                    Ok(id) => {
                        result.file_ids.insert(name.to_owned(), id);
                    }
                    Err(full) => result.file_error.push(FileError {
                        name: name.to_owned(),
                        kind: FileErrorKind::CopyOutCreateFile,
                        message: full.to_string(),
                    }),
                }
            } else {
                result
                    .files
                    .insert(name.to_owned(), String::from_utf8_lossy(&data).into_owned());
            }
        }
        // Collected output not named in copyOut is returned too, as go-judge does.
        for (name, c) in collected {
            result
                .files
                .insert(name, String::from_utf8_lossy(&c.data).into_owned());
        }
    }
}

fn read_out(
    c: &mut Container,
    name: &str,
    max: u64,
    truncate: bool,
) -> Result<Vec<u8>, (FileErrorKind, String)> {
    let path = in_container(name);
    let mut data = Vec::new();
    let outcome = if truncate {
        let mut sink = collect::Truncating::new(&mut data, max);
        c.read_file_into(&path, &mut sink, u64::MAX)
    } else {
        c.read_file_into(&path, &mut data, max)
    };
    match outcome {
        Ok(_) => Ok(data),
        Err(e @ Error::FileTooLarge { .. }) => {
            Err((FileErrorKind::CopyOutSizeExceeded, e.to_string()))
        }
        Err(e @ Error::NotRegularFile { .. }) => {
            Err((FileErrorKind::CopyOutNotRegularFile, e.to_string()))
        }
        Err(e) => Err((FileErrorKind::CopyOutOpen, e.to_string())),
    }
}

fn source_name(source: &Source, fd: usize) -> String {
    match source {
        Source::Host(path) => path.clone(),
        Source::Bytes(_) | Source::Stored(_) => format!("fd {fd}"),
    }
}

fn limits(cmd: &crate::model::Cmd) -> Limits {
    let set = |n: u64| (n > 0).then_some(n);
    let mut limits = Limits::default();
    limits.cpu_time = set(cmd.cpu_limit).map(Duration::from_nanos);
    limits.wall_time = set(if cmd.real_cpu_limit > 0 {
        cmd.real_cpu_limit
    } else {
        cmd.clock_limit
    })
    .map(Duration::from_nanos);
    limits.memory = set(cmd.memory_limit);
    limits.stack = set(cmd.stack_limit);
    limits.processes = set(cmd.proc_limit).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    limits.cpu_rate = set(cmd.cpu_rate_limit).map(|n| n as f64 / 1000.0);
    // Checked when the request was planned.
    limits.cpu_set = crate::cpus::parse(&cmd.cpu_set_limit).ok().flatten();
    if cmd.strict_memory_limit || cmd.address_space_limit {
        limits.address_space = limits.memory;
    }
    limits
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn internal(message: &str) -> CmdResult {
    CmdResult {
        status: status::INTERNAL_ERROR,
        error: message.to_owned(),
        ..CmdResult::default()
    }
}
