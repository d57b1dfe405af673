//! The maintainer thread: refills the pool to `min_idle`, evicts idle containers
//! above `max_idle` or idle too long, and health-checks idle ones; it wakes on
//! events and at least once per check period.

use super::{Shared, State};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

type Guard<'a> = MutexGuard<'a, State>;

/// What one part of the maintainer did with the lock it was handed.
enum Step<'a> {
    /// Nothing to do: the next part may look.
    Nothing(Guard<'a>),
    /// It acted (the pool changed, or a failure made it wait): look again from the
    /// first part.
    Acted(Guard<'a>),
}

/// The maintainer's loop: the first part with work to do acts, then every part
/// looks again; with nothing to do it sleeps until an event or the next period.
pub(super) fn maintain(shared: &Shared) {
    let config = &shared.config;
    let period = config
        .health_check_interval
        .min(config.idle_timeout)
        .min(Duration::from_secs(1));
    let mut state = shared.lock();
    while !state.closed {
        state = match refill(shared, state, period) {
            Step::Acted(state) => state,
            Step::Nothing(state) => match evict(shared, state) {
                Step::Acted(state) => state,
                Step::Nothing(state) => match health_check(shared, state) {
                    Step::Acted(state) => state,
                    Step::Nothing(state) => wait(shared, state, period),
                },
            },
        };
    }
}

/// Creates one container when fewer than `min_idle` are ready (idle, or on their
/// way to idle) and the pool is under `max_size`. A failure waits a period rather
/// than spinning.
fn refill<'a>(shared: &'a Shared, state: Guard<'a>, period: Duration) -> Step<'a> {
    let config = &shared.config;
    let ready = state.idle.len() + state.creating + state.resetting + state.checking;
    if ready >= config.min_idle || state.total() >= config.max_size {
        return Step::Nothing(state);
    }
    let (state, made) = shared.create_unlocked(state);
    Step::Acted(match made {
        Ok(container) => {
            shared.return_idle(state, container, false);
            shared.lock()
        }
        Err(_) => wait(shared, state, period),
    })
}

/// Destroys the oldest idle container when there are more than `max_idle`, or
/// more than `min_idle` and it has been idle for `idle_timeout`.
fn evict<'a>(shared: &'a Shared, mut state: Guard<'a>) -> Step<'a> {
    let config = &shared.config;
    let now = Instant::now();
    let evict = state.idle.len() > config.max_idle
        || (state.idle.len() > config.min_idle
            && state
                .idle
                .front()
                .is_some_and(|i| now - i.since >= config.idle_timeout));
    if !evict {
        return Step::Nothing(state);
    }
    let oldest = state.idle.pop_front().expect("idle is not empty");
    drop(state);
    shared.destroy(oldest.container);
    Step::Acted(shared.lock())
}

/// Pings the idle container checked longest ago, if its check is due: a healthy
/// one goes back in its place in age order, a dead one is destroyed.
fn health_check<'a>(shared: &'a Shared, mut state: Guard<'a>) -> Step<'a> {
    let config = &shared.config;
    let now = Instant::now();
    let due = state
        .idle
        .iter()
        .enumerate()
        .filter(|(_, i)| now - i.checked >= config.health_check_interval)
        .min_by_key(|(_, i)| i.checked)
        .map(|(at, _)| at);
    let Some(at) = due else {
        return Step::Nothing(state);
    };
    let mut entry = state.idle.remove(at).expect("index from the iteration");
    state.checking += 1;
    drop(state);
    let healthy = entry.container.ping().is_ok();
    let mut state = shared.lock();
    state.checking -= 1;
    if healthy && !state.closed {
        entry.checked = Instant::now();
        let position = state
            .idle
            .iter()
            .position(|i| i.since > entry.since)
            .unwrap_or(state.idle.len());
        state.idle.insert(position, entry);
        shared.available.notify_one();
        Step::Acted(state)
    } else {
        drop(state);
        shared.destroy(entry.container);
        shared.available.notify_all();
        Step::Acted(shared.lock())
    }
}

/// Sleeps until an event wakes the maintainer or `period` passes.
fn wait<'a>(shared: &'a Shared, state: Guard<'a>, period: Duration) -> Guard<'a> {
    shared
        .maintain
        .wait_timeout(state, period)
        .map_or_else(|p| p.into_inner().0, |r| r.0)
}
