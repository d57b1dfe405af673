//! How a pool sizes itself.

use crate::config::ContainerConfig;
use std::time::Duration;

/// Plain fields; `Default` gives a small pool of default containers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

    /// Sets the sizes given and fits those not given around them: the one rule of
    /// every language. Not given, `max_size` is raised to hold the idle counts
    /// given, `max_idle` is raised to `min_idle` and lowered to `max_size`, and
    /// `min_idle` is lowered to `max_idle` (so `min_idle: 8` alone or `max_size: 1`
    /// alone just work). Sizes given are never changed: given ones that contradict
    /// each other (`min_idle > max_size`...) are refused with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) by `Pool::new`.
    pub fn set_sizes(
        &mut self,
        min_idle: Option<usize>,
        max_idle: Option<usize>,
        max_size: Option<usize>,
    ) {
        self.min_idle = min_idle.unwrap_or(self.min_idle);
        self.max_idle = max_idle.unwrap_or(self.max_idle);
        self.max_size = max_size.unwrap_or(self.max_size);
        if max_size.is_none() {
            self.max_size = self.max_size.max(self.max_idle).max(self.min_idle);
        }
        if max_idle.is_none() {
            self.max_idle = self.max_idle.max(self.min_idle).min(self.max_size);
        }
        if min_idle.is_none() {
            self.min_idle = self.min_idle.min(self.max_idle);
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

#[cfg(test)]
mod tests {
    use super::PoolConfig;

    fn sizes(min: Option<usize>, max_idle: Option<usize>, max: Option<usize>) -> [usize; 3] {
        let mut c = PoolConfig::default();
        (c.min_idle, c.max_idle, c.max_size) = (2, 4, 8);
        c.set_sizes(min, max_idle, max);
        [c.min_idle, c.max_idle, c.max_size]
    }

    #[test]
    fn sizes_not_given_fit_around_those_given() {
        assert_eq!(sizes(None, None, None), [2, 4, 8]);
        assert_eq!(sizes(Some(12), None, None), [12, 12, 12]);
        assert_eq!(sizes(None, Some(10), None), [2, 10, 10]);
        assert_eq!(sizes(None, None, Some(1)), [1, 1, 1]);
        assert_eq!(sizes(None, None, Some(3)), [2, 3, 3]);
        assert_eq!(sizes(Some(0), Some(0), None), [0, 0, 8]);
    }

    #[test]
    fn sizes_given_stay_and_contradictions_are_refused() {
        assert_eq!(sizes(Some(5), None, Some(3)), [5, 3, 3]);
        let mut c = PoolConfig::default();
        c.set_sizes(Some(5), None, Some(3));
        let err = c.validate().unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument(_)), "{err}");
    }
}
