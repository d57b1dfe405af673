//! Finding the cgroup hierarchies of this host and the cgroup we live in.
//!
//! Parsed from /proc/self/mountinfo and /proc/self/cgroup; the parsers take the text
//! so tests can feed any host's files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Controllers a container uses.
pub const V1_CONTROLLERS: [&str; 4] = ["cpu", "cpuacct", "memory", "pids"];
pub const V2_CONTROLLERS: [&str; 3] = ["cpu", "memory", "pids"];
/// v1 controllers used when the host has them: without them only the limits that
/// need them are refused (see `cpuset`).
pub const V1_OPTIONAL: [&str; 1] = ["cpuset"];

/// Where the cgroups of our containers go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// The unified hierarchy: its mount point and our cgroup's directory.
    V2 {
        /// Where the unified hierarchy is mounted.
        mount: PathBuf,
        /// Our own cgroup's directory in it.
        own: PathBuf,
    },
    /// Per v1 controller, its hierarchy's mount point and our cgroup's directory
    /// there; co-mounted controllers share both.
    V1 {
        /// Per controller, its hierarchy's mount point.
        mounts: BTreeMap<&'static str, PathBuf>,
        /// Per controller, our own cgroup's directory there.
        own: BTreeMap<&'static str, PathBuf>,
    },
}

struct Mount {
    root: String,
    point: PathBuf,
    fstype: String,
    options: Vec<String>,
}

