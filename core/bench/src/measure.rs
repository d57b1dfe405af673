//! What a run costs compared with a plain fork+exec, all measured in
//! this one process on this machine, so the ratios mean something.
//!
//! - floor: fork+exec+wait of a static no-op on the host, no sandbox;
//! - execve: the no-op run in an existing container;
//! - pooled: acquire + execve + release from a pool (release resets off the path);
//! - pooled through the C ABI (interleaved with the Rust one, run for run) and, with
//!   `--python`, through the Python module;
//! - acquire: the acquire alone, from idle;
//! - fresh: create a container + execve + destroy;
//! - create: create + destroy;
//! - bwrap: the no-op under bubblewrap with new namespaces, when `bwrap` is installed;
//! - throughput: pooled runs per second with 1 thread, 2 threads and one per core;
//! - idle memory: an idle container's init's anonymous memory (its image is shared);
//! - commands: `scpool run` of a no-op as a whole command, against bwrap and a
//!   fork+exec of it (see `commands`);
//! - scale: 500 idle containers of one pool, per container: creation time, memory,
//!   descriptors and threads (see `scale`).

use crate::args::BenchArgs;
use crate::breakdown::{Breakdown, BreakdownJson};
use crate::c_abi::CAbiPool;
use crate::commands::{self, Commands};
use crate::error::BenchError;
use crate::json::{self, Fixed};
use crate::noop::NoopProgram;
use crate::python;
use crate::scale::{self, Scale};
use crate::stats::{summarize, Summary};
use scpool_core::{Container, ContainerConfig, ExecveParam, Pool, PoolConfig, Status};
use serde::{Serialize, Serializer};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

/// Fewest container creations measured, whatever --runs says.
const MIN_CREATE_RUNS: usize = 20;

struct Figures {
    runs: usize,
    create_runs: usize,
    floor: Summary,
    execve: Summary,
    pooled: Summary,
    pooled_c: Summary,
    pooled_python: Option<Summary>,
    acquire: Summary,
    /// The parts of the pooled runs' execve.
    breakdown: Option<BreakdownJson>,
    fresh: Summary,
    create: Summary,
    bwrap: Option<Summary>,
    /// (threads, runs per second)
    throughput: Vec<(usize, f64)>,
    idle_anon_kib: Option<u64>,
    commands: Commands,
    scale: Scale,
}

pub fn run(options: &BenchArgs) -> Result<(), BenchError> {
    let noop = NoopProgram::build()?;
    let runs = options.runs;
    let create_runs = (runs / 10).max(MIN_CREATE_RUNS);
    let warmup = (runs / 10).clamp(10, 100);
    // A memfd copy runs without the program being visible inside the container.
    let exec_file = scpool_core::memfd_copy_of(noop.path())
        .map_err(|e| BenchError::from_core("loading the no-op", e))?;
    let param = noop_param(noop.path(), &exec_file);

    let floor = measure(runs, warmup, || spawn_on_host(noop.path()))?;

    let mut container = Container::new(&ContainerConfig::default())
        .map_err(|e| BenchError::from_core("creating the container", e))?;
    let execve = measure(runs, warmup, || execve_in(&mut container, &param))?;
    let idle_anon_kib = anon_kib(container.init_pid());
    drop(container);

    let pool = Pool::new(PoolConfig::with_size(2))
        .map_err(|e| BenchError::from_core("creating the pool", e))?;
    let c_pool = CAbiPool::new(2, noop.path(), exec_file.as_raw_fd())?;
    let mut acquire_samples = Vec::with_capacity(runs);
    let mut breakdown = Breakdown::default();
    let (pooled, pooled_c) = measure_pair(
        runs,
        warmup,
        || {
            let started = Instant::now();
            let mut c = pool
                .acquire()
                .map_err(|e| BenchError::from_core("acquiring a container", e))?;
            acquire_samples.push(started.elapsed());
            execve_in(&mut c, &param)?;
            breakdown.push(c.last_run_timing());
            Ok(())
        },
        || c_pool.run_once(),
    )?;
    acquire_samples.drain(..warmup.min(acquire_samples.len()));
    let acquire = summarize(&mut acquire_samples);
    breakdown.skip(warmup);
    let breakdown = breakdown.json();
    drop(pool);
    drop(c_pool);
    let pooled_python = match &options.python {
        Some(python) => Some(python::measure(python, runs, noop.path())?),
        None => None,
    };

    let fresh = measure(create_runs, warmup.min(MIN_CREATE_RUNS), || {
        let mut c = Container::new(&ContainerConfig::default())
            .map_err(|e| BenchError::from_core("creating a container", e))?;
        execve_in(&mut c, &param)
    })?;
    let create = measure(create_runs, warmup.min(MIN_CREATE_RUNS), || {
        Container::new(&ContainerConfig::default())
            .map(Container::destroy)
            .map_err(|e| BenchError::from_core("creating a container", e))
    })?;
    let bwrap = match bwrap_available() {
        true => Some(measure(create_runs, 5, || under_bwrap(noop.path()))?),
        false => None,
    };
    let tiny = NoopProgram::build_tiny()?;
    let bwrap_command: Option<fn(&Path) -> Command> = bwrap.is_some().then_some(bwrap_command);
    let commands = commands::measure(tiny.path(), bwrap_command, create_runs, 5)?;
    drop(tiny);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut throughput = Vec::new();
    for threads in worker_counts(cores) {
        let rate = runs_per_second(threads, runs, &param_source(&noop, &exec_file))?;
        throughput.push((threads, rate));
    }
    drop(noop);
    let scale = scale::measure()?;

    let figures = Figures {
        runs,
        create_runs,
        floor,
        execve,
        pooled,
        pooled_c,
        pooled_python,
        acquire,
        breakdown,
        fresh,
        create,
        bwrap,
        throughput,
        idle_anon_kib,
        commands,
        scale,
    };
    let text = if options.json {
        format!("{}\n", to_json(&figures))
    } else {
        to_table(&figures)
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| BenchError::runtime(format!("writing the results: {e}")))
}

