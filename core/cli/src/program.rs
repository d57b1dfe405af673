//! Finding PROGRAM on the host.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The search path used when the host has no PATH.
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Resolves a name without '/' against `search_path` (the host's PATH) to the first
/// executable regular file; `None` when there is none. A name with '/' is a path
/// and is returned as is. The container binds the host's system directories at the
/// same paths, so a path found here is valid inside it too.
pub fn resolve(program: &OsStr, search_path: Option<&OsStr>) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let search_path = search_path.unwrap_or(OsStr::new(FALLBACK_PATH));
    std::env::split_paths(search_path)
        // An empty entry means the current directory: never search that implicitly.
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

/// [`resolve`] against this process's PATH.
pub fn resolve_on_host(program: &OsStr) -> Option<PathBuf> {
    resolve(program, std::env::var_os("PATH").as_deref())
}

fn is_executable_file(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_a_slash_are_kept() {
        assert_eq!(
            resolve(OsStr::new("./a.out"), None),
            Some(PathBuf::from("./a.out"))
        );
        assert_eq!(
            resolve(OsStr::new("/bin/sh"), None),
            Some(PathBuf::from("/bin/sh"))
        );
    }

    #[test]
    fn bare_names_are_found_on_the_path() {
        let found = resolve(OsStr::new("sh"), Some(OsStr::new("/nonexistent:/bin")));
        assert_eq!(found, Some(PathBuf::from("/bin/sh")));
    }

    #[test]
    fn unknown_names_are_not_found() {
        let name = OsStr::new("scpool-no-such-program");
        assert_eq!(resolve(name, Some(OsStr::new("/bin:/usr/bin"))), None);
    }

    #[test]
    fn directories_and_relative_entries_are_skipped() {
        // /usr/lib is a directory, not a program; "" and "." mean the current dir.
        let found = resolve(OsStr::new("lib"), Some(OsStr::new("/usr::.")));
        assert_eq!(found, None);
    }
}
