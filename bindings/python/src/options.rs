//! The keywords of `run` and `execve`: environment, working directory, stdin or
//! descriptors, limits and the seccomp policy. One parser for every entry point, so
//! `Container.run`, `Container.execve`, `Pool.run` and `scpool.run` agree.

use crate::convert;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;
use scpool_core::{ExecveParam, Limits, Program, RunParam, SeccompPolicy};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// Keywords every run takes. `time_limit` is the old spelling of `cpu_time_limit`,
/// still accepted (README, "Names").
const COMMON: &[&str] = &[
    "env",
    "cwd",
    "cpu_time_limit",
    "time_limit",
    "wall_time_limit",
    "memory_limit",
    "output_limit",
    "process_limit",
    "cpu_rate",
    "cpu_set",
    "open_files",
    "stack",
    "address_space_limit",
    "seccomp",
];

/// Which call the keywords are for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `run`: stdin bytes in, stdout and stderr captured.
    Run,
    /// `execve`: the raw call with descriptors.
    Execve,
}

impl Call {
    fn own_keywords(self) -> &'static [&'static str] {
        match self {
            Call::Run => &["stdin"],
            Call::Execve => &["files", "exec_file"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Call::Run => "run",
            Call::Execve => "execve",
        }
    }
}

/// Everything a run needs, owned, so it can cross into a call without the GIL.
pub struct RunOptions {
    /// The part both calls share, converted once.
    pub program: Program,
    pub stdin: Vec<u8>,
    pub files: Vec<OwnedFd>,
    pub exec_file: Option<OwnedFd>,
}

impl RunOptions {
    pub fn parse(
        call: Call,
        args: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let get = |key: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
            match kwargs {
                Some(kw) => Ok(kw.get_item(key)?.filter(|v| !v.is_none())),
                None => Ok(None),
            }
        };
        if let Some(kw) = kwargs {
            for key in kw.keys() {
                let known = key.extract::<String>().is_ok_and(|k| {
                    COMMON.contains(&k.as_str()) || call.own_keywords().contains(&k.as_str())
                });
                if !known {
                    return Err(PyTypeError::new_err(format!(
                        "{}() got an unexpected keyword argument {key}",
                        call.name()
                    )));
                }
            }
        }
        let mut program = Program::new(convert::os_strings(args, "args")?);
        if let Some(env) = get("env")? {
            program.env = convert::os_strings(&env, "env")?;
        }
        if let Some(cwd) = get("cwd")? {
            program.cwd = PathBuf::from(convert::os_string(&cwd, "cwd")?);
        }
        program.limits = limits(&get)?;
        program.seccomp = seccomp_policy(get("seccomp")?.as_ref())?;
        let mut options = RunOptions {
            program,
            stdin: Vec::new(),
            files: Vec::new(),
            exec_file: None,
        };
        if let Some(stdin) = get("stdin")? {
            options.stdin = convert::bytes(&stdin, "stdin")?.to_vec();
        }
        if let Some(files) = get("files")? {
            let items = files.try_iter().map_err(|_| {
                PyTypeError::new_err("files must be a list of descriptors or file objects")
            })?;
            for (i, item) in items.enumerate() {
                options
                    .files
                    .push(convert::dup_fd(&item?, &format!("files[{i}]"))?);
            }
        }
        if let Some(exec_file) = get("exec_file")? {
            options.exec_file = Some(convert::dup_fd(&exec_file, "exec_file")?);
        }
        Ok(options)
    }

    /// The core's raw call, borrowing our descriptors.
    pub fn execve_param(&self) -> ExecveParam<'_> {
        let mut param = ExecveParam::from(self.program.clone());
        param.files = self.files.iter().map(AsFd::as_fd).collect();
        param.exec_file = self.exec_file.as_ref().map(AsFd::as_fd);
        param
    }

    /// The core's convenience call.
    pub fn run_param(self) -> RunParam {
        let mut param = RunParam::from(self.program);
        param.stdin = self.stdin;
        param
    }
}

/// The limit keywords. `cpu_time_limit` and its old spelling `time_limit` are one
/// limit: giving both is an error rather than a silent choice.
fn limits<'py>(get: &impl Fn(&str) -> PyResult<Option<Bound<'py, PyAny>>>) -> PyResult<Limits> {
    let cpu_time = match (get("cpu_time_limit")?, get("time_limit")?) {
        (Some(_), Some(_)) => {
            return Err(PyTypeError::new_err(
                "cpu_time_limit and time_limit are one limit: give only cpu_time_limit",
            ))
        }
        (Some(v), None) => convert::seconds(Some(&v), "cpu_time_limit")?,
        (None, v) => convert::seconds(v.as_ref(), "time_limit")?,
    };
    let mut limits = Limits::default();
    limits.cpu_time = cpu_time;
    limits.wall_time = convert::seconds(get("wall_time_limit")?.as_ref(), "wall_time_limit")?;
    limits.memory = convert::count(get("memory_limit")?.as_ref(), "memory_limit")?;
    limits.output = convert::count(get("output_limit")?.as_ref(), "output_limit")?;
    limits.processes = convert::count_u32(get("process_limit")?.as_ref(), "process_limit")?;
    limits.cpu_rate = convert::float(get("cpu_rate")?.as_ref(), "cpu_rate")?;
    limits.open_files = convert::count(get("open_files")?.as_ref(), "open_files")?;
    limits.stack = convert::count(get("stack")?.as_ref(), "stack")?;
    limits.address_space =
        convert::count(get("address_space_limit")?.as_ref(), "address_space_limit")?;
    limits.cpu_set = cpu_set(get("cpu_set")?.as_ref())?;
    Ok(limits)
}

/// `cpu_set`: a CPU list such as "0-1,3" (the library parses it: one syntax for
/// every language), or None for every CPU.
fn cpu_set(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<scpool_core::CpuSet>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let list: String = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "cpu_set must be a CPU list such as \"0-1,3\", not {}",
            value
                .get_type()
                .name()
                .map_or("?".into(), |n| n.to_string())
        ))
    })?;
    scpool_core::CpuSet::parse(&list)
        .map(Some)
        .map_err(|e| crate::errors::to_py(value.py(), e))
}

fn seccomp_policy(value: Option<&Bound<'_, PyAny>>) -> PyResult<SeccompPolicy> {
    let Some(value) = value else {
        return Ok(SeccompPolicy::Default);
    };
    // A custom program: the raw bytes of a struct sock_filter array.
    if let Ok(program) = value.extract::<PyBackedBytes>() {
        return SeccompPolicy::custom_from_bytes(&program)
            .map_err(|e| PyValueError::new_err(format!("seccomp: {e}")));
    }
    let name: String = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "seccomp must be {} or the bytes of a BPF program, not {}",
            SeccompPolicy::NAMES,
            convert::type_name(value)
        ))
    })?;
    name.parse()
        .map_err(|e| PyValueError::new_err(format!("{e}, or the bytes of a BPF program")))
}
