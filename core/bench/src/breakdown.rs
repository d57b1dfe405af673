//! Where a pooled run's time goes: the parts of each `execve` the library reports
//! (`Container::last_run_timing`), summarized by their medians.

use crate::json::Fixed;
use crate::stats::summarize;
use scpool_core::RunTiming;
use serde::Serialize;
use std::time::Duration;

/// The timings of the measured runs.
#[derive(Default)]
pub struct Breakdown(Vec<RunTiming>);

impl Breakdown {
    pub fn push(&mut self, timing: Option<RunTiming>) {
        self.0.extend(timing);
    }

    /// Forgets the first `n` (the warm-up's).
    pub fn skip(&mut self, n: usize) {
        self.0.drain(..n.min(self.0.len()));
    }

    /// Medians of each part, and the share of runs the standby runner served;
    /// `None` without samples.
    pub fn json(&self) -> Option<BreakdownJson> {
        if self.0.is_empty() {
            return None;
        }
        let median = |part: fn(&RunTiming) -> Duration| {
            let mut samples: Vec<Duration> = self.0.iter().map(part).collect();
            Fixed(summarize(&mut samples).median_us)
        };
        let served = self.0.iter().filter(|t| t.standby).count();
        Some(BreakdownJson {
            pooled_message_us: median(|t| t.message),
            pooled_exec_us: median(|t| t.exec),
            pooled_wait_us: median(|t| t.wait),
            pooled_accounting_us: median(|t| t.accounting),
            pooled_reply_us: median(|t| t.reply),
            pooled_standby_share: Fixed(served as f64 / self.0.len() as f64),
        })
    }
}

/// The JSON keys of the breakdown, medians in microseconds.
#[derive(Serialize, Debug, PartialEq)]
pub struct BreakdownJson {
    /// From the call to the init's receipt of the request.
    pub pooled_message_us: Fixed<1>,
    /// From the receipt to the program's exec.
    pub pooled_exec_us: Fixed<1>,
    /// From the exec to the reaping of the program.
    pub pooled_wait_us: Fixed<1>,
    /// The init's and the host's figures after the program ended.
    pub pooled_accounting_us: Fixed<1>,
    /// From the init's reply to its arrival at the host.
    pub pooled_reply_us: Fixed<1>,
    /// Runs the init's standby runner served.
    pub pooled_standby_share: Fixed<3>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(us: u64, standby: bool) -> RunTiming {
        let d = Duration::from_micros(us);
        let mut t = RunTiming::default();
        t.message = d;
        t.exec = 2 * d;
        t.wait = 3 * d;
        t.accounting = 4 * d;
        t.reply = 5 * d;
        t.standby = standby;
        t
    }

    #[test]
    fn medians_of_each_part_and_the_standby_share() {
        let mut b = Breakdown::default();
        assert_eq!(b.json(), None);
        b.push(Some(timing(1000, false)));
        for us in [10, 30, 20] {
            b.push(Some(timing(us, true)));
        }
        b.push(None);
        b.skip(1);
        let json = b.json().unwrap();
        assert_eq!(json.pooled_message_us.0, 20.0);
        assert_eq!(json.pooled_exec_us.0, 40.0);
        assert_eq!(json.pooled_wait_us.0, 60.0);
        assert_eq!(json.pooled_accounting_us.0, 80.0);
        assert_eq!(json.pooled_reply_us.0, 100.0);
        assert_eq!(json.pooled_standby_share.0, 1.0);
    }
}
