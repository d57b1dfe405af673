//! A cgroup control file held open: one pread or pwrite per access, no path lookup.
//! Every access retries EINTR (see [`crate::eintr`]).

use crate::eintr::retry;
use crate::error::doing;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub(crate) struct Knob {
    file: File,
    name: &'static str,
}

impl Knob {
    pub fn open(dir: &Path, name: &'static str, write: bool) -> io::Result<Self> {
        let path = dir.join(name);
        let file = retry(|| OpenOptions::new().read(true).write(write).open(&path))
            .map_err(|e| doing(path.display().to_string(), e))?;
        Ok(Self { file, name })
    }

    /// Opens the file if it exists (optional features such as memsw).
    pub fn open_optional(dir: &Path, name: &'static str, write: bool) -> io::Result<Option<Self>> {
        match Self::open(dir, name, write) {
            Ok(knob) => Ok(Some(knob)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn text(&self) -> io::Result<String> {
        let mut buf = vec![0u8; 4096];
        let n = retry(|| self.file.read_at(&mut buf, 0))?;
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
        retry(|| self.file.write_at(value.as_bytes(), 0))
            .map(drop)
            .map_err(|e| doing(format!("writing {value:?} to {}", self.name), e))
    }
}
