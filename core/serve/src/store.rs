//! The file store: files uploaded with `POST /file` or kept by `copyOutCached`,
//! held in this process's memory. Each instance owns its own (two services never
//! share or delete each other's files) and it is gone when the process ends.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError};

/// One stored file: the name it was given and its bytes.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub name: String,
    pub data: Arc<Vec<u8>>,
    /// Its sealed executable copy, made the first time it runs as a program and
    /// shared by every later run of it (see `FileStore::program`).
    program: Arc<Mutex<Option<Arc<OwnedFd>>>>,
}

impl StoredFile {
    fn new(name: &str, data: Vec<u8>) -> Self {
        Self {
            name: name.to_owned(),
            data: Arc::new(data),
            program: Arc::default(),
        }
    }

    /// Whether the program copy exists (it is charged to the store).
    fn has_program(&self) -> bool {
        lock(&self.program).is_some()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, PartialEq, Eq)]
pub struct StoreFull {
    pub needed: u64,
    pub used: u64,
    pub max: u64,
}

impl std::fmt::Display for StoreFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "file store is full: {} more bytes do not fit ({} of {} bytes used; delete files with DELETE /file/ID or raise --file-store-max)",
            self.needed, self.used, self.max
        )
    }
}

pub struct FileStore {
    max: u64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, StoredFile>,
    used: u64,
}

impl FileStore {
    pub fn new(max: u64) -> Self {
        Self {
            max,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Stores `data` under a new id, unless it would take the store past its maximum.
    pub fn add(&self, name: &str, data: Vec<u8>) -> Result<String, StoreFull> {
        let needed = data.len() as u64;
        let mut inner = self.lock();
        if inner.used.saturating_add(needed) > self.max {
            return Err(StoreFull {
                needed,
                used: inner.used,
                max: self.max,
            });
        }
        let id = loop {
            let id = new_id();
            if !inner.files.contains_key(&id) {
                break id;
            }
        };
        inner.used += needed;
        inner.files.insert(id.clone(), StoredFile::new(name, data));
        Ok(id)
    }

    pub fn get(&self, id: &str) -> Option<StoredFile> {
        self.lock().files.get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> bool {
        // Out first, then its program copy's state: `program` takes the copy's lock
        // before the store's, never the other way round.
        let Some(file) = self.lock().files.remove(id) else {
            return false;
        };
        let copies = if file.has_program() { 2 } else { 1 };
        self.lock().used -= copies * file.data.len() as u64;
        true
    }

    /// `file` as a sealed executable memfd to run it from, made once and kept while
    /// the file is stored, so that a program run by fileId is not written into each
    /// container. `None` when it is no ELF binary (a `#!` script cannot run from a
    /// descriptor), when its copy does not fit in the store (the copy counts against
    /// `--file-store-max`), or when the memfd cannot be made: the caller then
    /// copies the program in.
    pub fn program(&self, file: &StoredFile) -> Option<Arc<OwnedFd>> {
        if !file.data.starts_with(b"\x7fELF") {
            return None;
        }
        let mut program = lock(&file.program);
        if let Some(fd) = &*program {
            return Some(fd.clone());
        }
        let needed = file.data.len() as u64;
        {
            let mut inner = self.lock();
            // Charged only while the file is still stored: `remove` frees the charge.
            let stored = inner
                .files
                .values()
                .any(|f| Arc::ptr_eq(&f.program, &file.program));
            if !stored || inner.used.saturating_add(needed) > self.max {
                return None;
            }
            inner.used += needed;
        }
        match scpool_core::program_memfd(&file.data) {
            Ok(fd) => Some(program.insert(Arc::new(fd)).clone()),
            Err(_) => {
                self.lock().used -= needed;
                None
            }
        }
    }

    /// Every id with its file's name.
    pub fn list(&self) -> HashMap<String, String> {
        let inner = self.lock();
        inner
            .files
            .iter()
            .map(|(id, f)| (id.clone(), f.name.clone()))
            .collect()
    }

    /// Bytes held and files stored.
    pub fn usage(&self) -> (u64, usize) {
        let inner = self.lock();
        (inner.used, inner.files.len())
    }
}

/// 20 characters of base32 from the kernel's random source: ids cannot be guessed,
/// so one client cannot read another's files by counting.
fn new_id() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = [0u8; 20];
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: the pointer and length name the unfilled tail of `bytes`.
        let n = unsafe {
            libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0)
        };
        if n > 0 {
            filled += n as usize;
        } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            // getrandom(2) fails otherwise only before the kernel's pool is ready at boot.
            panic!("getrandom failed: {}", std::io::Error::last_os_error());
        }
    }
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_refuses_a_file_and_frees_space_on_delete() {
        let store = FileStore::new(10);
        let a = store.add("a", vec![1; 6]).unwrap();
        let full = store.add("b", vec![2; 5]).unwrap_err();
        assert_eq!(
            full,
            StoreFull {
                needed: 5,
                used: 6,
                max: 10
            }
        );
        assert!(full.to_string().contains("file store is full"));
        assert!(store.remove(&a));
        assert!(!store.remove(&a));
        let b = store.add("b", vec![2; 5]).unwrap();
        assert_eq!(store.get(&b).unwrap().data.as_slice(), &[2; 5]);
        assert_eq!(store.list().get(&b).map(String::as_str), Some("b"));
        assert_eq!(store.usage(), (5, 1));
    }

    fn elf(len: usize) -> Vec<u8> {
        let mut data = b"\x7fELF".to_vec();
        data.resize(len, 0);
        data
    }

    #[test]
    fn a_program_copy_is_made_once_charged_to_the_store_and_freed_with_the_file() {
        let store = FileStore::new(100);
        let id = store.add("a", elf(30)).unwrap();
        let file = store.get(&id).unwrap();
        let first = store.program(&file).unwrap();
        let again = store.program(&store.get(&id).unwrap()).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(store.usage(), (60, 1));
        assert!(store.remove(&id));
        assert_eq!(store.usage(), (0, 0));
        // A request still holding a deleted file keeps its copy; a file no longer
        // stored gets none made (nothing could free its charge).
        assert!(store.program(&file).is_some());
        let other = store.add("b", elf(30)).unwrap();
        assert!(store.remove(&other));
        let late = StoredFile::new("c", elf(30));
        assert!(store.program(&late).is_none());
        assert_eq!(store.usage(), (0, 0));
    }

    #[test]
    fn no_program_copy_for_a_script_or_when_the_store_is_full() {
        let store = FileStore::new(100);
        let script = store.add("s", b"#!/bin/sh\n".to_vec()).unwrap();
        assert!(store.program(&store.get(&script).unwrap()).is_none());
        let big = store.add("big", elf(60)).unwrap();
        assert!(store.program(&store.get(&big).unwrap()).is_none());
        assert_eq!(store.usage(), (70, 2));
    }

    #[test]
    fn ids_are_distinct() {
        let a = new_id();
        assert_eq!(a.len(), 20);
        assert_ne!(a, new_id());
    }
}
