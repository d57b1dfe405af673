//! Starting a container's init: its cgroup, its namespaces, the init born in (v1)
//! or moved into (v2) the cgroup. Used by `Container::new` and by the stock of
//! spare inits (`spare`).

use crate::cgroup::{self, CgroupConfig, CgroupMode, ContainerCgroup};
use crate::error::{Error, Result};
use crate::init_image;
use crate::namespace::{self, InitProcess};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use std::os::fd::OwnedFd;

/// An init, started and in its cgroup, waiting for its set-up request.
pub(crate) struct Started {
    pub init: InitProcess,
    /// The host's end of the control socket.
    pub socket: OwnedFd,
    pub cgroup: Option<ContainerCgroup>,
    /// Why there is no cgroup, when there is none.
    pub no_cgroup: Option<String>,
}

/// Starts an init: its cgroup as `cgroup_config` asks, its namespaces (a user
/// namespace whose root maps to `user_ns` when given).
pub(crate) fn start(cgroup_config: &CgroupConfig, user_ns: Option<u32>) -> Result<Started> {
    let (cgroup, no_cgroup) = create_cgroup(cgroup_config)?;
    let image = init_image::fd().map_err(|e| Error::Setup(e.to_string()))?;
    let (socket, init_end) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::io("socketpair", e))?;
    // The init lives in the container's cgroup, so runners are born in it: moving
    // a process between cgroups can wait for an RCU grace period (milliseconds),
    // which every run would otherwise pay. On v1 it is born there too.
    let step = cgroup.as_ref().and_then(ContainerCgroup::thread_step);
    let born_inside = step.is_some();
    let init = namespace::spawn_init(image, init_end, user_ns, step)
        .map_err(|e| Error::Setup(e.to_string()))?;
    let started = Started {
        init,
        socket,
        cgroup,
        no_cgroup,
    };
    if let Some(cgroup) = started.cgroup.as_ref().filter(|_| !born_inside) {
        if let Err(e) = cgroup.enter(started.init.pid) {
            started.init.kill_and_reap();
            return Err(Error::Setup(format!(
                "moving the init into its cgroup: {e}"
            )));
        }
    }
    // The OOM killer must pick the program, never the init: -1000 where the host
    // may lower the score (CAP_SYS_RESOURCE); runners raise theirs to 1000 either
    // way, and `ContainerCgroup::end_run` lifts a limit the run's files filled.
    let _ = std::fs::write(format!("/proc/{}/oom_score_adj", started.init.pid), "-1000");
    Ok(started)
}

/// The container's cgroup as its config asks, or why it has none.
fn create_cgroup(config: &CgroupConfig) -> Result<(Option<ContainerCgroup>, Option<String>)> {
    if config.mode == CgroupMode::Off {
        return Ok((
            None,
            Some("cgroups are turned off in the container config".into()),
        ));
    }
    let made = cgroup::layout_for(config)
        .and_then(|layout| ContainerCgroup::create(&layout, config).map_err(|e| e.to_string()));
    match (made, &config.mode) {
        (Ok(cgroup), _) => Ok((Some(cgroup), None)),
        (Err(why), CgroupMode::Required) => Err(Error::Setup(format!("cgroup: {why}"))),
        (Err(why), _) => Ok((None, Some(why))),
    }
}
