//! Summaries of timing samples.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median_us: f64,
    pub p99_us: f64,
}

/// Median and 99th percentile (nearest rank) of `samples`, in microseconds.
/// `samples` must not be empty; it is sorted in place.
pub fn summarize(samples: &mut [Duration]) -> Summary {
    assert!(!samples.is_empty(), "no samples to summarize");
    samples.sort_unstable();
    let us = |d: Duration| d.as_nanos() as f64 / 1000.0;
    let n = samples.len();
    let median_us = if n % 2 == 1 {
        us(samples[n / 2])
    } else {
        (us(samples[n / 2 - 1]) + us(samples[n / 2])) / 2.0
    };
    // Nearest rank: the smallest sample with at least 99% of samples at or below it.
    let p99_rank = (n * 99).div_ceil(100);
    Summary {
        median_us,
        p99_us: us(samples[p99_rank - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_micros(v)).collect()
    }

    #[test]
    fn odd_and_even_medians() {
        assert_eq!(summarize(&mut micros(&[3, 1, 2])).median_us, 2.0);
        assert_eq!(summarize(&mut micros(&[4, 1, 3, 2])).median_us, 2.5);
        assert_eq!(summarize(&mut micros(&[7])).median_us, 7.0);
    }

    #[test]
    fn p99_is_the_nearest_rank() {
        let mut hundred: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(summarize(&mut hundred).p99_us, 99.0);
        let mut thousand: Vec<Duration> = (1..=1000).rev().map(Duration::from_micros).collect();
        let summary = summarize(&mut thousand);
        assert_eq!(summary.p99_us, 990.0);
        assert_eq!(summary.median_us, 500.5);
        assert_eq!(summarize(&mut micros(&[5, 9])).p99_us, 9.0);
    }
}
