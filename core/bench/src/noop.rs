//! The static no-op program the benchmark runs, compiled into a fresh temporary
//! directory that is removed again when the value is dropped.

use crate::error::BenchError;
use std::fs::{self, DirBuilder};
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

const SOURCE: &str = "int main(void){return 0;}\n";

/// Without the C runtime's start-up: 9 KB instead of 760 KB, so that copying it into a
/// container (`scpool run --host-exec`) costs next to nothing and whole commands
/// compare the sandboxes, not the copy.
const TINY_SOURCE: &str = "#include <unistd.h>\nvoid _start(void){_exit(0);}\n";

pub struct NoopProgram {
    dir: PathBuf,
    path: PathBuf,
}

impl NoopProgram {
    /// Compiles the no-op with `cc -static -O2`.
    pub fn build() -> Result<Self, BenchError> {
        Self::compile(SOURCE, &[])
    }

    /// Compiles a no-op without the C runtime's start-up (`-nostartfiles`).
    pub fn build_tiny() -> Result<Self, BenchError> {
        Self::compile(TINY_SOURCE, &["-nostartfiles"])
    }

    fn compile(source_text: &str, flags: &[&str]) -> Result<Self, BenchError> {
        let dir = create_temp_dir()?;
        // From here on, dropping `program` removes the directory, on error too.
        let program = Self {
            path: dir.join("noop"),
            dir,
        };
        let source = program.dir.join("noop.c");
        fs::write(&source, source_text)
            .map_err(|e| BenchError::runtime(format!("writing {}: {e}", source.display())))?;
        let output = Command::new("cc")
            .args(["-static", "-O2"])
            .args(flags)
            .arg("-o")
            .arg(&program.path)
            .arg(&source)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| BenchError::runtime(format!("cannot run cc to build the no-op: {e}")))?;
        if !output.status.success() {
            return Err(BenchError::runtime(format!(
                "cc -static failed to build the no-op ({}); a static C library is needed \
                 (e.g. libc6-dev or glibc-static):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            )));
        }
        Ok(program)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for NoopProgram {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A new directory only we can use, under the system's temporary directory.
fn create_temp_dir() -> Result<PathBuf, BenchError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "scpool-bench-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(BenchError::runtime(format!(
                    "creating a directory in {}: {e}",
                    base.display()
                )))
            }
        }
    }
    Err(BenchError::runtime(format!(
        "no unused directory name in {}",
        base.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_fresh_and_private() {
        let a = create_temp_dir().unwrap();
        let b = create_temp_dir().unwrap();
        assert_ne!(a, b);
        let mode = std::os::unix::fs::PermissionsExt::mode(&a.metadata().unwrap().permissions());
        assert_eq!(mode & 0o777, 0o700);
        fs::remove_dir(&a).unwrap();
        fs::remove_dir(&b).unwrap();
    }
}
