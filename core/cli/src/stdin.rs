//! What the program reads on its standard input.

use crate::error::CliError;
use std::fs::File;
use std::io::Seek;
use std::path::Path;

/// Opens the program's stdin on the host: `/dev/null` when no file is given; a
/// regular file as is (read-only); anything else (a pipe, a terminal, /dev/stdin)
/// read into a sealed in-memory copy, so no host stream or terminal reaches the
/// program.
pub fn open(path: Option<&Path>) -> Result<File, CliError> {
    let Some(path) = path else {
        return File::open("/dev/null")
            .map_err(|e| CliError::runtime(format!("opening /dev/null: {e}")));
    };
    let failed =
        |e: &dyn std::fmt::Display| CliError::runtime(format!("--stdin {}: {e}", path.display()));
    let file = File::open(path).map_err(|e| failed(&e))?;
    if file.metadata().map_err(|e| failed(&e))?.is_file() {
        return Ok(file);
    }
    drop(file);
    let mut copy = File::from(scpool_core::memfd_copy_of(path).map_err(|e| failed(&e))?);
    copy.rewind().map_err(|e| failed(&e))?;
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn no_file_means_dev_null() {
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
