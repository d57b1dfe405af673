//! Both backends over a fake cgroupfs: plain files stand in for the kernel's, and the
//! test plays the kernel by rewriting counters between calls. (A plain file keeps
//! the tail of longer old content after a shorter write at offset 0, so knobs the
//! library writes start empty.)

use super::*;
use std::fs;

struct FakeDir {
    path: PathBuf,
}

impl FakeDir {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let path =
            std::env::temp_dir().join(format!("scpool-fake-cgroup-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        for (file, content) in files {
            fs::write(path.join(file), content).unwrap();
        }
        Self { path }
    }

    fn set(&self, file: &str, content: &str) {
        fs::write(self.path.join(file), content).unwrap();
    }

    fn get(&self, file: &str) -> String {
        fs::read_to_string(self.path.join(file)).unwrap()
    }
}

impl Drop for FakeDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn v2_dir(name: &str) -> FakeDir {
    FakeDir::new(
        name,
        &[
            ("memory.swap.max", ""),
            ("memory.peak", "0\n"),
            ("memory.current", "0\n"),
            ("memory.max", ""),
            ("memory.events", "low 0\nhigh 0\nmax 0\noom 1\noom_kill 2\n"),
            (
                "cpu.stat",
                "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n",
            ),
            ("cpu.max", ""),
            ("pids.max", ""),
        ],
    )
}

fn v1_dir(name: &str) -> FakeDir {
    FakeDir::new(
        name,
        &[
            ("cpuacct.usage", "5000\n"),
            ("memory.limit_in_bytes", ""),
            ("memory.memsw.limit_in_bytes", ""),
            ("memory.max_usage_in_bytes", "1048576\n"),
            ("memory.usage_in_bytes", "0\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
            ),
            ("pids.max", ""),
            ("cpu.cfs_quota_us", ""),
            ("cpu.cfs_period_us", ""),
        ],
    )
}

fn container_cgroup(version: CgroupVersion, controllers: Box<dyn Controllers>) -> ContainerCgroup {
    ContainerCgroup {
        version,
        controllers,
        dirs: Vec::new(),
        step: None,
        applied: None,
        cpuset: None,
        no_cpuset: Some("no cpuset in this test".into()),
        fresh: true,
        leaf_parent: None,
        leaves: None,
    }
}

const LIMITS: RunLimits = RunLimits {
    memory: Some(64 << 20),
    processes: Some(16),
    cpu_rate: Some(0.5),
    cpu_set: None,
};

#[test]
fn v2_files_are_written_as_the_kernel_expects() {
    let dir = v2_dir("v2-files");
    let v2 = v2::V2::open(&dir.path).unwrap();
    assert_eq!(dir.get("memory.swap.max"), "0", "no swap");
    v2.apply_memory(Some(64 << 20)).unwrap();
    assert_eq!(dir.get("memory.max"), "67108864");
    v2.apply_processes(Some(16)).unwrap();
    assert_eq!(dir.get("pids.max"), "16");
    v2.apply_cpu_rate(Some(0.5)).unwrap();
    assert_eq!(dir.get("cpu.max"), "50000 100000");
    for file in ["memory.max", "pids.max", "cpu.max"] {
        dir.set(file, "");
    }
    v2.apply_memory(None).unwrap();
    v2.apply_processes(None).unwrap();
    v2.apply_cpu_rate(None).unwrap();
    assert_eq!(dir.get("memory.max"), "max");
    assert_eq!(dir.get("pids.max"), "max");
    assert_eq!(dir.get("cpu.max"), "max 100000");
    assert_eq!(v2.cpu_ns().unwrap(), 1_000_000);
    assert_eq!(v2.oom_kills().unwrap(), 2);
}

