//! `scpool serve`: its options, and the call into scpool-serve.

use crate::size::parse_size;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Serve go-judge's REST API (POST /run, /file, /version, /config) over HTTP.
///
/// Runs programs in a pool of sandbox containers, as many at once as
/// --parallelism. SIGTERM (or SIGINT) stops taking requests, lets the runs in
/// flight finish and removes every container. README's "scpool serve" section
/// lists where the service differs from go-judge.
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// TCP address to listen on [default: 127.0.0.1:5050, unless only
    /// --unix-socket is given]
    #[arg(long, value_name = "ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// Also (or only) listen on this unix socket, removed at stop
    #[arg(long, value_name = "PATH")]
    pub unix_socket: Option<PathBuf>,
    /// Every endpoint then wants 'Authorization: Bearer TOKEN' (other users can
    /// read a command line: prefer --auth-token-file)
    #[arg(long, value_name = "TOKEN", conflicts_with = "auth_token_file")]
    pub auth_token: Option<String>,
    /// --auth-token read from this file (its first line)
    #[arg(long, value_name = "PATH")]
    pub auth_token_file: Option<PathBuf>,
    /// Programs run at once [default: the number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub parallelism: Option<u32>,
    /// A host directory 'src' files may be read from (repeatable); without one,
    /// 'src' is refused
    #[arg(long, value_name = "DIR")]
    pub src_prefix: Vec<PathBuf>,
    /// Bytes the file store (in this process's memory) may hold
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub file_store_max: u64,
    /// copyOutMax of a command that gives none; also the largest 'src' file
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub copy_out_max: u64,
    /// The most a program may write to any one file; more is Output Limit Exceeded
    /// (collected output has its own 'max')
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub output_limit: u64,
    /// The largest request body (HTTP 413 above)
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub body_max: u64,
    /// Requests that may wait for a container at once (HTTP 503 beyond)
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub queue_max: usize,
    /// Seconds a request may wait for a container (HTTP 503 after)
    #[arg(long, value_name = "S", default_value = "60", value_parser = crate::seconds::parse_seconds)]
    pub queue_timeout: Duration,
    /// Write a program run by fileId ('args': ["a"] with 'a' copied in by fileId)
    /// into the container's /w before each run, as go-judge does; by default it
    /// runs from the file store's sealed copy and is not in /w
    #[arg(long)]
    pub copy_in_programs: bool,
    /// Also serve /metrics (Prometheus text, without the bearer token) on this
    /// address; /metrics on the main address wants the token like every endpoint
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Measure instead of serving: POST /run of a static no-op by fileId from 1 and
    /// 2 keep-alive clients on 127.0.0.1, next to the library's pooled run of the
    /// same program, in this one process; prints requests/s, medians, 99th
    /// percentiles and the service's cost per request
    #[arg(long)]
    pub bench: bool,
    /// Requests per client with --bench
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub bench_requests: usize,
    /// Logs as one JSON object a line (default: key=value text)
    #[arg(long)]
    pub log_json: bool,
}

fn read_token(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading --auth-token-file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(format!(
            "--auth-token-file {} holds no token",
            path.display()
        ));
    }
    Ok(token.to_owned())
}

/// Runs the service until a signal stops it.
pub fn run(args: &ServeArgs) -> Result<(), String> {
    if args.bench {
        let report = scpool_serve::bench(args.bench_requests).map_err(|e| e.to_string())?;
        print!("{report}");
        return Ok(());
    }
    let mut config = scpool_serve::ServeConfig::default();
    config.http_addr = match (args.http_addr, &args.unix_socket) {
        (Some(addr), _) => Some(addr),
        (None, Some(_)) => None,
        (None, None) => config.http_addr,
    };
    config.unix_socket = args.unix_socket.clone();
    config.auth_token = match &args.auth_token_file {
        Some(path) => Some(read_token(path)?),
        None => args.auth_token.clone(),
    };
    if let Some(n) = args.parallelism {
        config.parallelism = n as usize;
    }
    config.src_prefixes = args.src_prefix.clone();
    config.file_store_max = args.file_store_max;
    config.copy_out_max = args.copy_out_max;
    config.output_limit = args.output_limit;
    config.body_max = usize::try_from(args.body_max).unwrap_or(usize::MAX);
    config.queue_max = args.queue_max;
    config.queue_timeout = args.queue_timeout;
    config.metrics_addr = args.metrics_addr;
    config.copy_in_programs = args.copy_in_programs;
    scpool_serve::serve(config, args.log_json).map_err(|e| e.to_string())
}
