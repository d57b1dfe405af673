//! `scpool bench`: what a run costs compared with a plain fork+exec, all measured in
//! this one process.

use crate::args::BenchOptions;
use crate::error::CliError;
use crate::json::JsonObject;
use crate::noop::NoopProgram;
use crate::stats::{summarize, Summary};
use scpool_core::{Container, ContainerConfig, ExecveParam, Status};
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Fewest container creations measured, whatever --runs says.
const MIN_CREATE_RUNS: usize = 20;

struct Figures {
    runs: usize,
    create_runs: usize,
    floor: Summary,
    execve: Summary,
    create: Summary,
}

pub fn run(options: &BenchOptions) -> Result<(), CliError> {
    let noop = NoopProgram::build()?;
    let runs = options.runs;
    let create_runs = (runs / 10).max(MIN_CREATE_RUNS);
    let warmup = (runs / 10).clamp(10, 100);

    let floor = measure(runs, warmup, || spawn_on_host(noop.path()))?;

    let mut container = Container::new(&ContainerConfig::default())
        .map_err(|e| CliError::from_core("creating the container", e))?;
    // A memfd copy runs without the program being visible inside the container.
    let exec_file = scpool_core::memfd_copy_of(noop.path())
        .map_err(|e| CliError::from_core("loading the no-op", e))?;
    let execve = measure(runs, warmup, || {
        execve_in(&mut container, noop.path(), &exec_file)
    })?;
    drop(container);

    let create = measure(create_runs, warmup.min(MIN_CREATE_RUNS), create_and_destroy)?;
    drop(noop);

    let figures = Figures {
        runs,
        create_runs,
        floor,
        execve,
        create,
    };
    let text = if options.json {
        format!("{}\n", to_json(&figures))
    } else {
        to_table(&figures)
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::runtime(format!("writing the results: {e}")))
}

/// Runs `once` `warmup` times unmeasured, then `runs` times timed.
fn measure(
    runs: usize,
    warmup: usize,
    mut once: impl FnMut() -> Result<(), CliError>,
) -> Result<Summary, CliError> {
    for _ in 0..warmup {
        once()?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        once()?;
        samples.push(start.elapsed());
    }
    Ok(summarize(&mut samples))
}

/// The floor: fork+exec+wait on the host, no sandbox.
fn spawn_on_host(program: &Path) -> Result<(), CliError> {
    let status = Command::new(program)
        .status()
        .map_err(|e| CliError::runtime(format!("running {}: {e}", program.display())))?;
    if !status.success() {
        return Err(CliError::runtime(format!(
            "the no-op failed on the host: {status}"
        )));
    }
    Ok(())
}

fn execve_in(
    container: &mut Container,
    program: &Path,
    exec_file: &OwnedFd,
) -> Result<(), CliError> {
    let mut param = ExecveParam::new([program]);
    param.exec_file = Some(exec_file.as_fd());
    let result = container
        .execve(&param)
        .map_err(|e| CliError::from_core("running the no-op in the container", e))?;
    if result.status != Status::Ok {
        return Err(CliError::runtime(format!(
            "the no-op failed in the container: {} {}",
            result.status, result.message
        )));
    }
    Ok(())
}

fn create_and_destroy() -> Result<(), CliError> {
    Container::new(&ContainerConfig::default())
        .map(Container::destroy)
        .map_err(|e| CliError::from_core("creating a container", e))
}

fn to_json(f: &Figures) -> String {
    JsonObject::new()
        .uint("runs", f.runs as u64)
        .uint("create_runs", f.create_runs as u64)
        .number("floor_us", f.floor.median_us, 1)
        .number("floor_p99_us", f.floor.p99_us, 1)
        .number("execve_us", f.execve.median_us, 1)
        .number("execve_p99_us", f.execve.p99_us, 1)
        .number("create_us", f.create.median_us, 1)
        .number("create_p99_us", f.create.p99_us, 1)
        .number(
            "execve_per_floor",
            f.execve.median_us / f.floor.median_us,
            3,
        )
        .number(
            "create_per_execve",
            f.create.median_us / f.execve.median_us,
            3,
        )
        .finish()
}

fn to_table(f: &Figures) -> String {
    let row = |name: &str, s: &Summary, what: &str| {
        format!(
            "{name:<8} {:>11.1} {:>11.1}   {what}\n",
            s.median_us, s.p99_us
        )
    };
    let mut table = format!("{:<8} {:>11} {:>11}\n", "", "median(us)", "p99(us)");
    table += &row(
        "floor",
        &f.floor,
        &format!(
            "fork+exec+wait of a static no-op on the host ({} runs)",
            f.runs
        ),
    );
    table += &row(
        "execve",
        &f.execve,
        &format!("the no-op in an existing container ({} runs)", f.runs),
    );
    table += &row(
        "create",
        &f.create,
        &format!("container create + destroy ({} runs)", f.create_runs),
    );
    table += &format!(
        "execve/floor  {:.2}\ncreate/execve {:.1}\n",
        f.execve.median_us / f.floor.median_us,
        f.create.median_us / f.execve.median_us
    );
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Figures {
        let summary = |median_us, p99_us| Summary { median_us, p99_us };
        Figures {
            runs: 1000,
            create_runs: 100,
            floor: summary(200.0, 300.0),
            execve: summary(300.0, 450.26),
            create: summary(6000.0, 9000.0),
        }
    }

    #[test]
    fn json_has_medians_p99s_and_ratios() {
        assert_eq!(
            to_json(&figures()),
            r#"{"runs":1000,"create_runs":100,"floor_us":200.0,"floor_p99_us":300.0,"execve_us":300.0,"execve_p99_us":450.3,"create_us":6000.0,"create_p99_us":9000.0,"execve_per_floor":1.500,"create_per_execve":20.000}"#
        );
    }

    #[test]
    fn table_lists_each_measurement_and_ratio() {
        let table = to_table(&figures());
        assert!(
            table.contains("floor          200.0       300.0"),
            "{table}"
        );
        assert!(table.contains("execve/floor  1.50"), "{table}");
        assert!(table.contains("create/execve 20.0"), "{table}");
    }
}