#[test]
fn v2_run_figures_are_deltas_and_limits_are_written_once() {
    let dir = v2_dir("v2-run");
    let mut cgroup = container_cgroup(
        CgroupVersion::V2,
        Box::new(v2::V2::open(&dir.path).unwrap()),
    );
    let base = cgroup.begin_run(LIMITS).unwrap();
    assert_eq!(dir.get("memory.max"), "67108864");
    // The kernel: the run used 50 ms, peaked at 40 MiB and was OOM-killed once.
    dir.set(
        "cpu.stat",
        "usage_usec 51000\nuser_usec 40000\nsystem_usec 11000\n",
    );
    dir.set("memory.peak", "41943040\n");
    dir.set("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 3\n");
    assert_eq!(cgroup.cpu_used(&base).unwrap(), 50_000_000);
    let usage = cgroup.end_run(&base).unwrap();
    assert_eq!(
        usage,
        Usage {
            cpu_ns: 50_000_000,
            peak_memory: 41943040,
            oom_killed: true,
            peak_processes: None,
        }
    );

    // Same limits again: nothing rewritten (a sentinel survives); a new run's
    // figures start from the new baseline.
    dir.set("memory.max", "sentinel");
    let base = cgroup.begin_run(LIMITS).unwrap();
    assert_eq!(dir.get("memory.max"), "sentinel");
    assert!(
        dir.get("memory.peak").starts_with("reset"),
        "the peak was reset"
    );
    dir.set("memory.peak", "4096\n");
    let usage = cgroup.end_run(&base).unwrap();
    assert_eq!((usage.cpu_ns, usage.oom_killed), (0, false));

    // Changed limits are written.
    dir.set("memory.max", "");
    cgroup
        .begin_run(RunLimits {
            memory: Some(1 << 30),
            ..LIMITS
        })
        .unwrap();
    assert_eq!(dir.get("memory.max"), "1073741824");
}

