//! Making room for container cgroups in a delegated cgroup v2 subtree.
//!
//! A non-root v2 cgroup that holds processes cannot enable controllers for its
//! children (EBUSY, the "no internal processes" rule). That is where a host runs
//! under systemd with `Delegate=yes`, in a Docker container with a private cgroup
//! namespace or in a Kubernetes pod. As container runtimes do there, the processes
//! of our cgroup move to a leaf of it, [`HOST_LEAF`], and container cgroups are
//! made beside that leaf. Only done for our own cgroup, never a configured parent.

use std::io;
use std::path::Path;

/// The leaf of our own cgroup that the processes living in it move to.
pub const HOST_LEAF: &str = "scpool-host";

/// Moves every process of `parent` (ours and any sibling, e.g. a container's
/// entrypoint) into `parent/scpool-host`. Writing a pid to cgroup.procs moves its
/// whole thread group. A process forked meanwhile is moved on the next pass.
pub(super) fn move_processes_to_leaf(parent: &Path) -> io::Result<()> {
    let leaf = parent.join(HOST_LEAF);
    match super::mkdir(&leaf) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let procs = leaf.join("cgroup.procs");
    for _ in 0..16 {
        let listed = super::read_path(&parent.join("cgroup.procs"))?;
        let pids: Vec<&str> = listed.split_whitespace().collect();
        if pids.is_empty() {
            return Ok(());
        }
        for pid in pids {
            match crate::eintr::retry(|| std::fs::write(&procs, pid)) {
                // Exited since it was listed.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("moving process {pid} to {}: {e}", procs.display()),
                    ))
                }
                Ok(()) => {}
            }
        }
    }
    Err(io::Error::other(format!(
        "{} keeps gaining processes",
        parent.display()
    )))
}

/// Our cgroup as container cgroups see it: the parent of [`HOST_LEAF`] when an
/// earlier scpool host in this cgroup moved us there.
pub(super) fn own_parent(own: &Path) -> &Path {
    match own.parent() {
        Some(parent) if own.file_name().is_some_and(|n| n == HOST_LEAF) => parent,
        _ => own,
    }
}
