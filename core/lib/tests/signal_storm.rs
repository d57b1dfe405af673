//! A host that is flooded with signals (as every Go host is, by its runtime's
//! preemption) must see no failure: every host-side system call that a signal can
//! interrupt is retried.

mod common;

use common::{assert_ok, run_param, set};
use scpool_core::{Container, ContainerConfig, Limits};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Signals the handler has seen.
static DELIVERED: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    DELIVERED.fetch_add(1, Ordering::Relaxed);
}

/// Installs a SIGUSR1 handler *without* SA_RESTART, so that every slow system call
/// it interrupts fails with EINTR instead of being restarted by the kernel.
fn install_interrupting_handler() {
    // SAFETY: a zeroed sigaction is valid; the handler only touches an atomic, which
    // is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
}

/// The ids of this process's threads, the caller's own excepted.
fn other_threads() -> Vec<libc::pid_t> {
    // SAFETY: gettid has no arguments and cannot fail.
    let own = unsafe { libc::gettid() };
    std::fs::read_dir("/proc/self/task")
        .expect("listing /proc/self/task")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|tid| *tid != own)
        .collect()
}

/// Sends SIGUSR1 to every other thread of the process, over and over, until `stop`.
fn flood(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let pid = std::process::id() as libc::pid_t;
        let mut threads = other_threads();
        let mut round = 0u32;
        while !stop.load(Ordering::Relaxed) {
            // New threads (the library's spawner, output readers) join the flood.
            if round % 64 == 0 {
                threads = other_threads();
            }
            round = round.wrapping_add(1);
            for &tid in &threads {
                // SAFETY: tgkill with our own pid; a thread that has exited makes it
                // fail with ESRCH, which is harmless.
                unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR1) };
            }
            std::thread::sleep(Duration::from_micros(20));
        }
    })
}

#[test]
fn containers_and_runs_with_changing_memory_limits_survive_a_signal_flood() {
    install_interrupting_handler();
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = flood(stop.clone());

    let outcome = std::panic::catch_unwind(|| {
        let mut errors = Vec::new();
        let mut container = None;
        for run in 0..100u64 {
            // A few fresh containers along the way: creation (cgroup directories, the
            // init's start) is flooded too.
            if run % 25 == 0 {
                container = None;
                match Container::new(&ContainerConfig::default()) {
                    Ok(c) => container = Some(c),
                    Err(e) => {
                        errors.push(format!("creating a container before run {run}: {e}"));
                        continue;
                    }
                }
            }
            let Some(c) = container.as_mut() else {
                continue;
            };
            // Alternating limits: every run rewrites the memory (and memsw) limit.
            let mut param = run_param(["/bin/sh", "-c", "echo ok"]);
            param.limits = set!(
                Limits::default(),
                memory = Some(if run % 2 == 0 { 64 << 20 } else { 128 << 20 }),
                wall_time = Some(Duration::from_secs(30))
            );
            match c.run(&param) {
                Ok(r) => {
                    assert_ok(&r);
                    assert_eq!(r.stdout, b"ok\n");
                }
                Err(e) => errors.push(format!("run {run}: {e}")),
            }
        }
        errors
    });

    stop.store(true, Ordering::Relaxed);
    flooder.join().expect("the flooding thread");
    let errors = outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let delivered = DELIVERED.load(Ordering::Relaxed);
    // The flood must really have happened for the test to mean anything.
    assert!(delivered > 1000, "only {delivered} signals were delivered");
    assert!(
        errors.is_empty(),
        "{} failures under {delivered} signals:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
