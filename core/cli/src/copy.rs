//! --copy-in and --copy-out: files between the host and the container.

use crate::commands::run::{CopyIn, CopyOut};
use crate::error::CliError;
use scpool_core::{Container, OpenCmd};
use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt;

/// Copies a host file into the container, keeping its permission bits (so a
/// compiled program stays executable).
pub fn copy_in(container: &mut Container, copy: &CopyIn) -> Result<(), CliError> {
    let what = format!(
        "--copy-in {}:{}",
        copy.host.display(),
        copy.container.display()
    );
    let failed = |e: &dyn std::fmt::Display| CliError::runtime(format!("{what}: {e}"));
    let mut source = File::open(&copy.host).map_err(|e| failed(&e))?;
    let meta = source.metadata().map_err(|e| failed(&e))?;
    if !meta.is_file() {
        return Err(failed(&"not a regular file"));
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    let mode = meta.permissions().mode() & 0o777;
    let mut target = open_one(container, OpenCmd::new(&copy.container, flags, mode), &what)?;
    io::copy(&mut source, &mut target).map_err(|e| failed(&e))?;
    Ok(())
}

/// Copies a regular file from the container to the host, at most the container's
/// read maximum (a larger file is an error and leaves no host file behind).
pub fn copy_out(container: &mut Container, copy: &CopyOut) -> Result<(), CliError> {
    let what = format!(
        "--copy-out {}:{}",
        copy.container.display(),
        copy.host.display()
    );
    let failed = |e: &dyn std::fmt::Display| CliError::runtime(format!("{what}: {e}"));
    let mut target = File::create(&copy.host).map_err(|e| failed(&e))?;
    let max = container.default_tree_limits().max_bytes;
    if let Err(e) = container.read_file_into(&copy.container, &mut target, max) {
        drop(target);
        let _ = std::fs::remove_file(&copy.host);
        return Err(CliError::from_core(&what, e));
    }
    Ok(())
}

/// Opens one file inside the container.
fn open_one(container: &mut Container, cmd: OpenCmd, what: &str) -> Result<File, CliError> {
    container
        .open(&[cmd])
        .map_err(|e| CliError::from_core(what, e))?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::runtime(format!("{what}: the container returned no file")))
}