/// Runs `once` `warmup` times unmeasured, then `runs` times timed.
fn measure(
    runs: usize,
    warmup: usize,
    mut once: impl FnMut() -> Result<(), BenchError>,
) -> Result<Summary, BenchError> {
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

/// Like [`measure`] for two variants, alternating one run of each so that both see
/// the same machine state.
fn measure_pair(
    runs: usize,
    warmup: usize,
    mut first: impl FnMut() -> Result<(), BenchError>,
    mut second: impl FnMut() -> Result<(), BenchError>,
) -> Result<(Summary, Summary), BenchError> {
    for _ in 0..warmup {
        first()?;
        second()?;
    }
    let mut a = Vec::with_capacity(runs);
    let mut b = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        first()?;
        a.push(start.elapsed());
        let start = Instant::now();
        second()?;
        b.push(start.elapsed());
    }
    Ok((summarize(&mut a), summarize(&mut b)))
}

/// The floor: fork+exec+wait on the host, no sandbox.
fn spawn_on_host(program: &Path) -> Result<(), BenchError> {
    let status = Command::new(program)
        .status()
        .map_err(|e| BenchError::runtime(format!("running {}: {e}", program.display())))?;
    if !status.success() {
        return Err(BenchError::runtime(format!(
            "the no-op failed on the host: {status}"
        )));
    }
    Ok(())
}

fn noop_param<'fd>(program: &Path, exec_file: &'fd OwnedFd) -> ExecveParam<'fd> {
    let mut param = ExecveParam::new([program]);
    param.exec_file = Some(exec_file.as_fd());
    param
}

fn execve_in(container: &mut Container, param: &ExecveParam<'_>) -> Result<(), BenchError> {
    let result = container
        .execve(param)
        .map_err(|e| BenchError::from_core("running the no-op in the container", e))?;
    if result.status != Status::Ok {
        return Err(BenchError::runtime(format!(
            "the no-op failed in the container: {} {}",
            result.status, result.message
        )));
    }
    Ok(())
}

