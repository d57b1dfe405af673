//! What a supervisor leaves when it is SIGKILLed: its container's init dies with it
//! (parent-death signal) and takes the program along, but the container's cgroup
//! directories (`scpool-<pid>-*`) stay. `rm` removes them, and signals reach the
//! program through the process tree under the init.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// (pid, parent pid) of every process.
fn processes() -> Vec<(i32, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (_, rest) = stat.rsplit_once(')')?;
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// Sends `signal` to every descendant of `root` (not to `root` itself).
pub fn signal_descendants(root: i32, signal: i32) {
    let all = processes();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for &(pid, ppid) in &all {
            if ppid == parent {
                // SAFETY: kill sends a signal; a pid that just exited makes it fail.
                unsafe { libc::kill(pid, signal) };
                parents.push(pid);
            }
        }
    }
}

/// The cgroup directories this process's containers are made in, one per
/// hierarchy (its own cgroups, or `configured` under each hierarchy's root).
pub fn cgroup_parents(configured: Option<&Path>) -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut dirs = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let tail: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(at), Some(fstype), Some(options)) =
            (fields.get(3), fields.get(4), tail.first(), tail.get(2))
        else {
            continue;
        };
        let path = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let matches = match *fstype {
                "cgroup2" => controllers.is_empty(),
                "cgroup" => {
                    !controllers.is_empty()
                        && controllers
                            .split(',')
                            .all(|c| options.split(',').any(|o| o == c))
                }
                _ => false,
            };
            matches.then_some(path)
        });
        let Some(path) = path else {
            continue;
        };
        let path = configured.map_or(Path::new(path), |c| c);
        let relative = path.strip_prefix(root).unwrap_or(path);
        let relative = relative.strip_prefix("/").unwrap_or(relative);
        let dir = Path::new(at).join(relative);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// Kills what remains in the cgroups of the dead supervisor `pid` and removes them
/// (their child cgroups first). Looks in each recorded parent and in the parent's
/// parent (on cgroup v2 a host moves itself into a leaf of its cgroup).
pub fn sweep(pid: u32, parents: &[PathBuf]) {
    let prefix = format!("scpool-{pid}-");
    let mut places: Vec<&Path> = Vec::new();
    for parent in parents {
        places.push(parent);
        if let Some(up) = parent.parent() {
            places.push(up);
        }
    }
    for place in places {
        let Ok(entries) = std::fs::read_dir(place) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                remove_tree(&entry.path());
            }
        }
    }
}

fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                // SAFETY: kill sends a signal to a process of the dead container.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return,
        }
    }
}
