//! `cpuSetLimit`: the CPUs a command may run on, in cgroup cpuset.cpus syntax
//! ("0", "0-1,3"), a hard limit (the library's `Limits::cpu_set`). A list that
//! does not parse, or names a CPU the containers may not use, is the client's
//! mistake (400) before any container is taken.

use crate::plan::{BadRequest, Plan};
use scpool_core::{CgroupConfig, CpuSet, Error};

fn message(e: Error) -> String {
    match e {
        Error::InvalidArgument(m) | Error::Unsupported(m) => m,
        other => other.to_string(),
    }
}

/// The set a command asks for; `None` for an empty field (every CPU).
pub fn parse(list: &str) -> Result<Option<CpuSet>, BadRequest> {
    if list.is_empty() {
        return Ok(None);
    }
    CpuSet::parse(list)
        .map(Some)
        .map_err(|e| BadRequest(format!("cpuSetLimit: {}", message(e))))
}

/// Checks every command's set against the CPUs containers made with `cgroup`
/// may be given (read now: CPUs come and go).
pub fn check(plan: &Plan, cgroup: &CgroupConfig) -> Result<(), BadRequest> {
    let mut allowed = None;
    for (n, cmd) in plan.cmds.iter().enumerate() {
        let Some(cpus) = parse(&cmd.cmd.cpu_set_limit)? else {
            continue;
        };
        if allowed.is_none() {
            allowed = Some(
                scpool_core::cgroup::cpus_for_containers(cgroup).map_err(|e| {
                    BadRequest(format!("cmd[{n}]: cpuSetLimit {cpus}: {}", message(e)))
                })?,
            );
        }
        let allowed = allowed.as_ref().expect("read above");
        if !cpus.is_subset(allowed) {
            return Err(BadRequest(format!(
                "cmd[{n}]: cpuSetLimit {:?} names CPUs this host does not let containers \
                 use (they may use {allowed})",
                cmd.cmd.cpu_set_limit
            )));
        }
    }
    Ok(())
}
