//! What more than one of the CLI's test files needs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Every cgroup directory whose name starts with `prefix`, in any hierarchy, at most
/// six levels below /sys/fs/cgroup: what a run of the CLI may have left behind.
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
    found
}
