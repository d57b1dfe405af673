//! SIGINT, SIGTERM and SIGHUP: tear down the containers, then exit with 128+N.
//!
//! The signals are blocked in every thread (threads inherit the mask `main` sets
//! before starting any) and taken by one thread with sigwait, which may then do what
//! any thread may. The container inits die with this process anyway
//! (PR_SET_PDEATHSIG); their cgroup directories would stay, and the program's
//! processes would linger until the kernel got round to them.

use nix::sys::signal::{SigSet, Signal};
use std::io;
use std::sync::{Mutex, PoisonError};

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Taken by whichever way out comes first: the signal thread or `main` finishing.
/// The other then never ends the process, so the exit status is one or the other's,
/// never a mix (a run the signal broke is not reported as an error).
static EXIT: Mutex<()> = Mutex::new(());

/// Blocks the signals in the calling thread (call it before any thread starts) and
/// starts the thread that takes them.
pub fn install() -> io::Result<()> {
    let set = blocked();
    set.thread_block()?;
    std::thread::Builder::new()
        .name("scpool-signals".into())
        .spawn(move || take_signal(&set))?;
    Ok(())
}

/// The signals this process takes in its signal thread.
pub fn blocked() -> SigSet {
    let mut set = SigSet::empty();
    for signal in SIGNALS {
        set.add(signal);
    }
    set
}

fn take_signal(set: &SigSet) {
    let signal = loop {
        match set.wait() {
            Ok(signal) => break signal,
            Err(nix::errno::Errno::EINTR) => continue,
            // sigwait fails otherwise only for an invalid set, which this is not.
            Err(_) => return,
        }
    };
    let _exiting = EXIT.lock().unwrap_or_else(PoisonError::into_inner);
    // Kills the run's processes and removes the container's cgroup directories; a
    // failure here has nowhere better to go than the exit status we give anyway.
    let _ = scpool_core::cgroup::teardown_for_exit();
    // SAFETY: _exit ends the process at once; no destructor is wanted now (the
    // containers are gone, and other threads may be using them).
    unsafe { libc::_exit(128 + signal as i32) }
}

/// Ends the process with the status `finish` reports (after it has printed what it
/// prints), unless a signal came first: then the signal thread ends it.
pub fn exit(finish: impl FnOnce() -> u8) -> ! {
    let _exiting = EXIT.lock().unwrap_or_else(PoisonError::into_inner);
    std::process::exit(i32::from(finish()))
}
