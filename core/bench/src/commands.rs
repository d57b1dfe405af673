//! Whole commands timed from outside, side by side: `scpool run` of a no-op against
//! `bwrap --unshare-all` and a plain fork+exec of it, interleaved run for run so
//! that all three see the same machine.

use crate::error::BenchError;
use crate::stats::{summarize, Summary};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Commands {
    pub host: Summary,
    pub scpool: Summary,
    pub bwrap: Option<Summary>,
}

/// Runs `command` to completion; it must succeed.
fn timed(command: &mut Command, what: &str) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| BenchError::runtime(format!("running {what}: {e}")))?;
    let took = started.elapsed();
    if !status.success() {
        return Err(BenchError::runtime(format!("{what} failed: {status}")));
    }
    Ok(took)
}

/// `scpool run --host-exec -- NOOP` with the `scpool` beside this executable (they
/// are built and installed together).
fn scpool_run(noop: &Path) -> Result<Command, BenchError> {
    let exe = std::env::current_exe()
        .map_err(|e| BenchError::runtime(format!("finding the scpool executable: {e}")))?
        .with_file_name("scpool");
    let mut command = Command::new(exe);
    command.args(["run", "--host-exec", "--"]).arg(noop);
    Ok(command)
}

/// Times `runs` rounds of each command after `warmup` unmeasured ones; each round
/// starts with the next command in turn, so none always runs first.
pub fn measure(
    noop: &Path,
    bwrap: Option<fn(&Path) -> Command>,
    runs: usize,
    warmup: usize,
) -> Result<Commands, BenchError> {
    let scpool_command = || scpool_run(noop);
    let contenders = if bwrap.is_some() { 3 } else { 2 };
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); contenders];
    for round in 0..warmup + runs {
        for turn in 0..contenders {
            let which = (round + turn) % contenders;
            let took = match (which, bwrap) {
                (0, _) => timed(&mut Command::new(noop), "the no-op")?,
                (1, _) => timed(&mut scpool_command()?, "scpool run")?,
                (_, Some(command)) => timed(&mut command(noop), "bwrap")?,
                (_, None) => unreachable!("two contenders without bwrap"),
            };
            if round >= warmup {
                samples[which].push(took);
            }
        }
    }
    Ok(Commands {
        host: summarize(&mut samples[0]),
        scpool: summarize(&mut samples[1]),
        bwrap: samples.get_mut(2).map(|s| summarize(s)),
    })
}