#[test]
fn v1_files_are_written_as_the_kernel_expects() {
    let dir = v1_dir("v1-files");
    let p = &dir.path;
    let mut cgroup = container_cgroup(
        CgroupVersion::V1,
        Box::new(v1::V1::open(p, p, p, p).unwrap()),
    );
    assert_eq!(dir.get("cpu.cfs_period_us"), "100000");
    let base = cgroup.begin_run(LIMITS).unwrap();
    assert_eq!(dir.get("memory.limit_in_bytes"), "67108864");
    // memsw was lifted first ("-1" over "") then set to match: the last write wins.
    assert_eq!(dir.get("memory.memsw.limit_in_bytes"), "67108864");
    assert_eq!(dir.get("pids.max"), "16");
    assert_eq!(dir.get("cpu.cfs_quota_us"), "50000");
    // Counters were reset for the run (the fake keeps what was written).
    assert!(dir.get("cpuacct.usage").starts_with('0'));
    assert!(dir.get("memory.max_usage_in_bytes").starts_with('0'));

    dir.set("cpuacct.usage", "123456789\n");
    dir.set("memory.max_usage_in_bytes", "2097152\n");
    dir.set(
        "memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    );
    let usage = cgroup.end_run(&base).unwrap();
    assert_eq!(
        usage,
        Usage {
            cpu_ns: 123456789,
            peak_memory: 2097152,
            oom_killed: true,
            peak_processes: None,
        }
    );
}

#[test]
fn v1_without_memsw_still_limits_memory() {
    let dir = v1_dir("v1-nomemsw");
    fs::remove_file(dir.path.join("memory.memsw.limit_in_bytes")).unwrap();
    let p = &dir.path;
    let mut cgroup = container_cgroup(
        CgroupVersion::V1,
        Box::new(v1::V1::open(p, p, p, p).unwrap()),
    );
    cgroup.begin_run(LIMITS).unwrap();
    assert_eq!(dir.get("memory.limit_in_bytes"), "67108864");
}

#[test]
fn v2_controllers_are_enabled_in_the_parent() {
    let parent = FakeDir::new("v2-parent", &[("cgroup.subtree_control", "cpu io\n")]);
    v2_enable_controllers(&parent.path, false).unwrap();
    assert_eq!(parent.get("cgroup.subtree_control"), "+memory +pids");

    let done = FakeDir::new(
        "v2-parent-done",
        &[("cgroup.subtree_control", "cpu memory pids\n")],
    );
    v2_enable_controllers(&done.path, false).unwrap();
    assert_eq!(
        done.get("cgroup.subtree_control"),
        "cpu memory pids\n",
        "nothing to write"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = v2_dir("v2-missing");
    fs::remove_file(dir.path.join("cpu.stat")).unwrap();
    let err = v2::V2::open(&dir.path).err().unwrap();
    assert!(err.to_string().contains("cpu.stat"), "{err}");
}

#[test]
fn configured_parents_live_under_the_mount() {
    let own = Path::new("/sys/fs/cgroup/user.slice/me");
    let mount = Path::new("/sys/fs/cgroup");
    assert_eq!(parent_dir(own, None, mount), own);
    assert_eq!(
        parent_dir(own, Some(Path::new("/judge")), mount),
        Path::new("/sys/fs/cgroup/judge")
    );
}

/// A parent cpuset directory with `files` and a container's cpuset directory in it.
fn cpuset_dirs(name: &str, files: &[(&str, &str)]) -> (FakeDir, PathBuf) {
    let parent = FakeDir::new(name, files);
    let child = parent.path.join("scpool-1-0");
    fs::create_dir(&child).unwrap();
    (parent, child)
}

#[test]
fn v2_cpu_sets_are_written_and_lifted_by_the_parents_cpus() {
    let (parent, child) = cpuset_dirs("v2-cpuset", &[("cpuset.cpus.effective", "0-3\n")]);
    let put = |file: &str, text: &str| fs::write(child.join(file), text).unwrap();
    let get = |file: &str| fs::read_to_string(child.join(file)).unwrap();
    put("cpuset.cpus", "");
    let cpuset = cpuset::Cpuset::open(&child, CgroupVersion::V2)
        .unwrap()
        .expect("a cpuset");
    assert_eq!(cpuset.allowed().unwrap().to_string(), "0-3");
    // The kernel takes it: the cgroup has CPU 2 alone.
    put("cpuset.cpus.effective", "2\n");
    cpuset.apply(Some(&CpuSet::parse("2").unwrap())).unwrap();
    assert_eq!(get("cpuset.cpus"), "2");
    // A set the kernel did not give exactly is an error, never a wider set.
    let err = cpuset
        .apply(Some(&CpuSet::parse("1-2").unwrap()))
        .unwrap_err();
    assert!(
        err.to_string().contains("cpuset.cpus.effective is 2"),
        "{err}"
    );
    put("cpuset.cpus", "");
    put("cpuset.cpus.effective", "0-3\n");
    cpuset.apply(None).unwrap();
    assert_eq!(get("cpuset.cpus"), "0-3", "the parent's effective CPUs");
    drop(parent);
}

#[test]
fn v1_cpusets_start_and_end_with_the_parents_cpus() {
    let (parent, child) = cpuset_dirs(
        "v1-cpuset",
        &[
            ("cpuset.cpus", "0-3\n"),
            ("cpuset.mems", "0\n"),
            ("cpuset.effective_cpus", "0-3\n"),
        ],
    );
    cpuset::v1_prepare(&child).unwrap();
    let get = |file: &str| fs::read_to_string(child.join(file)).unwrap();
    assert_eq!(
        (get("cpuset.cpus"), get("cpuset.mems")),
        ("0-3\n".into(), "0\n".into())
    );
    assert!(cpuset::v1_usable_parent(&parent.path));

    let rest = v1_dir("v1-cpuset-rest");
    let p = &rest.path;
    let mut cgroup = container_cgroup(
        CgroupVersion::V1,
        Box::new(v1::V1::open(p, p, p, p).unwrap()),
    );
    cgroup.cpuset = cpuset::Cpuset::open(&child, CgroupVersion::V1).unwrap();
    cgroup.no_cpuset = None;
    let put = |file: &str, text: &str| fs::write(child.join(file), text).unwrap();
    // A new cgroup has the parent's CPUs: a run without a set writes nothing.
    put("cpuset.cpus", "untouched");
    let base = cgroup.begin_run(LIMITS).unwrap();
    cgroup.end_run(&base).unwrap();
    assert_eq!(get("cpuset.cpus"), "untouched");

    let one = RunLimits {
        cpu_set: Some(CpuSet::parse("1").unwrap()),
        ..LIMITS
    };
    cgroup.check_cpu_set(&CpuSet::parse("1").unwrap()).unwrap();
    assert!(matches!(
        cgroup.check_cpu_set(&CpuSet::parse("3-4").unwrap()),
        Err(Error::InvalidArgument(m)) if m.contains("CPU 4 is not among") && m.contains("(0-3)")
    ));
    put("cpuset.cpus", "");
    put("cpuset.effective_cpus", "1\n");
    let base = cgroup.begin_run(one.clone()).unwrap();
    cgroup.end_run(&base).unwrap();
    assert_eq!(get("cpuset.cpus"), "1");
    // The same set again: not written again.
    put("cpuset.cpus", "untouched");
    let base = cgroup.begin_run(one).unwrap();
    cgroup.end_run(&base).unwrap();
    assert_eq!(get("cpuset.cpus"), "untouched");
    // Without a set, the parent's list again.
    put("cpuset.cpus", "");
    put("cpuset.effective_cpus", "0-3\n");
    cgroup.begin_run(LIMITS).unwrap();
    assert_eq!(get("cpuset.cpus"), "0-3\n");
}
