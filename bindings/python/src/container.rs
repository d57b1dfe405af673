//! `scpool.Container`: a container on loan from a pool.

use crate::convert;
use crate::errors;
use crate::files;
use crate::options::{Call, RunOptions};
use crate::owner::Owner;
use crate::result::PyRunResult;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use scpool_core::{Error, OpenCmd, PooledContainer};
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A container on loan from a pool. A context manager that releases it; one call
/// at a time (calls from several threads wait for each other).
#[pyclass(frozen, module = "scpool._scpool", name = "Container")]
pub struct PyContainer {
    /// `None` once released or discarded (or lost, see `lost`).
    container: Mutex<Option<PooledContainer>>,
    /// Copies of the state for the attributes, which must not wait for a call in
    /// progress (they hold the GIL).
    released: AtomicBool,
    broken: AtomicBool,
    /// A call panicked inside the core (or the lock was found poisoned): the
    /// container's state is unknown, so it was discarded, never to be reused, and
    /// every later call raises ContainerBroken.
    lost: AtomicBool,
    init_pid: i32,
    program_ids: (u32, u32),
    owner: Owner,
}

/// Why a call on the container failed.
enum Failure {
    Core(Error),
    Released,
    Lost(String),
}

/// The text of a panic's payload.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Destroys a container whose state is unknown; a second panic there only leaks it.
fn discard_lost(container: PooledContainer) {
    if panic::catch_unwind(AssertUnwindSafe(|| container.discard())).is_err() {
        // Nothing more can be done safely; the pool's count may be off by one.
    }
}

impl PyContainer {
    pub fn new(container: PooledContainer, owner: Owner) -> Self {
        PyContainer {
            init_pid: container.init_pid(),
            program_ids: container.program_ids(),
            container: Mutex::new(Some(container)),
            released: AtomicBool::new(false),
            broken: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            owner,
        }
    }

    /// The container's slot. A poisoned lock means a call panicked while holding it:
    /// the container (whatever its state) is discarded, never reused, and the slot
    /// stays empty with `lost` set.
    fn slot(&self) -> MutexGuard<'_, Option<PooledContainer>> {
        match self.container.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                self.lose(&mut guard);
                self.container.clear_poison();
                guard
            }
        }
    }

    /// Marks the container lost and discards it.
    fn lose(&self, slot: &mut Option<PooledContainer>) {
        self.lost.store(true, Ordering::Relaxed);
        self.broken.store(true, Ordering::Relaxed);
        if let Some(container) = slot.take() {
            discard_lost(container);
        }
    }

    /// Runs `f` on the container without the GIL (so other threads run meanwhile).
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut PooledContainer) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        self.owner.check(py, "container")?;
        let outcome = py.detach(|| {
            let mut slot = self.slot();
            let Some(container) = slot.as_mut() else {
                return Err(if self.lost.load(Ordering::Relaxed) {
                    Failure::Lost("an earlier call failed inside scpool".into())
                } else {
                    Failure::Released
                });
            };
            match panic::catch_unwind(AssertUnwindSafe(|| f(container))) {
                Ok(outcome) => {
                    self.broken.store(container.is_broken(), Ordering::Relaxed);
                    outcome.map_err(Failure::Core)
                }
                Err(payload) => {
                    // Never answer from a container left half-way through a call.
                    self.lose(&mut slot);
                    Err(Failure::Lost(format!(
                        "a call failed inside scpool ({})",
                        panic_text(payload.as_ref())
                    )))
                }
            }
        });
        outcome.map_err(|failure| match failure {
            Failure::Core(e) => errors::to_py(py, e),
            Failure::Released => errors::raise(
                py,
                "ContainerReleased",
                ("the container was released to its pool and cannot be used again",),
            ),
            Failure::Lost(why) => errors::raise(
                py,
                "ContainerBroken",
                (format!(
                    "{why}; the container was discarded and cannot be used again"
                ),),
            ),
        })
    }

    /// Takes the container out (for release or discard), without the GIL.
    fn take(&self, py: Python<'_>, give_back: impl FnOnce(PooledContainer) + Send) {
        if !self.owner.is_current() {
            return;
        }
        py.detach(|| {
            let taken = self.slot().take();
            self.released.store(true, Ordering::Relaxed);
            if let Some(container) = taken {
                give_back(container);
            }
        });
    }
}

