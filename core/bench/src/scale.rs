//! The scale figure of `scpool bench`: what 500 idle containers of one pool cost the
//! host, per container: the time to create them, memory, descriptors and threads.

use crate::error::BenchError;
use scpool_core::{Pool, PoolConfig};
use std::time::Instant;

/// Idle containers the figure is taken over.
pub const CONTAINERS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub containers: usize,
    pub create_us: f64,
    /// The inits' proportional set size plus the host's growth in resident memory.
    pub kib: f64,
    pub fds: f64,
    pub threads: f64,
}

/// The host's state the figure compares.
struct Host {
    fds: usize,
    threads: usize,
    rss_kib: u64,
}

impl Host {
    fn now() -> Self {
        // The stock of spare inits the library keeps while containers are made
        // (two) is not part of the containers' cost.
        scpool_core::flush();
        Self {
            fds: count("/proc/self/fd"),
            threads: count("/proc/self/task"),
            rss_kib: status_kib("VmRSS:").unwrap_or(0),
        }
    }
}

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&status, key)
}

/// The number after `key` in a "Key:   123 kB" listing.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Proportional set size of every child process of ours (the containers' inits),
/// in KiB: shared pages (the init image) count once in all.
fn children_pss_kib() -> u64 {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("status"))
                .is_ok_and(|s| kib_field(&s, "PPid:").map(|p| p.to_string()) == Some(me.clone()))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("smaps_rollup")).ok())
        .filter_map(|rollup| kib_field(&rollup, "Pss:"))
        .sum()
}

/// Creates a pool of [`CONTAINERS`] idle containers and measures what each costs.
pub fn measure() -> Result<Scale, BenchError> {
    let before = Host::now();
    let started = Instant::now();
    let pool = Pool::new(PoolConfig::with_size(CONTAINERS))
        .map_err(|e| BenchError::from_core("creating a pool of 500", e))?;
    let create = started.elapsed();
    let after = Host::now();
    let pss = children_pss_kib();
    drop(pool);
    let n = CONTAINERS as f64;
    let grew = |a: usize, b: usize| a.saturating_sub(b) as f64 / n;
    Ok(Scale {
        containers: CONTAINERS,
        create_us: create.as_nanos() as f64 / 1000.0 / n,
        kib: (pss + after.rss_kib.saturating_sub(before.rss_kib)) as f64 / n,
        fds: grew(after.fds, before.fds),
        threads: grew(after.threads, before.threads),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_fields_are_read_by_key() {
        let text = "Name:\tx\nPPid:\t42\nVmRSS:\t  1234 kB\n";
        assert_eq!(kib_field(text, "VmRSS:"), Some(1234));
        assert_eq!(kib_field(text, "PPid:"), Some(42));
        assert_eq!(kib_field(text, "Pss:"), None);
    }
}
