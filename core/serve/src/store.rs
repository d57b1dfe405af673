//! The file store: files uploaded with `POST /file` or kept by `copyOutCached`,
//! held in this process's memory. Each instance owns its own (two services never
//! share or delete each other's files) and it is gone when the process ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// One stored file: the name it was given and its bytes.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub name: String,
    pub data: Arc<Vec<u8>>,
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
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
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
        let file = StoredFile {
            name: name.to_owned(),
            data: Arc::new(data),
        };
        inner.files.insert(id.clone(), file);
        Ok(id)
    }

    pub fn get(&self, id: &str) -> Option<StoredFile> {
        self.lock().files.get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut inner = self.lock();
        match inner.files.remove(id) {
            Some(file) => {
                inner.used -= file.data.len() as u64;
                true
            }
            None => false,
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

    #[test]
    fn ids_are_distinct() {
        let a = new_id();
        assert_eq!(a.len(), 20);
        assert_ne!(a, new_id());
    }
}