fn unescape(field: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let mut out = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if let Ok(v) = u8::from_str_radix(&digits, 8) {
                out.push(v as char);
                for _ in 0..3 {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                root: unescape(left.get(3)?),
                point: PathBuf::from(unescape(left.get(4)?)),
                fstype: right.first()?.to_string(),
                options: right
                    .get(2)
                    .map(|o| o.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// `hierarchy-id:controllers:path` lines → (controllers, path).
fn parse_proc_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let list = if controllers.is_empty() {
                Vec::new()
            } else {
                controllers.split(',').map(str::to_string).collect()
            };
            Some((list, path.to_string()))
        })
        .collect()
}

/// Our cgroup's directory under a mount whose root is `mount_root`.
fn own_dir(mount: &Mount, path: &str) -> Option<PathBuf> {
    let relative = if mount.root == "/" {
        path.trim_start_matches('/')
    } else {
        path.strip_prefix(mount.root.as_str())?
            .trim_start_matches('/')
    };
    Some(mount.point.join(relative))
}

/// The layout to use: v2 when the unified hierarchy offers every controller we need
/// in our cgroup, else v1 when every controller has a v1 hierarchy, else none.
/// `controllers_of` reads a v2 directory's cgroup.controllers.
pub fn detect(
    mountinfo: &str,
    proc_self_cgroup: &str,
    controllers_of: impl Fn(&Path) -> Option<String>,
) -> Option<Layout> {
    let mounts = parse_mountinfo(mountinfo);
    let memberships = parse_proc_cgroup(proc_self_cgroup);

    let unified_path = memberships
        .iter()
        .find(|(c, _)| c.is_empty())
        .map(|(_, p)| p.as_str());
    if let Some(path) = unified_path {
        for mount in mounts.iter().filter(|m| m.fstype == "cgroup2") {
            let Some(own) = own_dir(mount, path) else {
                continue;
            };
            let available = controllers_of(&own).unwrap_or_default();
            let names: Vec<&str> = available.split_whitespace().collect();
            if V2_CONTROLLERS.iter().all(|c| names.contains(c)) {
                return Some(Layout::V2 {
                    mount: mount.point.clone(),
                    own,
                });
            }
        }
    }

    let mut own = BTreeMap::new();
    let mut points = BTreeMap::new();
    let hierarchy = |controller: &str| {
        let path = memberships
            .iter()
            .find(|(c, _)| c.iter().any(|n| n == controller))?
            .1
            .as_str();
        let mount = mounts
            .iter()
            .find(|m| m.fstype == "cgroup" && m.options.iter().any(|o| o == controller))?;
        Some((own_dir(mount, path)?, mount.point.clone()))
    };
    for controller in V1_CONTROLLERS {
        let (dir, point) = hierarchy(controller)?;
        own.insert(controller, dir);
        points.insert(controller, point);
    }
    for controller in V1_OPTIONAL {
        if let Some((dir, point)) = hierarchy(controller) {
            own.insert(controller, dir);
            points.insert(controller, point);
        }
    }
    Some(Layout::V1 {
        mounts: points,
        own,
    })
}

/// The layout for container cgroups made in a configured `parent` (a path of the
/// hierarchy, as in /proc/self/cgroup): v2 when the parent offers every controller
/// we need (whatever our own cgroup offers), else v1 when every controller has a v1
/// hierarchy, else an error that names the parent and what it lacks.
pub fn detect_for_parent(
    mountinfo: &str,
    proc_self_cgroup: &str,
    parent: &Path,
    controllers_of: impl Fn(&Path) -> Option<String>,
) -> Result<Layout, String> {
    let mounts = parse_mountinfo(mountinfo);
    let relative = parent.strip_prefix("/").unwrap_or(parent);
    let mut why = format!(
        "no cgroup hierarchy is mounted for the configured parent cgroup {}",
        parent.display()
    );
    for mount in mounts.iter().filter(|m| m.fstype == "cgroup2") {
        let dir = mount.point.join(relative);
        let Some(available) = controllers_of(&dir) else {
            why = format!(
                "the configured parent cgroup {} does not exist ({} cannot be read)",
                parent.display(),
                dir.join("cgroup.controllers").display()
            );
            continue;
        };
        let names: Vec<&str> = available.split_whitespace().collect();
        let missing: Vec<&str> = V2_CONTROLLERS
            .iter()
            .copied()
            .filter(|c| !names.contains(c))
            .collect();
        if missing.is_empty() {
            let own = detect(mountinfo, proc_self_cgroup, |_| {
                Some(V2_CONTROLLERS.join(" "))
            })
            .and_then(|layout| match layout {
                Layout::V2 { own, .. } => Some(own),
                Layout::V1 { .. } => None,
            })
            .unwrap_or_else(|| dir.clone());
            return Ok(Layout::V2 {
                mount: mount.point.clone(),
                own,
            });
        }
        why = format!(
            "the configured parent cgroup {} does not offer {} (its cgroup.controllers: {:?}; \
             enable them in its parent's cgroup.subtree_control)",
            parent.display(),
            missing.join(" "),
            available.trim()
        );
    }
    match detect(mountinfo, proc_self_cgroup, |_| None) {
        Some(layout @ Layout::V1 { .. }) => Ok(layout),
        _ => Err(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const V1_CGROUP: &str = "\
8:pids:/
4:memory:/process_api/e6b7
2:cpuacct:/
1:cpu:/
0::/
";

    #[test]
    fn v1_with_an_empty_unified_mount() {
        let layout = detect(V1_MOUNTINFO, V1_CGROUP, |_| Some(String::new())).unwrap();
        let Layout::V1 { own, .. } = layout else {
            panic!("expected v1")
        };
        assert_eq!(
            own["memory"],
            Path::new("/sys/fs/cgroup/memory/process_api/e6b7")
        );
        assert_eq!(own["cpu"], Path::new("/sys/fs/cgroup/cpu"));
        assert_eq!(own["pids"], Path::new("/sys/fs/cgroup/pids"));
        assert!(
            !own.contains_key("cpuset"),
            "no cpuset hierarchy is mounted"
        );
    }

    #[test]
    fn v1_takes_the_cpuset_hierarchy_when_there_is_one() {
        let mountinfo = format!(
            "{V1_MOUNTINFO}34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
        );
        let cgroup = format!("3:cpuset:/judge\n{V1_CGROUP}");
        let Layout::V1 { own, mounts } = detect(&mountinfo, &cgroup, |_| None).unwrap() else {
            panic!("expected v1")
        };
        assert_eq!(own["cpuset"], Path::new("/sys/fs/cgroup/cpuset/judge"));
        assert_eq!(mounts["cpuset"], Path::new("/sys/fs/cgroup/cpuset"));
    }

    #[test]
    fn v1_comounted_cpu_and_cpuacct() {
        let mountinfo = "\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";
        let cgroup = "3:cpu,cpuacct:/a\n2:memory:/a\n1:pids:/a\n";
        let Layout::V1 { own, .. } = detect(mountinfo, cgroup, |_| None).unwrap() else {
            panic!()
        };
        assert_eq!(own["cpu"], own["cpuacct"]);
        assert_eq!(own["cpu"], Path::new("/sys/fs/cgroup/cpu,cpuacct/a"));
    }

    #[test]
    fn v2_when_controllers_are_available() {
        let mountinfo = "24 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let cgroup = "0::/user.slice/session-1.scope\n";
        let layout = detect(mountinfo, cgroup, |p| {
            assert_eq!(p, Path::new("/sys/fs/cgroup/user.slice/session-1.scope"));
            Some("cpuset cpu io memory pids\n".into())
        });
        assert_eq!(
            layout,
            Some(Layout::V2 {
                mount: PathBuf::from("/sys/fs/cgroup"),
                own: PathBuf::from("/sys/fs/cgroup/user.slice/session-1.scope")
            })
        );
    }

    #[test]
    fn v2_inside_a_cgroup_namespace_mount() {
        // A container's view: the mount root is its own cgroup.
        let mountinfo = "24 1 0:22 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let cgroup = "0::/kubepods/pod1/app\n";
        let layout = detect(mountinfo, cgroup, |_| Some("cpu memory pids".into()));
        let own = PathBuf::from("/sys/fs/cgroup/app");
        assert_eq!(
            layout,
            Some(Layout::V2 {
                mount: PathBuf::from("/sys/fs/cgroup"),
                own
            })
        );
    }

    #[test]
    fn nothing_usable() {
        let mountinfo = "24 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(detect(mountinfo, "0::/\n", |_| Some("io".into())), None);
        assert_eq!(detect("", "", |_| None), None);
    }

    #[test]
    fn a_configured_parent_is_used_when_our_own_cgroup_offers_less() {
        let mountinfo = "24 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let cgroup = "0::/system.slice/judge.service\n";
        let controllers = |p: &Path| match p.to_str()? {
            "/sys/fs/cgroup/judge" => Some("cpu memory pids\n".into()),
            "/sys/fs/cgroup/system.slice/judge.service" => Some("memory pids\n".into()),
            _ => None,
        };
        assert_eq!(detect(mountinfo, cgroup, controllers), None);
        let layout = detect_for_parent(mountinfo, cgroup, Path::new("/judge"), controllers);
        assert_eq!(
            layout,
            Ok(Layout::V2 {
                mount: PathBuf::from("/sys/fs/cgroup"),
                own: PathBuf::from("/sys/fs/cgroup/system.slice/judge.service")
            })
        );
    }

    #[test]
    fn a_configured_parent_that_lacks_controllers_is_named() {
        let mountinfo = "24 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let controllers =
            |p: &Path| (p == Path::new("/sys/fs/cgroup/judge")).then(|| "cpu\n".into());
        let err =
            detect_for_parent(mountinfo, "0::/\n", Path::new("/judge"), controllers).unwrap_err();
        assert!(
            err.contains("/judge") && err.contains("memory pids"),
            "{err}"
        );
        let err =
            detect_for_parent(mountinfo, "0::/\n", Path::new("/none"), controllers).unwrap_err();
        assert!(
            err.contains("/none") && err.contains("does not exist"),
            "{err}"
        );
    }

    #[test]
    fn escaped_mount_points() {
        let mountinfo = "32 31 0:29 / /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu,cpuacct,memory,pids\n";
        let Layout::V1 { own, .. } =
            detect(mountinfo, "1:cpu,cpuacct,memory,pids:/\n", |_| None).unwrap()
        else {
            panic!()
        };
        assert_eq!(own["memory"], Path::new("/sys/fs/cgroup/my cpu"));
    }
}