#[pymethods]
impl PyContainer {
    /// Runs a program with `stdin` bytes as its input and its stdout and stderr
    /// captured (each capped at `output_limit`, default 64 MiB).
    #[pyo3(signature = (args, **kwargs))]
    fn run(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyRunResult> {
        let param = RunOptions::parse(Call::Run, args, kwargs)?.run_param();
        Ok(PyRunResult::new(py, self.with(py, |c| c.run(&param))?))
    }

    /// The raw call: `files[i]` becomes the program's descriptor i (0-2 default to
    /// /dev/null), `exec_file` runs a descriptor instead of `args[0]`.
    #[pyo3(signature = (args, **kwargs))]
    fn execve(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyRunResult> {
        let options = RunOptions::parse(Call::Execve, args, kwargs)?;
        let result = self.with(py, |c| c.execve(&options.execve_param()))?;
        Ok(PyRunResult::new(py, result))
    }

    /// Opens files inside the container, `[(path, flags[, mode]), ...]`, and returns
    /// them in order as unbuffered binary file objects (a directory as an int
    /// descriptor). All or nothing.
    fn open<'py>(
        &self,
        py: Python<'py>,
        entries: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let cmds = open_cmds(entries)?;
        let opened = self.with(py, |c| c.open(&cmds))?;
        let objects = opened
            .into_iter()
            .zip(&cmds)
            .map(|(file, cmd)| files::to_python(py, file, cmd.flags))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }

    /// Reads a whole regular file from inside the container, at most `max_size`
    /// bytes (None: the container's default, the larger size cap of /w and /tmp).
    /// A FIFO, socket, device or directory raises NotRegularFileError at once; a
    /// larger file raises FileTooLargeError.
    #[pyo3(signature = (path, max_size=None))]
    fn read_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        max_size: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let path = PathBuf::from(convert::os_string(path, "path")?);
        let data = self.with(py, |c| match max_size {
            None => c.read_file(&path),
            Some(max) => c.read_file_max(&path, max),
        })?;
        Ok(PyBytes::new(py, &data))
    }

    /// Writes a file inside the container (created, owned by the program's user, or
    /// truncated) with exactly the permission bits `mode`.
    #[pyo3(signature = (path, data, mode=0o644))]
    fn write_file(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        mode: u32,
    ) -> PyResult<()> {
        let path = PathBuf::from(convert::os_string(path, "path")?);
        let data = convert::bytes(data, "data")?;
        self.with(py, |c| c.write_file_mode(&path, &data, mode))
    }

    /// Makes a directory inside the container with exactly `mode`, owned by the
    /// program's user; its parent must exist and be writable by the program.
    #[pyo3(signature = (path, mode=0o755))]
    fn mkdir(&self, py: Python<'_>, path: &Bound<'_, PyAny>, mode: u32) -> PyResult<()> {
        let path = PathBuf::from(convert::os_string(path, "path")?);
        self.with(py, |c| c.mkdir(&path, mode))
    }

    /// Makes the symbolic link `link` inside the container, pointing at `target`,
    /// owned by the program's user. `target` is stored as given, never resolved
    /// here (the kernel resolves it inside the container when the program follows
    /// the link). The link's parent must exist and be writable by the program, no
    /// component of `link` may be a symlink, and an entry already at `link` is not
    /// replaced (`scpool.OpenError`, errno EEXIST).
    fn symlink(
        &self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        link: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let target = PathBuf::from(convert::os_string(target, "target")?);
        let link = PathBuf::from(convert::os_string(link, "link")?);
        self.with(py, |c| c.symlink(&target, &link))
    }

