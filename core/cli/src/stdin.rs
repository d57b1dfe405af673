//! What the program reads on its standard input.

use crate::error::CliError;
use std::fs::File;
use std::path::Path;

/// The most `--stdin` may hold: it is copied into memory (1 GiB).
pub const STDIN_LIMIT: u64 = 1 << 30;

/// The program's stdin: a sealed in-memory copy of FILE (a regular file, a pipe,
/// /dev/stdin...), empty when no file is given. Never a descriptor of a host file:
/// a program could reopen that through /proc/self/fd/0 for writing, and its link
/// names the host path.
pub fn open(path: Option<&Path>) -> Result<File, CliError> {
    let Some(path) = path else {
        return scpool_core::sealed_memfd(b"")
            .map(File::from)
            .map_err(|e| CliError::from_core("preparing an empty stdin", e));
    };
    let what = format!("--stdin {}", path.display());
    let source = File::open(path).map_err(|e| CliError::runtime(format!("{what}: {e}")))?;
    scpool_core::sealed_memfd_from_reader(source, STDIN_LIMIT)
        .map(File::from)
        .map_err(|e| CliError::from_core(&what, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn no_file_means_empty_input() {
        let mut data = Vec::new();
        open(None).unwrap().read_to_end(&mut data).unwrap();
        assert!(data.is_empty());
    }

    #[test]
    fn missing_file_is_a_runtime_error() {
        let err = open(Some(Path::new("/nonexistent/scpool-stdin"))).unwrap_err();
        assert_eq!(err.exit_code, crate::error::EXIT_RUNTIME);
        assert!(err
            .message
            .starts_with("--stdin /nonexistent/scpool-stdin: "));
    }
}
