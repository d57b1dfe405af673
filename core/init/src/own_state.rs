//! The init's own process state that a program sharing its uid could change from
//! outside (rootless mode: one id is mapped, so the runner has the init's uid):
//! resource limits (prlimit64), scheduling policy, nice value, CPU affinity and I/O
//! priority. Captured once before any program runs and compared after every run,
//! when every process of the run is gone and nothing can change it any more. A
//! difference means the container may not be reused: a lowered hard limit cannot be
//! raised again without a privilege the init lacks.
//!
//! The affinity is the exception: the host's cpuset for a run (a CPU set limit)
//! changes it legitimately, so it is not compared; after each run the init asks
//! for its starting mask again instead, which the kernel cuts to the cgroup's
//! CPUs, and a narrowing from outside never reaches the next runner.

/// Resource limits the kernel knows (RLIM_NLIMITS).
pub const RLIMITS: u32 = 16;

#[derive(Clone)]
pub struct OwnState {
    /// (soft, hard) per resource.
    pub limits: [(u64, u64); RLIMITS as usize],
    policy: i32,
    nice: i32,
    /// Not compared (see the module's comment).
    affinity: [u64; 16],
    ioprio: i32,
}

impl PartialEq for OwnState {
    fn eq(&self, other: &Self) -> bool {
        (self.limits, self.policy, self.nice, self.ioprio)
            == (other.limits, other.policy, other.nice, other.ioprio)
    }
}

impl Eq for OwnState {}

fn limit(resource: u32) -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit; an unknown resource leaves it zeroed.
    unsafe { libc::getrlimit(resource as _, &mut lim) };
    (lim.rlim_cur, lim.rlim_max)
}

impl OwnState {
    pub fn capture() -> Self {
        let mut limits = [(0, 0); RLIMITS as usize];
        for (resource, slot) in limits.iter_mut().enumerate() {
            *slot = limit(resource as u32);
        }
        let mut affinity = [0u64; 16];
        // SAFETY: getpriority, sched_getscheduler and ioprio_get only read this
        // process's state; the affinity buffer is as large as the size passed.
        let (policy, nice, ioprio) = unsafe {
            *libc::__errno_location() = 0;
            let nice = libc::getpriority(libc::PRIO_PROCESS, 0);
            libc::syscall(
                libc::SYS_sched_getaffinity,
                0,
                std::mem::size_of_val(&affinity),
                affinity.as_mut_ptr(),
            );
            let ioprio = libc::syscall(libc::SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0) as i32;
            (libc::sched_getscheduler(0), nice, ioprio)
        };
        Self {
            limits,
            policy,
            nice,
            affinity,
            ioprio,
        }
    }
}

impl OwnState {
    /// Asks for the starting affinity again; the kernel keeps only the CPUs of
    /// the cgroup's cpuset (none in common: the call fails and the cpuset's CPUs
    /// stay, which is what the run's limit asks for).
    pub fn restore_affinity(&self) {
        // SAFETY: sched_setaffinity reads a mask of the size passed.
        unsafe {
            libc::syscall(
                libc::SYS_sched_setaffinity,
                0,
                std::mem::size_of_val(&self.affinity),
                self.affinity.as_ptr(),
            );
        }
    }
}
