//! The parts of copyIn that are not file contents: the directories above an
//! entry, and `{"symlink": target}` entries, made after every file is in (as
//! go-judge does), so a link may point at a file of the same request.

use crate::model::{FileError, FileErrorKind};
use scpool_core::{Container, Error};
use std::path::{Path, PathBuf};

/// go-judge's paths are relative to the working directory, /w here.
pub fn in_container(path: &str) -> PathBuf {
    Path::new("/w").join(path.trim_start_matches("./"))
}

/// Makes the directories above `target` (a container path) that are missing, as
/// the program's; /w and /tmp are there already.
pub fn make_parents(c: &mut Container, target: &Path) -> Result<(), Error> {
    let mut parent = PathBuf::from("/");
    let components: Vec<_> = target.components().collect();
    for part in &components[1..components.len().saturating_sub(1)] {
        parent.push(part);
        if parent == Path::new("/w") || parent == Path::new("/tmp") {
            continue;
        }
        match c.mkdir(&parent, 0o755) {
            Ok(()) => {}
            Err(Error::Open { errno, .. }) if errno == libc::EEXIST => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Makes each link (path in the work dir, target as given): every failure is a
/// `Symlink` file error, with go-judge's wording of which link it was.
pub fn make_symlinks(c: &mut Container, links: &[(String, String)]) -> Vec<FileError> {
    let mut errors = Vec::new();
    for (path, target) in links {
        let link = in_container(path);
        let made = make_parents(c, &link).and_then(|()| c.symlink(target, &link));
        if let Err(e) = made {
            errors.push(FileError {
                name: path.clone(),
                kind: FileErrorKind::Symlink,
                message: format!("symlink: {path:?} -> {target:?}: {e}"),
            });
        }
    }
    errors
}
