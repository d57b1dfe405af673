//! `scpool serve`: an HTTP service that speaks go-judge's REST API on top of an
//! scpool pool, so a judge written for go-judge switches by changing one URL.
//! README's "scpool serve" section lists where it differs from go-judge and why.

// The library's config structs are to become #[non_exhaustive]: built from
// Default and assigned field by field, never as literals.
#![allow(clippy::field_reassign_with_default)]

mod bench;
mod cancel;
mod collect;
mod cpus;
mod exec;
mod http;
mod links;
mod metrics;
pub mod model;
mod plan;
pub mod status;
mod store;
mod ws;

pub use bench::{bench, BenchReport, Summary};
use scpool_core::{ContainerConfig, Pool, PoolConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// Everything `scpool serve` is told on its command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// TCP address to listen on; `None` with a unix socket serves that alone.
    pub http_addr: Option<SocketAddr>,
    pub unix_socket: Option<PathBuf>,
    /// Every endpoint then wants `Authorization: Bearer TOKEN`.
    pub auth_token: Option<String>,
    /// Programs run at once (containers in use).
    pub parallelism: usize,
    /// Host directories `src` may read from; none by default (then `src` is refused).
    pub src_prefixes: Vec<PathBuf>,
    /// Bytes the file store may hold.
    pub file_store_max: u64,
    /// The largest request body (413 above).
    pub body_max: usize,
    /// `copyOutMax` when a command gives none; also the largest `src` file.
    pub copy_out_max: u64,
    /// The most a program may write to any one file (RLIMIT_FSIZE; more is Output
    /// Limit Exceeded), as go-judge's `-output-limit`.
    pub output_limit: u64,
    /// Requests that may wait for a container at once, and how long each may wait
    /// (503 beyond either).
    pub queue_max: usize,
    pub queue_timeout: Duration,
    pub container: ContainerConfig,
    /// Write each program run by fileId into the container's /w, as go-judge does,
    /// instead of running it from the file store's sealed copy (slower: a copy per
    /// run; see the README).
    pub copy_in_programs: bool,
    /// Serve /metrics (without the bearer token) on this address too.
    pub metrics_addr: Option<SocketAddr>,
}

pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:5050";

impl Default for ServeConfig {
    fn default() -> Self {
        // go-judge reports each run's peak number of processes (procPeak).
        let mut container = ContainerConfig::default();
        container.cgroup.process_peak = true;
        Self {
            http_addr: Some(DEFAULT_HTTP_ADDR.parse().expect("a valid address")),
            unix_socket: None,
            auth_token: None,
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            src_prefixes: Vec::new(),
            file_store_max: 1 << 30,
            body_max: 64 << 20,
            copy_out_max: 64 << 20,
            output_limit: 256 << 20,
            queue_max: 1024,
            queue_timeout: Duration::from_secs(60),
            container,
            copy_in_programs: false,
            metrics_addr: None,
        }
    }
}

/// Why the service could not start or stopped early.
#[derive(Debug)]
pub struct ServeError(pub String);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

fn fail(what: &str) -> impl Fn(std::io::Error) -> ServeError + '_ {
    move |e| ServeError(format!("{what}: {e}"))
}

/// A running service (in this process, on its own threads).
pub struct Server {
    local_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
    unix_socket: Option<PathBuf>,
}

impl Server {
    /// The TCP address it listens on (the port chosen when 0 was asked).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The address of /metrics alone, when one was asked for.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Stops taking requests, lets those in flight finish, then destroys every
    /// container and removes the unix socket.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(path) = self.unix_socket.take() {
            let _ = std::fs::remove_file(path);
        }
        scpool_core::flush();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Starts the service: the pool, the listeners and the runtime's threads.