/// Throughput is measured with 1, 2 and one worker per core.
fn worker_counts(cores: usize) -> Vec<usize> {
    let mut counts = vec![1, 2, cores];
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// What each throughput thread needs to build its own parameters.
struct ParamSource {
    path: std::path::PathBuf,
    exec_file: OwnedFd,
}

fn param_source(noop: &NoopProgram, exec_file: &OwnedFd) -> ParamSource {
    ParamSource {
        path: noop.path().to_path_buf(),
        exec_file: exec_file.try_clone().expect("duplicating a descriptor"),
    }
}

/// Pooled runs per second with `threads` threads sharing one pool of that size.
fn runs_per_second(threads: usize, runs: usize, source: &ParamSource) -> Result<f64, BenchError> {
    let pool = Arc::new(
        Pool::new(PoolConfig::with_size(threads + 1))
            .map_err(|e| BenchError::from_core("creating the pool", e))?,
    );
    let per_thread = (runs / threads).max(50);
    let started = Instant::now();
    let outcomes: Vec<Result<(), BenchError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let pool = Arc::clone(&pool);
                scope.spawn(move || {
                    let param = noop_param(&source.path, &source.exec_file);
                    for _ in 0..per_thread {
                        let mut c = pool
                            .acquire()
                            .map_err(|e| BenchError::from_core("acquiring a container", e))?;
                        execve_in(&mut c, &param)?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a bench thread panicked"))
            .collect()
    });
    let elapsed = started.elapsed();
    outcomes.into_iter().collect::<Result<(), BenchError>>()?;
    Ok((per_thread * threads) as f64 / elapsed.as_secs_f64())
}

/// Anonymous memory of the init (smaps_rollup): what it wrote, which destroying the
/// container frees. Not Private_Clean: with no other container alive, the pages of
/// the init image (one memfd shared by all containers) would count as private.
fn anon_kib(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |key: &str| -> Option<u64> {
        text.lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    field("Anonymous:")
}

fn bwrap_available() -> bool {
    Command::new("bwrap")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The no-op under bubblewrap: new namespaces, a read-only bind of its directory.
fn under_bwrap(program: &Path) -> Result<(), BenchError> {
    let status = bwrap_command(program)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| BenchError::runtime(format!("running bwrap: {e}")))?;
    if !status.success() {
        return Err(BenchError::runtime(format!("bwrap failed: {status}")));
    }
    Ok(())
}

fn bwrap_command(program: &Path) -> Command {
    let dir = program.parent().unwrap_or(Path::new("/"));
    let mut command = Command::new("bwrap");
    command
        .args([
            "--unshare-all",
            "--die-with-parent",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ])
        .arg("--ro-bind")
        .arg(dir)
        .arg(dir)
        .arg(program);
    command
}

/// The JSON object of `scpool bench --json`, the keys in this order.
#[derive(Serialize)]
struct BenchJson<'a> {
    runs: usize,
    create_runs: usize,
    floor_us: Fixed<1>,
    floor_p99_us: Fixed<1>,
    execve_us: Fixed<1>,
    execve_p99_us: Fixed<1>,
    pooled_us: Fixed<1>,
    pooled_p99_us: Fixed<1>,
    pooled_c_us: Fixed<1>,
    pooled_c_p99_us: Fixed<1>,
    acquire_us: Fixed<1>,
    acquire_p99_us: Fixed<1>,
    fresh_us: Fixed<1>,
    fresh_p99_us: Fixed<1>,
    create_us: Fixed<1>,
    create_p99_us: Fixed<1>,
    #[serde(flatten)]
    python: Option<PythonJson>,
    #[serde(flatten)]
    bwrap: Option<BwrapJson>,
    /// Runs per second by number of threads, in the order measured.
    #[serde(serialize_with = "rates")]
    runs_per_sec: Vec<(usize, f64)>,
    pooled_per_floor: Fixed<3>,
    pooled_c_per_pooled: Fixed<3>,
    fresh_per_pooled: Fixed<3>,
    /// The parts of a pooled run (message, exec, wait, accounting, reply).
    #[serde(flatten)]
    breakdown: Option<&'a BreakdownJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_anon_kib: Option<u64>,
    cli_host_us: Fixed<1>,
    cli_host_p99_us: Fixed<1>,
    cli_scpool_us: Fixed<1>,
    cli_scpool_p99_us: Fixed<1>,
    #[serde(flatten)]
    cli_bwrap: Option<CliBwrapJson>,
    scale_containers: usize,
    scale_create_us: Fixed<1>,
    scale_kib: Fixed<1>,
    scale_fds: Fixed<2>,
    scale_threads: Fixed<3>,
}

#[derive(Serialize)]
struct PythonJson {
    pooled_python_us: Fixed<1>,
    pooled_python_p99_us: Fixed<1>,
    pooled_python_per_pooled: Fixed<3>,
}

#[derive(Serialize)]
struct BwrapJson {
    bwrap_us: Fixed<1>,
    bwrap_p99_us: Fixed<1>,
}

#[derive(Serialize)]
struct CliBwrapJson {
    cli_bwrap_us: Fixed<1>,
    cli_bwrap_p99_us: Fixed<1>,
    cli_scpool_per_bwrap: Fixed<3>,
}

/// `{"1":3000,"2":5500}`: whole runs per second by thread count.
fn rates<S: Serializer>(rates: &[(usize, f64)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        rates
            .iter()
            .map(|(threads, rate)| (threads.to_string(), Fixed::<0>(*rate))),
    )
}

fn to_json(f: &Figures) -> String {
    let (median, p99) = (
        |s: &Summary| Fixed(s.median_us),
        |s: &Summary| Fixed(s.p99_us),
    );
    let c = &f.commands;
    let json = BenchJson {
        runs: f.runs,
        create_runs: f.create_runs,
        floor_us: median(&f.floor),
        floor_p99_us: p99(&f.floor),
        execve_us: median(&f.execve),
        execve_p99_us: p99(&f.execve),
        pooled_us: median(&f.pooled),
        pooled_p99_us: p99(&f.pooled),
        pooled_c_us: median(&f.pooled_c),
        pooled_c_p99_us: p99(&f.pooled_c),
        acquire_us: median(&f.acquire),
        acquire_p99_us: p99(&f.acquire),
        fresh_us: median(&f.fresh),
        fresh_p99_us: p99(&f.fresh),
        create_us: median(&f.create),
        create_p99_us: p99(&f.create),
        python: f.pooled_python.as_ref().map(|p| PythonJson {
            pooled_python_us: median(p),
            pooled_python_p99_us: p99(p),
            pooled_python_per_pooled: Fixed(p.median_us / f.pooled.median_us),
        }),
        bwrap: f.bwrap.as_ref().map(|b| BwrapJson {
            bwrap_us: median(b),
            bwrap_p99_us: p99(b),
        }),
        runs_per_sec: f.throughput.clone(),
        pooled_per_floor: Fixed(f.pooled.median_us / f.floor.median_us),
        pooled_c_per_pooled: Fixed(f.pooled_c.median_us / f.pooled.median_us),
        fresh_per_pooled: Fixed(f.fresh.median_us / f.pooled.median_us),
        breakdown: f.breakdown.as_ref(),
        idle_anon_kib: f.idle_anon_kib,
        cli_host_us: median(&c.host),
        cli_host_p99_us: p99(&c.host),
        cli_scpool_us: median(&c.scpool),
        cli_scpool_p99_us: p99(&c.scpool),
        cli_bwrap: c.bwrap.as_ref().map(|b| CliBwrapJson {
            cli_bwrap_us: median(b),
            cli_bwrap_p99_us: p99(b),
            cli_scpool_per_bwrap: Fixed(c.scpool.median_us / b.median_us),
        }),
        scale_containers: f.scale.containers,
        scale_create_us: Fixed(f.scale.create_us),
        scale_kib: Fixed(f.scale.kib),
        scale_fds: Fixed(f.scale.fds),
        scale_threads: Fixed(f.scale.threads),
    };
    json::to_line(&json)
}

fn to_table(f: &Figures) -> String {
    let row = |name: &str, s: &Summary, what: String| {
        format!(
            "{name:<9} {:>11.1} {:>11.1}   {what}\n",
            s.median_us, s.p99_us
        )
    };
    let mut table = format!("{:<9} {:>11} {:>11}\n", "", "median(us)", "p99(us)");
    table += &row(
        "floor",
        &f.floor,
        format!(
            "fork+exec+wait of a static no-op on the host ({} runs)",
            f.runs
        ),
    );
    table += &row(
        "execve",
        &f.execve,
        format!("the no-op in an existing container ({} runs)", f.runs),
    );
    table += &row(
        "pooled",
        &f.pooled,
        format!("acquire + execve + release ({} runs)", f.runs),
    );
    table += &row(
        "pooled-c",
        &f.pooled_c,
        "the same through the C ABI (interleaved with pooled)".to_string(),
    );
    if let Some(p) = &f.pooled_python {
        table += &row(
            "pooled-py",
            p,
            "the same through the Python module (python -m scpool.bench)".to_string(),
        );
    }
    table += &row("acquire", &f.acquire, "acquire from idle".to_string());
    if let Some(b) = &f.breakdown {
        table += &format!(
            "  a pooled run's execve, medians (us): message {:.1}, exec {:.1}, wait {:.1}, \
             accounting {:.1}, reply {:.1}; standby served {:.0}%\n",
            b.pooled_message_us.0,
            b.pooled_exec_us.0,
            b.pooled_wait_us.0,
            b.pooled_accounting_us.0,
            b.pooled_reply_us.0,
            b.pooled_standby_share.0 * 100.0
        );
    }
    table += &row(
        "fresh",
        &f.fresh,
        format!("create + execve + destroy ({} runs)", f.create_runs),
    );
    table += &row(
        "create",
        &f.create,
        format!("create + destroy ({} runs)", f.create_runs),
    );
    match &f.bwrap {
        Some(b) => {
            table += &row(
                "bwrap",
                b,
                format!(
                    "the no-op under bwrap --unshare-all ({} runs)",
                    f.create_runs
                ),
            )
        }
        None => table += "bwrap     (not installed)\n",
    }
    for (threads, rate) in &f.throughput {
        table += &format!("throughput {threads:>3} thread(s): {rate:>8.0} runs/s\n");
    }
    if let Some(kib) = f.idle_anon_kib {
        table +=
            &format!("idle container: {kib} KiB written by its init (+ the init image, shared)\n");
    }
    let c = &f.commands;
    table += "whole commands, the same 9 KB no-op, interleaved:\n";
    table += &row("  host", &c.host, "fork+exec+wait".to_string());
    table += &row(
        "  scpool",
        &c.scpool,
        "scpool run --host-exec -- NOOP".to_string(),
    );
    if let Some(b) = &c.bwrap {
        table += &row("  bwrap", b, "bwrap --unshare-all".to_string());
    }
    let s = &f.scale;
    table += &format!(
        "scale: {} idle containers of one pool, each: {:.0} us to create, {:.0} KiB, \
         {:.2} descriptors, {:.3} threads\n",
        s.containers, s.create_us, s.kib, s.fds, s.threads
    );
    table += &format!(
        "pooled/floor  {:.2}\npooled-c/pooled  {:.2}\nfresh/pooled  {:.1}\n",
        f.pooled.median_us / f.floor.median_us,
        f.pooled_c.median_us / f.pooled.median_us,
        f.fresh.median_us / f.pooled.median_us
    );
    if let Some(p) = &f.pooled_python {
        table += &format!(
            "pooled-py/pooled  {:.2}\n",
            p.median_us / f.pooled.median_us
        );
    }
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
            execve: summary(250.0, 350.0),
            pooled: summary(300.0, 450.26),
            pooled_c: summary(303.0, 460.0),
            pooled_python: Some(summary(330.0, 500.0)),
            acquire: summary(10.0, 20.0),
            breakdown: Some(BreakdownJson {
                pooled_message_us: Fixed(40.0),
                pooled_exec_us: Fixed(20.5),
                pooled_wait_us: Fixed(150.0),
                pooled_accounting_us: Fixed(50.0),
                pooled_reply_us: Fixed(15.0),
                pooled_standby_share: Fixed(0.999),
            }),
            fresh: summary(6000.0, 9000.0),
            create: summary(5000.0, 8000.0),
            bwrap: Some(summary(3000.0, 4000.0)),
            throughput: vec![(1, 3000.0), (2, 5500.0)],
            idle_anon_kib: Some(256),
            commands: Commands {
                host: summary(600.0, 700.0),
                scpool: summary(2500.0, 3000.0),
                bwrap: Some(summary(3125.0, 4000.0)),
            },
            scale: Scale {
                containers: 500,
                create_us: 1500.0,
                kib: 350.0,
                fds: 2.0,
                threads: 0.008,
            },
        }
    }

    #[test]
    fn json_has_every_figure_in_order() {
        assert_eq!(
            to_json(&figures()),
            concat!(
                r#"{"runs":1000,"create_runs":100,"floor_us":200.0,"floor_p99_us":300.0,"#,
                r#""execve_us":250.0,"execve_p99_us":350.0,"pooled_us":300.0,"#,
                r#""pooled_p99_us":450.3,"pooled_c_us":303.0,"pooled_c_p99_us":460.0,"#,
                r#""acquire_us":10.0,"acquire_p99_us":20.0,"fresh_us":6000.0,"#,
                r#""fresh_p99_us":9000.0,"create_us":5000.0,"create_p99_us":8000.0,"#,
                r#""pooled_python_us":330.0,"pooled_python_p99_us":500.0,"#,
                r#""pooled_python_per_pooled":1.100,"bwrap_us":3000.0,"bwrap_p99_us":4000.0,"#,
                r#""runs_per_sec":{"1":3000,"2":5500},"pooled_per_floor":1.500,"#,
                r#""pooled_c_per_pooled":1.010,"fresh_per_pooled":20.000,"#,
                r#""pooled_message_us":40.0,"pooled_exec_us":20.5,"pooled_wait_us":150.0,"#,
                r#""pooled_accounting_us":50.0,"pooled_reply_us":15.0,"#,
                r#""pooled_standby_share":0.999,"idle_anon_kib":256,"#,
                r#""cli_host_us":600.0,"cli_host_p99_us":700.0,"cli_scpool_us":2500.0,"#,
                r#""cli_scpool_p99_us":3000.0,"cli_bwrap_us":3125.0,"cli_bwrap_p99_us":4000.0,"#,
                r#""cli_scpool_per_bwrap":0.800,"scale_containers":500,"scale_create_us":1500.0,"#,
                r#""scale_kib":350.0,"scale_fds":2.00,"scale_threads":0.008}"#
            )
        );
        let mut f = figures();
        (f.pooled_python, f.bwrap, f.idle_anon_kib, f.commands.bwrap) = (None, None, None, None);
        f.breakdown = None;
        let json = to_json(&f);
        for absent in ["python", "bwrap", "idle_anon_kib", "pooled_exec_us"] {
            assert!(!json.contains(absent), "{json}");
        }
    }

    #[test]
    fn json_has_medians_p99s_ratios_and_rates() {
        let json = to_json(&figures());
        for field in [
            r#""floor_us":200.0"#,
            r#""pooled_p99_us":450.3"#,
            r#""fresh_us":6000.0"#,
            r#""bwrap_us":3000.0"#,
            r#""runs_per_sec":{"1":3000,"2":5500}"#,
            r#""pooled_per_floor":1.500"#,
            r#""fresh_per_pooled":20.000"#,
            r#""idle_anon_kib":256"#,
            r#""pooled_c_us":303.0"#,
            r#""pooled_c_per_pooled":1.010"#,
            r#""pooled_python_us":330.0"#,
            r#""pooled_python_per_pooled":1.100"#,
            r#""cli_scpool_us":2500.0"#,
            r#""cli_bwrap_us":3125.0"#,
            r#""cli_scpool_per_bwrap":0.800"#,
            r#""cli_host_us":600.0"#,
            r#""scale_containers":500"#,
            r#""scale_fds":2.00"#,
            r#""scale_threads":0.008"#,
            r#""scale_kib":350.0"#,
        ] {
            assert!(json.contains(field), "{field} missing from {json}");
        }
        assert!(json.starts_with('{') && json.ends_with('}'));
    }

    #[test]
    fn table_lists_each_measurement_and_ratio() {
        let mut f = figures();
        f.bwrap = None;
        let table = to_table(&f);
        assert!(
            table.contains("floor           200.0       300.0"),
            "{table}"
        );
        assert!(table.contains("pooled/floor  1.50"), "{table}");
        assert!(table.contains("fresh/pooled  20.0"), "{table}");
        assert!(table.contains("bwrap     (not installed)"), "{table}");
        assert!(table.contains("pooled-c        303.0"), "{table}");
        assert!(table.contains("pooled-py       330.0"), "{table}");
        assert!(table.contains("pooled-c/pooled  1.01"), "{table}");
        assert!(table.contains("pooled-py/pooled  1.10"), "{table}");
        assert!(table.contains("2 thread(s):     5500 runs/s"), "{table}");
        assert!(table.contains("  scpool       2500.0"), "{table}");
        assert!(table.contains("2.00 descriptors"), "{table}");
    }

    #[test]
    fn throughput_workers_are_one_two_and_every_core() {
        assert_eq!(worker_counts(1), vec![1, 2]);
        assert_eq!(worker_counts(2), vec![1, 2]);
        assert_eq!(worker_counts(8), vec![1, 2, 8]);
    }
}
