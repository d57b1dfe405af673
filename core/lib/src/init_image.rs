//! The container init, embedded in the library, so a lone libscpool.so or Python
//! wheel needs no other file, and the init runs whatever the container's root holds
//! (it is linked statically).
//!
//! A root host starts it from a read-only copy in /run/scpool (`init-<digest>`,
//! made once per build, owned by root in a directory only root can write; the
//! copies of a few other builds stay, for hosts that run several):
//! copying 1.2 MB into a memfd costs ~0.45 ms, which every `scpool run` would pay.
//! Other hosts, or a copy that cannot be made or trusted, use a sealed memfd.

use crate::memfile;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static IMAGE: &[u8] = include_bytes!(env!("SCPOOL_INIT_PATH"));
const DIGEST: &str = env!("SCPOOL_INIT_HASH");
const CACHE_DIR: &str = "/run/scpool";

/// The descriptor is kept at 10 or above so the init's spawn can place its own
/// descriptors at 0-3 without clobbering it.
static IMAGE_FD: OnceLock<Result<OwnedFd, String>> = OnceLock::new();

/// The init image, ready for execveat, opened on first use.
pub(crate) fn fd() -> io::Result<BorrowedFd<'static>> {
    let made = IMAGE_FD.get_or_init(|| {
        let fd = match cached_copy() {
            Some(file) => OwnedFd::from(file),
            None => memfile::sealed_executable("scpool-init", IMAGE).map_err(|e| e.to_string())?,
        };
        let high = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
            .map_err(|e| e.to_string())?;
        // SAFETY: F_DUPFD_CLOEXEC returned a fresh descriptor that we own.
        Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(high) })
    });
    match made {
        Ok(fd) => Ok(fd.as_fd()),
        Err(msg) => Err(io::Error::other(format!(
            "cannot load the container init: {msg}"
        ))),
    }
}

/// The cached copy of this build's image, made if missing; `None` when not root or
/// when the directory or the file is not as only root could have made it.
fn cached_copy() -> Option<File> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let dir = Path::new(CACHE_DIR);
    match std::fs::create_dir(dir) {
        Ok(()) => std::fs::set_permissions(dir, PermissionsExt::from_mode(0o755)).ok()?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    let meta = std::fs::symlink_metadata(dir).ok()?;
    if !meta.is_dir() || meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return None;
    }
    let path = dir.join(format!("init-{DIGEST}"));
    if let Some(file) = open_trusted(&path) {
        return Some(file);
    }
    write_copy(&path).ok()?;
    remove_other_builds(dir);
    open_trusted(&path)
}

/// Other builds' copies kept when this build makes its own: a host may run several
/// builds at once (a Python wheel beside the CLI, two versions during an upgrade),
/// and removing each other's copies would make them take turns re-making theirs.
const OTHER_BUILDS_KEPT: usize = 7;

/// Removes all but the newest [`OTHER_BUILDS_KEPT`] other builds' copies when this
/// build makes its own, so that upgrades do not pile them up (/run need not be a
/// tmpfs). A process that has one open keeps it; one that has not yet makes its
/// own again.
fn remove_other_builds(dir: &Path) {
    let ours = format!("init-{DIGEST}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut others: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|entry| {
            entry.file_name().to_str().is_some_and(|name| {
                name.starts_with("init-") && name != ours && !name.ends_with(".tmp")
            })
        })
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    others.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in others.into_iter().skip(OTHER_BUILDS_KEPT) {
        let _ = std::fs::remove_file(path);
    }
}

/// Opens the copy if it is a root-owned regular file without write permission and
/// of the image's size (written whole, then renamed into place).
fn open_trusted(path: &Path) -> Option<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let trusted = meta.is_file()
        && meta.uid() == 0
        && meta.mode() & 0o222 == 0
        && meta.len() == IMAGE.len() as u64;
    trusted.then_some(file)
}

/// Writes the image beside `path` and renames it into place, so no process ever
/// opens a partial copy.
fn write_copy(path: &Path) -> io::Result<()> {
    let temp = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o500)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)?;
        file.write_all(IMAGE)?;
        file.set_permissions(PermissionsExt::from_mode(0o555))?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn temp_file(name: &str, data: &[u8], mode: u32) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "scpool-init-image-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, data).unwrap();
        std::fs::set_permissions(&path, PermissionsExt::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn only_a_read_only_root_copy_of_the_right_size_is_trusted() {
        if !nix::unistd::geteuid().is_root() {
            return; // Ownership checks need root-made files.
        }
        let good = temp_file("good", IMAGE, 0o555);
        assert!(open_trusted(&good).is_some());
        let writable = temp_file("writable", IMAGE, 0o755);
        assert!(open_trusted(&writable).is_none(), "a writable copy");
        let short = temp_file("short", &IMAGE[..IMAGE.len() / 2], 0o555);
        assert!(open_trusted(&short).is_none(), "a partial copy");
        let link = good.with_extension("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&good, &link).unwrap();
        assert!(open_trusted(&link).is_none(), "a symbolic link");
        for path in [good, writable, short, link] {
            std::fs::remove_file(path).unwrap();
        }
    }

    #[test]
    fn making_a_copy_removes_only_the_oldest_other_builds_copies() {
        let dir = std::env::temp_dir().join(format!(
            "scpool-init-image-test-{}-builds",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let ours = format!("init-{DIGEST}");
        for name in [ours.as_str(), "init-feed.42.tmp", "ids.lock"] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        // Other builds' copies, made an hour apart: the oldest two must go.
        let now = std::time::SystemTime::now();
        let others: Vec<String> = (0..OTHER_BUILDS_KEPT + 2)
            .map(|age| format!("init-{age:016x}"))
            .collect();
        for (age, name) in others.iter().enumerate() {
            let file = File::create(dir.join(name)).unwrap();
            let hours = std::time::Duration::from_secs(3600 * age as u64);
            file.set_modified(now - hours).unwrap();
        }
        remove_other_builds(&dir);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut expected = vec!["ids.lock".to_string(), "init-feed.42.tmp".into(), ours];
        expected.extend(others.into_iter().take(OTHER_BUILDS_KEPT));
        expected.sort();
        assert_eq!(left, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_root_host_runs_the_image_from_its_cached_copy() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let mut file = cached_copy().expect("a cached copy");
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        assert!(content == IMAGE, "the copy differs from the image");
        let meta = file.metadata().unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o555));
    }
}
