//! Mount attributes on kernels without mount_setattr(2) (before 5.12): a bind mount
//! is made read-only (nosuid, nodev) by remounting it, one mount at a time, so a
//! recursive change walks the submounts listed in /proc/self/mountinfo.
//!
//! A remount must repeat the flags the mount already has: in a user namespace the
//! kernel refuses to clear flags a more privileged namespace set (locked mounts).

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use std::path::{Path, PathBuf};

/// statvfs's relatime flag (ST_RELATIME, 4096): nix names it only for glibc.
const ST_RELATIME: nix::sys::statvfs::FsFlags = nix::sys::statvfs::FsFlags::from_bits_retain(4096);

/// Remounts `path` (and every mount below it when `recursive`) with `attrs`, the
/// MOUNT_ATTR_* bits of mount_setattr, added to the flags it has.
pub fn set_attrs(path: &Path, attrs: u64, recursive: bool) -> nix::Result<()> {
    let mut add = MsFlags::empty();
    for (attr, flag) in [
        (crate::sys::MOUNT_ATTR_RDONLY, MsFlags::MS_RDONLY),
        (crate::sys::MOUNT_ATTR_NOSUID, MsFlags::MS_NOSUID),
        (crate::sys::MOUNT_ATTR_NODEV, MsFlags::MS_NODEV),
    ] {
        if attrs & attr != 0 {
            add |= flag;
        }
    }
    let targets = if recursive {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
        mounts_at_or_below(&mountinfo, path)
    } else {
        vec![path.to_path_buf()]
    };
    for target in targets {
        remount(&target, add)?;
    }
    Ok(())
}

fn remount(target: &Path, add: MsFlags) -> nix::Result<()> {
    let have = nix::sys::statvfs::statvfs(target)?.flags();
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | add;
    use nix::sys::statvfs::FsFlags;
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if have.contains(st) {
            flags |= ms;
        }
    }
    loop {
        match mount(None::<&str>, target, None::<&str>, flags, None::<&str>) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// The mount at `path` (the topmost there) and every mount below it in the mount
/// tree, parents before children. Found by mount ids, not by path: a mount made
/// earlier under `path` and then covered by the mount at `path` (a default bind of
/// /etc/alternatives under a later bind of /etc) is not reachable and not included.
fn mounts_at_or_below(mountinfo: &str, path: &Path) -> Vec<PathBuf> {
    let entries: Vec<(u64, u64, PathBuf)> = mountinfo
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let id = fields.next()?.parse().ok()?;
            let parent = fields.next()?.parse().ok()?;
            let point = PathBuf::from(unescape(fields.nth(2)?));
            Some((id, parent, point))
        })
        .collect();
    let Some(top) = entries.iter().rev().find(|(_, _, point)| point == path) else {
        return vec![path.to_path_buf()];
    };
    let mut tree = vec![top.0];
    let mut out = vec![path.to_path_buf()];
    // Children come after their parents in mountinfo; one pass per level.
    let mut grew = true;
    while grew {
        grew = false;
        for (id, parent, point) in &entries {
            if tree.contains(parent) && !tree.contains(id) {
                tree.push(*id);
                if !out.contains(point) {
                    out.push(point.clone());
                }
                grew = true;
            }
        }
    }
    out
}

/// mountinfo writes space, tab, newline and backslash as \ooo.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let (b'\\', Some(d)) = (bytes[i], octal) {
            out.push(d.iter().fold(0u8, |v, b| v.wrapping_mul(8) + (b - b'0')));
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submounts_of_the_mount_tree_only_unescaped() {
        // 21 (/r/etc/alternatives) was covered by 23 (/r/etc); 24 and 25 are 23's.
        let mountinfo = "\
20 1 0:5 / /r rw - tmpfs t rw
21 20 8:1 /etc/alternatives /r/etc/alternatives ro - ext4 /dev/sda1 rw
22 20 8:1 /usr /r/usr ro - ext4 /dev/sda1 rw
23 20 8:1 /etc /r/etc rw - ext4 /dev/sda1 rw
24 23 0:6 / /r/etc/my\\040dir rw - tmpfs t rw
25 24 0:7 / /r/etc/my\\040dir/sub rw - tmpfs t rw
26 20 8:1 /x /r/etcx rw - ext4 /dev/sda1 rw
";
        assert_eq!(
            mounts_at_or_below(mountinfo, Path::new("/r/etc")),
            [
                PathBuf::from("/r/etc"),
                PathBuf::from("/r/etc/my dir"),
                PathBuf::from("/r/etc/my dir/sub")
            ]
        );
        assert_eq!(
            mounts_at_or_below(mountinfo, Path::new("/r/usr")),
            [PathBuf::from("/r/usr")]
        );
    }
}
