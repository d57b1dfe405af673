//! `scpool run` end to end (as root: real containers): the limits and result
//! fields the CLI passes through from the library.

use std::process::{Command, Output};

fn scpool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scpool"))
        .args(args)
        .output()
        .expect("running scpool")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number after `"key":` in a one-line JSON object.
fn number(json: &str, key: &str) -> f64 {
    let at = json.find(&format!("\"{key}\":")).expect(key) + key.len() + 3;
    let end = json[at..].find([',', '}']).unwrap() + at;
    json[at..end].parse().expect(key)
}

#[test]
fn a_memory_limit_below_the_minimum_is_refused_by_the_library() {
    let out = scpool(&["run", "--memory-limit", "64K", "/bin/true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&scpool_core::MIN_MEMORY.to_string()),
        "the message names the minimum: {err}"
    );
}

#[test]
fn the_address_space_limit_is_each_process_rlimit_as() {
    let out = scpool(&[
        "run",
        "--address-space-limit",
        "64M",
        "/bin/sh",
        "-c",
        "ulimit -v",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "65536\n");
    // Unset, there is none.
    let out = scpool(&["run", "/bin/sh", "-c", "ulimit -v"]);
    assert_eq!(stdout(&out), "unlimited\n");
}

#[test]
fn json_splits_cpu_time_and_names_the_accounting() {
    let spin = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done";
    let out = scpool(&["run", "--json", "/bin/sh", "-c", spin]);
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    let (user, system, cpu) = (
        number(&json, "user_time"),
        number(&json, "system_time"),
        number(&json, "cpu_time"),
    );
    assert!(user > system, "{json}");
    // Printed with nine decimals: whole nanoseconds that add up.
    assert_eq!(
        (user * 1e9).round() as u64 + (system * 1e9).round() as u64,
        (cpu * 1e9).round() as u64,
        "{json}"
    );
    let unified = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let accounting = if unified { "cgroup-v2" } else { "cgroup-v1" };
    assert!(
        json.contains(&format!("\"accounting\":\"{accounting}\"")),
        "{json}"
    );
}

/// Whether the running kernel is `major.minor` or later.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(['.', '-']);
    let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (next(), next()) >= (major, minor)
}

#[test]
fn process_peak_reports_the_runs_own_peak_and_null_without_it() {
    let children = "sleep 1000 & a=$!; sleep 1000 & b=$!; sleep 1000 & c=$!; kill $a $b $c; wait";
    let out = scpool(&["run", "--json", "--process-peak", "/bin/sh", "-c", children]);
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    if kernel_at_least(6, 1) {
        // The shell and its three children (a shell may count a helper).
        let peak = number(&json, "peak_processes");
        assert!(peak == 4.0 || peak == 5.0, "{json}");
    } else {
        assert!(json.contains(r#""peak_processes":null"#), "{json}");
    }
    // Without the option a v1 host has no per-run counter (v2 before 6.12 has one).
    let out = scpool(&["run", "--json", "/bin/true"]);
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    if json.contains(r#""accounting":"cgroup-v1""#) {
        assert!(json.contains(r#""peak_processes":null"#), "{json}");
    }
    // Without cgroups nothing counts.
    let out = scpool(&[
        "run",
        "--json",
        "--process-peak",
        "--cgroup",
        "off",
        "/bin/true",
    ]);
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    assert!(json.contains(r#""peak_processes":null"#), "{json}");
}

#[test]
fn cgroup_off_runs_without_accounting_and_refuses_cgroup_limits() {
    let out = scpool(&["run", "--json", "--cgroup", "off", "/bin/true"]);
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    assert!(json.contains(r#""accounting":"none""#), "{json}");
    // A CPU rate has no fallback without a cgroup.
    let out = scpool(&["run", "--cgroup=off", "--cpu-rate", "0.5", "/bin/true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cgroup"), "{err}");
}

#[test]
fn help_and_version_go_to_stdout_usage_errors_to_stderr() {
    let out = scpool(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        format!("scpool {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = scpool(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    for option in ["--memory-limit", "--copy-in", "--cgroup-parent", "128+N"] {
        assert!(stdout(&out).contains(option), "{option}");
    }
    // --time-limit is the old name of --cpu-time-limit: the error names the new one.
    for option in ["--cpu-time-limit", "--time-limit"] {
        let out = scpool(&["run", option, "soon", "/bin/true"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--cpu-time-limit") && err.contains("invalid time"),
            "{err}"
        );
    }
}

#[test]
fn the_cgroup_parent_reaches_the_library() {
    let parent = "/scpool-cli-test-no-such-parent";
    let out = scpool(&[
        "run",
        "--cgroup",
        "required",
        "--cgroup-parent",
        parent,
        "/bin/true",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(parent), "{err}");
}

#[test]
fn a_cpu_set_confines_the_program_and_a_cpu_the_host_lacks_is_refused() {
    let cpus = |args: &[&str]| {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["/bin/grep", "Cpus_allowed_list", "/proc/self/status"]);
        scpool(&all)
    };
    let out = cpus(&["--cpu-set", "0"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out).split_whitespace().last(), Some("0"), "{out:?}");
    // Every CPU without the option.
    let every = std::fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
        .or_else(|_| std::fs::read_to_string("/sys/devices/system/cpu/online"))
        .unwrap();
    let out = cpus(&[]);
    assert_eq!(
        stdout(&out).split_whitespace().last(),
        Some(every.trim()),
        "{out:?}"
    );
    let out = cpus(&["--cpu-set", "4095"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("4095"), "the message names the CPU: {err}");
    let out = cpus(&["--cpu-set", "x"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