    /// Lists a directory inside the container, sorted by name: a list of
    /// `(name, kind, size, mode)` where kind is "file", "directory", "symlink",
    /// "fifo", "socket", "char_device" or "block_device" (links are not followed).
    fn listdir(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<(std::ffi::OsString, &'static str, u64, u32)>> {
        let path = PathBuf::from(convert::os_string(path, "path")?);
        let entries = self.with(py, |c| c.list_dir(&path))?;
        Ok(entries
            .into_iter()
            .map(|e| (e.name, kind_name(e.kind), e.size, e.mode))
            .collect())
    }

    /// Copies the host directory `host_dir` into `container_dir` (made if missing);
    /// returns `(entries, bytes)` copied. Symlinks are copied as links and must stay
    /// inside the tree, special files are refused, nothing is overwritten, and
    /// nothing is written unless the tree fits `max_bytes` and `max_entries` (None:
    /// the container's read maximum and 10000).
    #[pyo3(signature = (host_dir, container_dir, max_bytes=None, max_entries=None))]
    fn copy_in(
        &self,
        py: Python<'_>,
        host_dir: &Bound<'_, PyAny>,
        container_dir: &Bound<'_, PyAny>,
        max_bytes: Option<u64>,
        max_entries: Option<u64>,
    ) -> PyResult<(u64, u64)> {
        let host_dir = PathBuf::from(convert::os_string(host_dir, "host_dir")?);
        let container_dir = PathBuf::from(convert::os_string(container_dir, "container_dir")?);
        let copied = self.with(py, |c| {
            let limits = tree_limits(c.default_tree_limits(), max_bytes, max_entries);
            c.copy_in(&host_dir, &container_dir, &limits)
        })?;
        Ok((copied.entries, copied.bytes))
    }

    /// Copies the container directory `container_dir` to `host_dir` (made if
    /// missing) under the rules of `copy_in`; files keep their permission bits
    /// without set-id bits.
    #[pyo3(signature = (container_dir, host_dir, max_bytes=None, max_entries=None))]
    fn copy_out(
        &self,
        py: Python<'_>,
        container_dir: &Bound<'_, PyAny>,
        host_dir: &Bound<'_, PyAny>,
        max_bytes: Option<u64>,
        max_entries: Option<u64>,
    ) -> PyResult<(u64, u64)> {
        let container_dir = PathBuf::from(convert::os_string(container_dir, "container_dir")?);
        let host_dir = PathBuf::from(convert::os_string(host_dir, "host_dir")?);
        let copied = self.with(py, |c| {
            let limits = tree_limits(c.default_tree_limits(), max_bytes, max_entries);
            c.copy_out(&container_dir, &host_dir, &limits)
        })?;
        Ok((copied.entries, copied.bytes))
    }

    /// Checks that the container's init answers.
    fn ping(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |c| c.ping())
    }