pub fn start(config: ServeConfig) -> Result<Server, ServeError> {
    if config.parallelism == 0 {
        return Err(ServeError("parallelism must be at least 1".into()));
    }
    if config.http_addr.is_none() && config.unix_socket.is_none() {
        return Err(ServeError(
            "nothing to listen on: give an HTTP address or a unix socket".into(),
        ));
    }
    let mut src_prefixes = Vec::new();
    for p in &config.src_prefixes {
        src_prefixes.push(
            std::fs::canonicalize(p)
                .map_err(|e| ServeError(format!("--src-prefix {}: {e}", p.display())))?,
        );
    }
    let mut pool_config = PoolConfig::default();
    pool_config.container = config.container.clone();
    pool_config.min_idle = config.parallelism;
    pool_config.max_idle = config.parallelism;
    // Room for containers being reset while as many others run.
    pool_config.max_size = 2 * config.parallelism;
    let host_paths = if config.container.rootfs.is_none() {
        config
            .container
            .mounts
            .iter()
            .filter(|m| m.source == m.target)
            .map(|m| m.target.clone())
            .collect()
    } else {
        Vec::new()
    };
    let pool = Pool::new(pool_config).map_err(|e| ServeError(format!("creating the pool: {e}")))?;
    let exec = exec::Executor {
        pool,
        store: Arc::new(store::FileStore::new(config.file_store_max)),
        src_prefixes,
        copy_out_max: config.copy_out_max,
        output_limit: config.output_limit,
        // Rootless, a program runs as the service's own user, which owns the store's
        // memfds and could change their mode and times for later runs: copy in.
        // SAFETY: geteuid has no arguments and cannot fail.
        copy_in_programs: config.copy_in_programs || unsafe { libc::geteuid() } != 0,
        host_paths,
    };
    let state = Arc::new(http::AppState {
        exec: Arc::new(exec),
        permits: Arc::new(Semaphore::new(config.parallelism)),
        parallelism: config.parallelism,
        waiting: AtomicUsize::new(0),
        queue_max: config.queue_max,
        queue_timeout: config.queue_timeout,
        auth_token: config.auth_token.clone(),
        metrics: metrics::Metrics::default(),
    });
    let app = http::router(state.clone(), config.body_max);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("scpool-serve")
        .max_blocking_threads(4 * config.parallelism + 16)
        .build()
        .map_err(fail("starting the runtime"))?;
    let tcp = match config.http_addr {
        Some(addr) => Some(
            runtime
                .block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|e| ServeError(format!("listening on {addr}: {e}")))?,
        ),
        None => None,
    };
    let local_addr = tcp.as_ref().and_then(|l| l.local_addr().ok());
    let metrics_tcp = match config.metrics_addr {
        Some(addr) => Some(
            runtime
                .block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|e| ServeError(format!("listening on {addr} for metrics: {e}")))?,
        ),
        None => None,
    };
    let metrics_addr = metrics_tcp.as_ref().and_then(|l| l.local_addr().ok());
    let metrics_app = http::metrics_router(state.clone());
    let unix = match &config.unix_socket {
        Some(path) => {
            let _guard = runtime.enter();
            Some(
                tokio::net::UnixListener::bind(path)
                    .map_err(|e| ServeError(format!("listening on {}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("scpool-serve-main".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut servers = Vec::new();
                let until = |mut rx: watch::Receiver<bool>| async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                if let Some(l) = tcp {
                    let app = app.clone();
                    let rx = stopped.clone();
                    servers.push(tokio::spawn(async move {
                        let _ = axum::serve(l, app).with_graceful_shutdown(until(rx)).await;
                    }));
                }
                if let Some(l) = metrics_tcp {
                    let rx = stopped.clone();
                    servers.push(tokio::spawn(async move {
                        let _ = axum::serve(l, metrics_app)
                            .with_graceful_shutdown(until(rx))
                            .await;
                    }));
                }
                if let Some(l) = unix {
                    let rx = stopped.clone();
                    servers.push(tokio::spawn(async move {
                        let _ = axum::serve(l, app).with_graceful_shutdown(until(rx)).await;
                    }));
                }
                for s in servers {
                    let _ = s.await;
                }
                tracing::info!("stopped taking requests; closing the pool");
            });
            // In-flight runs are over (each answered its client); the pool goes.
            state.permits.close();
            state.exec.pool.close();
            drop(state);
            runtime.shutdown_timeout(Duration::from_secs(5));
        })
        .map_err(fail("starting the service thread"))?;
    Ok(Server {
        local_addr,
        metrics_addr,
        stop,
        thread: Some(thread),
        unix_socket: config.unix_socket,
    })
}

/// Runs the service until SIGTERM, SIGINT or SIGHUP: then it stops taking
/// requests, lets the runs in flight finish and answer, destroys every container
/// and removes its cgroups and unix socket. A second signal ends it at once.
/// Logs go to stderr, one JSON object a line with `json_logs`, else key=value.
pub fn serve(config: ServeConfig, json_logs: bool) -> Result<(), ServeError> {
    logging(json_logs);
    // Blocked before any thread starts, so every thread inherits the mask and only
    // the sigwait below takes them.
    let signals = signal_set();
    // SAFETY: the set is initialised; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &signals, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(ServeError(format!(
            "blocking signals: {}",
            std::io::Error::from_raw_os_error(rc)
        )));
    }
    let addr = config.http_addr;
    let socket = config.unix_socket.clone();
    let parallelism = config.parallelism;
    let server = start(config)?;
    tracing::info!(http = ?server.local_addr().or(addr), unix = ?socket, parallelism, "serving");
    let signal = wait_signal(&signals);
    tracing::info!(signal, "draining the runs in flight, then stopping");
    // A second signal while draining: tear down and leave now.
    std::thread::spawn(move || {
        let signal = wait_signal(&signals);
        let _ = scpool_core::cgroup::teardown_for_exit();
        // SAFETY: _exit ends the process without running destructors other
        // threads may be inside of.
        unsafe { libc::_exit(128 + signal) }
    });
    server.stop();
    tracing::info!("stopped");
    Ok(())
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set; sigaddset takes valid signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

fn wait_signal(set: &libc::sigset_t) -> i32 {
    loop {
        let mut signal = 0;
        // SAFETY: both pointers are valid for the call.
        if unsafe { libc::sigwait(set, &mut signal) } == 0 {
            return signal;
        }
    }
}

fn logging(json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
