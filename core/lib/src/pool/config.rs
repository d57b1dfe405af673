//! How a pool sizes itself.

use crate::config::ContainerConfig;
use std::time::Duration;

/// Plain fields; `Default` gives a small pool of default containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// How every container of the pool is built.
    pub container: ContainerConfig,
    /// Idle containers kept ready (created at start and refilled in the background).
    pub min_idle: usize,
    /// Idle containers above this are destroyed, longest idle first.
    pub max_idle: usize,
    /// Containers alive at once: idle, in use, being created or reset.
    pub max_size: usize,
    /// How long `acquire()` waits when every container is busy (`acquire_timeout`
    /// overrides per call).
    pub acquire_timeout: Duration,
    /// How often the maintainer pings idle containers.
    pub health_check_interval: Duration,
    /// Idle containers above `min_idle` unused for this long are destroyed.
    pub idle_timeout: Duration,
    /// Ping a container before handing it out (a round trip, ~30 µs).
    pub ping_on_acquire: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            container: ContainerConfig::default(),
            min_idle: 2,
            max_idle: cores.max(2),
            max_size: (2 * cores).max(4),
            acquire_timeout: Duration::from_secs(30),
            health_check_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            ping_on_acquire: false,
        }
    }
}

impl PoolConfig {
    /// A pool that keeps `size` containers ready and never grows past them.
    pub fn with_size(size: usize) -> Self {
        Self {
            min_idle: size,
            max_idle: size,
            max_size: size,
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> crate::Result<()> {
        let invalid = |m: &str| Err(crate::Error::InvalidArgument(m.to_string()));
        if self.max_size == 0 {
            return invalid("max_size must be at least 1");
        }
        if self.min_idle > self.max_size || self.max_idle > self.max_size {
            return invalid("min_idle and max_idle must not exceed max_size");
        }
        if self.min_idle > self.max_idle {
            return invalid("min_idle must not exceed max_idle");
        }
        if self.health_check_interval.is_zero() || self.idle_timeout.is_zero() {
            return invalid("health_check_interval and idle_timeout must be positive");
        }
        Ok(())
    }
}
