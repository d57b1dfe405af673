//! The oldest kernel scpool supports, checked once before the first container.
//!
//! 5.10 is the oldest tested (Debian 11). Features newer than it have fallbacks:
//! mount_setattr (5.12) and CLOSE_RANGE_CLOEXEC (5.11) in the init, memory.peak
//! (5.19) and its reset (6.12) through a cgroup per run (`cgroup::run_leaf`).

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// (major, minor) of the oldest supported kernel.
pub const MINIMUM: (u32, u32) = (5, 10);

/// What kernels before [`MINIMUM`] lack, newest first.
const NEEDED: &str = "close_range (5.9), openat2 (5.6), waitid on a pidfd (5.4), \
                      clone with CLONE_PIDFD (5.2)";

/// (major, minor) of a release string such as "5.10.0-32-amd64".
fn version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Fails with the running kernel's release and what it lacks when it is older than
/// [`MINIMUM`]. An unreadable release is let through (the first missing system
/// call then names itself).
pub fn check_supported() -> Result<()> {
    static CHECKED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let release = release();
            match version(&release) {
                Some(v) if v < MINIMUM => Err(unsupported(&release)),
                _ => Ok(()),
            }
        })
        .clone()
        .map_err(Error::Unsupported)
}

/// Overlayfs may be mounted in a user namespace from 5.11 on: before, a rootless
/// container cannot have an image's layers as its root.
pub fn check_overlay_in_user_namespace() -> Result<()> {
    const OVERLAY_IN_USERNS: (u32, u32) = (5, 11);
    let release = release();
    match version(&release) {
        Some(v) if v < OVERLAY_IN_USERNS => Err(Error::Unsupported(format!(
            "Linux {release} cannot mount overlayfs in a user namespace (5.11 can): \
             image layers need a root host without user_namespace, or a newer kernel"
        ))),
        _ => Ok(()),
    }
}

fn release() -> String {
    // SAFETY: utsname is arrays of C chars, for which all zeros is a valid value.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the struct we pass.
    if unsafe { libc::uname(&mut names) } != 0 {
        return String::new();
    }
    // SAFETY: uname NUL-terminates each field within its array.
    unsafe { std::ffi::CStr::from_ptr(names.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn unsupported(release: &str) -> String {
    format!(
        "Linux {release} is older than {}.{}, the oldest scpool supports: it lacks {NEEDED}",
        MINIMUM.0, MINIMUM.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_compared_by_major_and_minor() {
        assert_eq!(version("5.10.0-32-amd64"), Some((5, 10)));
        assert_eq!(version("6.1.0-57-amd64"), Some((6, 1)));
        assert_eq!(version("4.19.325"), Some((4, 19)));
        assert!(version("4.19.325").unwrap() < MINIMUM);
        assert!(version("5.9.16").unwrap() < MINIMUM);
        assert!(version("5.10.0").unwrap() >= MINIMUM);
        assert!(version("6.12.117+deb13-amd64").unwrap() >= MINIMUM);
        assert_eq!(version("garbage"), None);
        let message = unsupported("5.4.0-150-generic");
        assert!(message.contains("5.4.0-150-generic") && message.contains("close_range"));
    }
}
