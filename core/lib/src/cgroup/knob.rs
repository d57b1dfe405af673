//! A cgroup control file, opened when a run first touches it and closed when the run
//! ends (see [`Knob::close`]): an idle container holds no cgroup descriptor, so a
//! pool of hundreds fits the usual descriptor limit. Within a run each access is
//! one pread or pwrite, no path lookup. Every access retries EINTR (see
//! [`crate::eintr`]).

use crate::eintr::retry;
use crate::error::doing;
use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub(crate) struct Knob {
    path: PathBuf,
    name: &'static str,
    write: bool,
    /// Open between the first access of a run and [`Knob::close`].
    file: Cell<Option<File>>,
}

impl Knob {
    /// Checks that the file can be opened as asked; it is opened again on use.
    pub fn open(dir: &Path, name: &'static str, write: bool) -> io::Result<Self> {
        let knob = Self {
            path: dir.join(name),
            name,
            write,
            file: Cell::new(None),
        };
        drop(knob.open_file()?);
        Ok(knob)
    }

    /// Opens the file if it exists (optional features such as memsw).
    pub fn open_optional(dir: &Path, name: &'static str, write: bool) -> io::Result<Option<Self>> {
        match Self::open(dir, name, write) {
            Ok(knob) => Ok(Some(knob)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn open_file(&self) -> io::Result<File> {
        retry(|| {
            OpenOptions::new()
                .read(true)
                .write(self.write)
                .open(&self.path)
        })
        .map_err(|e| doing(self.path.display().to_string(), e))
    }

    /// Calls `access` with the file, opening it first if the run has not yet.
    fn with_file<T>(&self, access: impl FnOnce(&File) -> io::Result<T>) -> io::Result<T> {
        let file = match self.file.take() {
            Some(file) => file,
            None => self.open_file()?,
        };
        let result = access(&file);
        self.file.set(Some(file));
        result
    }

    /// Closes the file until the next access.
    pub fn close(&self) {
        drop(self.file.take());
    }

    pub fn text(&self) -> io::Result<String> {
        let mut buf = vec![0u8; 4096];
        let n = self.with_file(|file| retry(|| file.read_at(&mut buf, 0)))?;
        buf.truncate(n);
        String::from_utf8(buf).map_err(|_| io::Error::other(format!("{} is not text", self.name)))
    }

    pub fn number(&self) -> io::Result<u64> {
        let text = self.text()?;
        text.trim()
            .parse()
            .map_err(|_| io::Error::other(format!("{}: not a number: {text:?}", self.name)))
    }

    /// The value of `key` in a "key value" per line file (cpu.stat, memory.events).
    pub fn field(&self, key: &str) -> io::Result<u64> {
        let text = self.text()?;
        text.lines()
            .filter_map(|line| line.split_once(' '))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse().ok())
            .ok_or_else(|| io::Error::other(format!("{} has no {key}", self.name)))
    }

    pub fn write(&self, value: &str) -> io::Result<()> {
        self.with_file(|file| retry(|| file.write_at(value.as_bytes(), 0)))
            .map(drop)
            .map_err(|e| doing(format!("writing {value:?} to {}", self.name), e))
    }
}
