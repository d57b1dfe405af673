//! What a container could leave behind in the host process, and the check that it
//! left nothing.

use super::status_field;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a container could leave behind in the host process.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Open descriptors and what they point to.
    fds: BTreeMap<i32, String>,
    /// Processes whose parent is this process (the inits are children of the
    /// spawner thread, which reports as this process).
    pub children: Vec<(u32, String)>,
    threads: usize,
    mountinfo_lines: usize,
    /// Entries of the temporary directory named scpool*.
    tmp_entries: Vec<String>,
    /// cgroup directories this process created (scpool-<pid>-*), in any hierarchy.
    cgroups: Vec<String>,
}

impl Snapshot {
    /// The state to compare with at the end of a leak test: it must start with no
    /// child process of ours.
    pub fn baseline() -> Self {
        let before = Self::take();
        assert!(
            before.children.is_empty(),
            "children before the test: {:?}",
            before.children
        );
        before
    }

    /// Taken once the library's stock of spare inits is gone and its background
    /// cgroup removals are done (`scpool_core::flush`).
    pub fn take() -> Self {
        scpool_core::flush();
        Self {
            fds: open_fds(),
            children: children_of(std::process::id()),
            threads: std::fs::read_dir("/proc/self/task").unwrap().count(),
            mountinfo_lines: std::fs::read_to_string("/proc/self/mountinfo")
                .unwrap()
                .lines()
                .count(),
            tmp_entries: tmp_entries(),
            cgroups: our_cgroups(),
        }
    }
}

fn open_fds() -> BTreeMap<i32, String> {
    // The listing's own descriptor is open while listing; it is gone when the
    // targets are read, so it reads as an error and is left out.
    let names: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let fd: i32 = name.parse().ok()?;
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect()
}

/// (pid, name and state) of every process whose PPid is `parent`.
pub fn children_of(parent: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // The process may be gone by now.
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        if status_field(&status, "PPid").and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
            let name = status_field(&status, "Name").unwrap_or("?");
            let state = status_field(&status, "State").unwrap_or("?");
            found.push((pid, format!("{name} {state}")));
        }
    }
    found.sort();
    found
}

/// Directories under /sys/fs/cgroup (a few levels deep) whose name starts with
/// `prefix`.
pub fn cgroup_dirs_named(prefix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, prefix: &str, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                found.push(entry.path());
            } else if depth > 0 {
                walk(&entry.path(), depth - 1, prefix, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), 6, prefix, &mut found);
    found.sort();
    found
}

/// The container cgroups this process made (scpool-<our pid>-*), in any hierarchy,
/// once the library's stock of spare inits is gone and its background removals are
/// done (`scpool_core::flush`).
pub fn our_cgroups() -> Vec<String> {
    scpool_core::flush();
    let prefix = format!("scpool-{}-", std::process::id());
    cgroup_dirs_named(&prefix)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

fn tmp_entries() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("scpool"))
        .collect();
    found.sort();
    found
}

#[track_caller]
pub fn assert_same(before: &Snapshot, after: &Snapshot, when: &str) {
    assert_eq!(before.fds, after.fds, "descriptors leaked {when}");
    assert_eq!(
        before.children, after.children,
        "child processes left {when}"
    );
    assert_eq!(before.threads, after.threads, "threads left {when}");
    assert_eq!(
        before.mountinfo_lines, after.mountinfo_lines,
        "the host's mount table changed {when}"
    );
    let new: Vec<&String> = after
        .tmp_entries
        .iter()
        .filter(|e| !before.tmp_entries.contains(e))
        .collect();
    assert!(
        new.is_empty(),
        "new scpool files in the temp dir {when}: {new:?}"
    );
    assert_eq!(before.cgroups, after.cgroups, "cgroups left {when}");
}
