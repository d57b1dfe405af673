//! --copy-in and --copy-out: files between the host and the container.

use crate::args::{CopyIn, CopyOut};
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

/// Copies a regular file from the container to the host.
pub fn copy_out(container: &mut Container, copy: &CopyOut) -> Result<(), CliError> {
    let what = format!(
        "--copy-out {}:{}",
        copy.container.display(),
        copy.host.display()
    );
    let failed = |e: &dyn std::fmt::Display| CliError::runtime(format!("{what}: {e}"));
    // The program may have left a FIFO (whose open would block), a symlink or a
    // device there: open without blocking or following, then insist on a file.
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
    let mut source = open_one(container, OpenCmd::new(&copy.container, flags, 0), &what)?;
    if !source.metadata().map_err(|e| failed(&e))?.is_file() {
        return Err(failed(&"not a regular file in the container"));
    }
    let mut target = File::create(&copy.host).map_err(|e| failed(&e))?;
    io::copy(&mut source, &mut target).map_err(|e| failed(&e))?;
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
