//! The host's watchdog over a run's time limits: when to wake, when to kill, and
//! when an init that was told to kill has taken too long.

use crate::limits::Limits;
use std::time::{Duration, Instant};

/// How long the init may take to stop a run after the host asked it to.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// The init enforces the wall-time limit from the program's exec; the host steps in
/// only if it has not ended the run this long after the limit (counted from the
/// request, so it always comes later than the init's own deadline).
const WALL_BACKSTOP: Duration = Duration::from_secs(2);

/// Which limit made the host kill a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillReason {
    WallTime,
    CpuTime,
}

/// What the caller of [`RunWatch::tick`] does next.
pub(crate) enum Tick {
    /// Keep waiting for the init's reply.
    Continue,
    /// Ask the init to kill the run.
    Kill,
    /// The init did not stop a run it was told to kill: the container is broken.
    Unresponsive,
}

/// The host's side of a run's time limits: when to wake, when to kill.
pub(crate) struct RunWatch {
    wall_deadline: Option<Instant>,
    cpu_limit: Option<Duration>,
    cores: u32,
    next_cpu_check: Option<Instant>,
    /// Why the host killed the run, once it has.
    pub killed: Option<KillReason>,
    kill_deadline: Option<Instant>,
}

/// Cores this process may use, read once: `available_parallelism` reads cgroup
/// files on Linux, too slow for every run.
fn cores() -> u32 {
    static CORES: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32))
}

/// CPU usage is read at least this often while a CPU limit is set.
const CPU_POLL: Duration = Duration::from_millis(10);

impl RunWatch {
    /// Starts watching a run under `limits`; the CPU limit is the host's to watch
    /// only with a cgroup (without one, RLIMIT_CPU enforces it).
    pub fn new(limits: &Limits, has_cgroup: bool) -> Self {
        let cpu_limit = limits.cpu_time.filter(|_| has_cgroup);
        let now = Instant::now();
        Self {
            // A limit beyond the clock's range is no deadline at all.
            wall_deadline: limits
                .wall_time
                .and_then(|limit| now.checked_add(limit.saturating_add(WALL_BACKSTOP))),
            cpu_limit,
            // Reading the cgroup's CPU quota costs ~50 µs: only when it matters.
            cores: if cpu_limit.is_some() { cores() } else { 1 },
            next_cpu_check: cpu_limit.map(|limit| now + limit.min(CPU_POLL)),
            killed: None,
            kill_deadline: None,
        }
    }

    /// When to call [`tick`](Self::tick) if no reply came first; `None`: never.
    pub fn next_wake(&self) -> Option<Instant> {
        if self.killed.is_some() {
            return self.kill_deadline;
        }
        [self.wall_deadline, self.next_cpu_check]
            .into_iter()
            .flatten()
            .min()
    }

    /// Called when `next_wake` passed; `cpu_used` is the run's CPU time so far (ns).
    pub fn tick(&mut self, cpu_used: Option<u64>) -> Tick {
        let now = Instant::now();
        if self.killed.is_some() {
            let overdue = self.kill_deadline.is_some_and(|at| now >= at);
            return if overdue {
                Tick::Unresponsive
            } else {
                Tick::Continue
            };
        }
        if self.wall_deadline.is_some_and(|at| now >= at) {
            return self.kill(KillReason::WallTime, now);
        }
        if let (Some(limit), Some(used)) = (self.cpu_limit, cpu_used) {
            let left = limit.saturating_sub(Duration::from_nanos(used));
            if left.is_zero() {
                return self.kill(KillReason::CpuTime, now);
            }
            // Every core may be burning it: look again before it can run out.
            let wait = (left / self.cores).clamp(Duration::from_millis(1), CPU_POLL);
            self.next_cpu_check = Some(now + wait);
        }
        Tick::Continue
    }

    fn kill(&mut self, reason: KillReason, now: Instant) -> Tick {
        self.killed = Some(reason);
        self.kill_deadline = Some(now + KILL_GRACE);
        Tick::Kill
    }
}