    /// Kills every process of earlier runs, empties /w and /tmp. Releasing does it
    /// too, off your path.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |c| c.reset())
    }

    /// Gives the container back to its pool (reset there, off your path).
    /// Idempotent.
    fn release(&self, py: Python<'_>) {
        self.take(py, PooledContainer::release);
    }

    /// Destroys the container instead of reusing it; the pool makes a new one.
    fn discard(&self, py: Python<'_>) {
        self.take(py, PooledContainer::discard);
    }

    /// Testing aid: a call that panics inside the binding, as a core bug would.
    #[doc(hidden)]
    fn _panic_for_test(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |_| -> Result<(), Error> { panic!("scpool test panic") })
    }

    /// True once released or discarded.
    #[getter]
    fn released(&self) -> bool {
        self.released.load(Ordering::Relaxed)
    }

    /// True when the container's init died or misbehaved (or a call failed inside
    /// scpool and the container was discarded): release it. Checked now (the
    /// init's death is seen without asking it) unless a call is in progress, whose
    /// end updates it: this never waits.
    #[getter]
    fn broken(&self) -> bool {
        if let Ok(slot) = self.container.try_lock() {
            if let Some(container) = slot.as_ref() {
                self.broken.store(container.is_broken(), Ordering::Relaxed);
            }
        }
        !self.released() && self.broken.load(Ordering::Relaxed)
    }

    /// `(uid, gid)` the container's programs run as, as the host sees them: ids of
    /// the container's own from the pool's `id_range` unless `uid`/`gid` fix them.
    #[getter]
    fn program_ids(&self) -> (u32, u32) {
        self.program_ids
    }

    /// Host pid of the container's init.
    #[getter]
    fn init_pid(&self) -> i32 {
        self.init_pid
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> bool {
        self.release(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.released() {
            "released"
        } else if self.broken() {
            "broken"
        } else {
            "in use"
        };
        format!("<scpool.Container init_pid={} {state}>", self.init_pid)
    }
}

impl Drop for PyContainer {
    fn drop(&mut self) {
        let poisoned = self.container.is_poisoned();
        let slot = self.container.get_mut().unwrap_or_else(|p| p.into_inner());
        if !self.owner.is_current() {
            // In a forked child the pool's lock may be held by a thread that does
            // not exist here: never touch it.
            if let Some(container) = slot.take() {
                std::mem::forget(container);
            }
        } else if poisoned {
            // A call panicked with the container in an unknown state: never reuse it.
            if let Some(container) = slot.take() {
                discard_lost(container);
            }
        }
        // Otherwise, in the owner, dropping releases the container.
    }
}

/// `[(path, flags[, mode]), ...]` as open commands.
fn open_cmds(entries: &Bound<'_, PyAny>) -> PyResult<Vec<OpenCmd>> {
    let items = entries
        .try_iter()
        .map_err(|_| PyTypeError::new_err("open() takes a list of (path, flags[, mode]) tuples"))?;
    let mut cmds = Vec::new();
    for (i, item) in items.enumerate() {
        let item = item?;
        let what = format!("open entry {i}");
        let tuple = item.cast::<PyTuple>().map_err(|_| {
            PyTypeError::new_err(format!("{what} must be a (path, flags[, mode]) tuple"))
        })?;
        if !(2..=3).contains(&tuple.len()) {
            return Err(PyValueError::new_err(format!(
                "{what} must be a (path, flags[, mode]) tuple"
            )));
        }
        let path = PathBuf::from(convert::os_string(&tuple.get_item(0)?, &what)?);
        let flags = convert::count_u32(Some(&tuple.get_item(1)?), "open flags")?.unwrap_or(0);
        let flags = i32::try_from(flags)
            .map_err(|_| PyValueError::new_err(format!("{what}: flags {flags} out of range")))?;
        let mode = match tuple.get_item(2) {
            Ok(mode) => convert::count_u32(Some(&mode), "open mode")?.unwrap_or(0o644),
            Err(_) => 0o644,
        };
        cmds.push(OpenCmd::new(path, flags, mode));
    }
    Ok(cmds)
}

/// The name of a file kind as `listdir` reports it.
fn kind_name(kind: scpool_core::FileKind) -> &'static str {
    use scpool_core::FileKind as K;
    match kind {
        K::File => "file",
        K::Directory => "directory",
        K::Symlink => "symlink",
        K::Fifo => "fifo",
        K::Socket => "socket",
        K::CharDevice => "char_device",
        K::BlockDevice => "block_device",
    }
}

/// The caller's caps of a tree copy, the container's defaults where None.
fn tree_limits(
    default: scpool_core::TreeLimits,
    max_bytes: Option<u64>,
    max_entries: Option<u64>,
) -> scpool_core::TreeLimits {
    scpool_core::TreeLimits::new(
        max_bytes.unwrap_or(default.max_bytes),
        max_entries.unwrap_or(default.max_entries),
    )
}
