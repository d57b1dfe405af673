//! A long-lived thread that starts every container init.
//!
//! The init asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG), and Linux
//! means the parent *thread*: an init cloned from a short-lived worker thread of a
//! Python or Go host would die with that thread. Cloning from this thread, which
//! lives as long as the process, ties the inits to the process instead.

use std::io;
use std::sync::mpsc;
use std::sync::Mutex;

type Job = Box<dyn FnOnce() + Send>;

/// The spawner's queue, with the pid that started it: after the host forks, the
/// child has the queue but not the thread, and must start its own.
static SPAWNER: Mutex<Option<(u32, mpsc::Sender<Job>)>> = Mutex::new(None);

fn sender() -> io::Result<mpsc::Sender<Job>> {
    let mut slot = SPAWNER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if let Some((owner, tx)) = slot.as_ref() {
        if *owner == pid {
            return Ok(tx.clone());
        }
    }
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("scpool-spawner".into())
        .spawn(move || {
            for job in rx {
                // A panicking job must not take the thread (and every later spawn) down.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        })?;
    *slot = Some((pid, tx.clone()));
    Ok(tx)
}

/// Runs `job` on the spawner thread and returns its result.
pub(crate) fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = done_tx.send(job());
    });
    let lost = || io::Error::other("the scpool spawner thread is gone");
    sender()?.send(job).map_err(|_| lost())?;
    done_rx.recv().map_err(|_| lost())
}
