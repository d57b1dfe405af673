//! `scpool serve --bench`: what the service costs over the library, measured in
//! one process. A service on 127.0.0.1 (parallelism 2) compiles a static no-op
//! (int main(void){return 0;}) with gcc -static in a container and keeps it by
//! fileId; then POST /run of it by fileId, with stdin and two collectors as a
//! judge sends it, from 1 and from 2 keep-alive clients, next to the library's
//! pooled run of the same program (acquire, run it from a sealed memfd as the
//! service runs a stored program, release) on a pool of its own, with the
//! service's container settings.

use crate::{start, ServeConfig, ServeError};
use scpool_core::{ExecveParam, Pool, PoolConfig, Status};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub per_second: f64,
    pub median_us: f64,
    pub p99_us: f64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub requests: usize,
    pub one_client: Summary,
    pub two_clients: Summary,
    pub pooled: Summary,
}

impl BenchReport {
    /// The service's median cost per request over the library's pooled run.
    pub fn service_cost_us(&self) -> f64 {
        self.one_client.median_us - self.pooled.median_us
    }
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = |f: &mut std::fmt::Formatter<'_>, name: &str, s: &Summary| {
            writeln!(
                f,
                "{name:<26} {:>8.0} /s   median {:>7.0} us   p99 {:>7.0} us",
                s.per_second, s.median_us, s.p99_us
            )
        };
        line(f, "POST /run, 1 client", &self.one_client)?;
        line(f, "POST /run, 2 clients", &self.two_clients)?;
        line(f, "library pooled run", &self.pooled)?;
        writeln!(
            f,
            "service cost over the pooled run: {:.0} us per request (medians, {} requests each)",
            self.service_cost_us(),
            self.requests
        )
    }
}

const NOOP: &str = "int main(void){return 0;}\n";

pub fn bench(requests: usize) -> Result<BenchReport, ServeError> {
    let requests = requests.max(10);
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: String| ServeError(format!("{what}: {e}"))
    };
    let mut config = ServeConfig::default();
    config.http_addr = Some("127.0.0.1:0".parse().expect("an address"));
    config.parallelism = 2;
    let server = start(config)?;
    let addr = server.local_addr().expect("listening on TCP");
    let mut client = HttpClient::new(addr);

    let compile = serde_json::json!({"cmd": [{
        "args": ["/usr/bin/gcc", "-static", "-O2", "noop.c", "-o", "a"],
        "env": ["PATH=/usr/bin:/bin"],
        "files": [{"content": ""}, {"name": "stdout", "max": 10240}, {"name": "stderr", "max": 10240}],
        "cpuLimit": 20_000_000_000u64, "clockLimit": 60_000_000_000u64,
        "memoryLimit": 512u64 << 20, "procLimit": 64,
        "copyIn": {"noop.c": {"content": NOOP}},
        "copyOutCached": ["a"],
    }]});
    let reply = client
        .post("/run", &compile.to_string())
        .map_err(err("compiling the no-op"))?;
    let results: serde_json::Value =
        serde_json::from_slice(&reply).map_err(|e| ServeError(e.to_string()))?;
    let id = results[0]["fileIds"]["a"]
        .as_str()
        .ok_or_else(|| {
            ServeError(format!(
                "gcc -static in a container failed (a static C library is needed): {results}"
            ))
        })?
        .to_owned();
    let program = client
        .get(&format!("/file/{id}"))
        .map_err(err("fetching the no-op"))?;

    let run = serde_json::json!({"cmd": [{
        "args": ["a"],
        "env": ["PATH=/usr/bin:/bin"],
        "files": [{"content": ""}, {"name": "stdout", "max": 10240}, {"name": "stderr", "max": 10240}],
        "cpuLimit": 1_000_000_000u64, "memoryLimit": 256u64 << 20, "procLimit": 50,
        "copyIn": {"a": {"fileId": id}},
    }]})
    .to_string();
    let one = |client: &mut HttpClient, n: usize| -> Result<Vec<Duration>, ServeError> {
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            let reply = client.post("/run", &run).map_err(err("POST /run"))?;
            samples.push(started.elapsed());
            if !reply.starts_with(br#"[{"status":"Accepted""#) {
                return Err(ServeError(format!(
                    "the no-op failed: {}",
                    String::from_utf8_lossy(&reply)
                )));
            }
        }
        Ok(samples)
    };
    one(&mut client, requests / 10)?;
    let started = Instant::now();
    let samples = one(&mut client, requests)?;
    let one_client = summarize(samples, requests, started.elapsed());

    let started = Instant::now();
    let runs = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut c = HttpClient::new(addr);
                    one(&mut c, requests)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(
                h.join()
                    .map_err(|_| ServeError("a client panicked".into()))??,
            );
        }
        Ok::<_, ServeError>(all)
    })?;
    let two_clients = summarize(runs, 2 * requests, started.elapsed());
    drop(client);
    server.stop();

    let pooled = pooled_runs(&program, requests)?;
    Ok(BenchReport {
        requests,
        one_client,
        two_clients,
        pooled,
    })
}

fn pooled_runs(program: &[u8], requests: usize) -> Result<Summary, ServeError> {
    let e = |e: scpool_core::Error| ServeError(e.to_string());
    let mut config = PoolConfig::default();
    config.min_idle = 2;
    // The service's containers, per-run process counting included.
    config.container = ServeConfig::default().container;
    let pool = Pool::new(config).map_err(e)?;
    let mut limits = scpool_core::Limits::default();
    limits.cpu_time = Some(Duration::from_secs(1));
    limits.memory = Some(256 << 20);
    limits.processes = Some(50);
    // As the service keeps a program stored by fileId.
    let program = scpool_core::program_memfd(program).map_err(e)?;
    let once = || -> Result<Duration, ServeError> {
        let started = Instant::now();
        let mut c = pool.acquire().map_err(e)?;
        let mut param = ExecveParam::new(["/w/a"]);
        param.exec_file = Some(program.as_fd());
        param.limits = limits.clone();
        let r = c.execve(&param).map_err(e)?;
        drop(c);
        let took = started.elapsed();
        if r.status != Status::Ok {
            return Err(ServeError(format!("the pooled no-op ended {:?}", r.status)));
        }
        Ok(took)
    };
    for _ in 0..requests / 10 {
        once()?;
    }
    let started = Instant::now();
    let samples = (0..requests)
        .map(|_| once())
        .collect::<Result<Vec<_>, _>>()?;
    let summary = summarize(samples, requests, started.elapsed());
    pool.close();
    Ok(summary)
}

fn summarize(mut samples: Vec<Duration>, count: usize, wall: Duration) -> Summary {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    Summary {
        per_second: count as f64 / wall.as_secs_f64(),
        median_us: at(0.5),
        p99_us: at(0.99),
    }
}

/// HTTP/1.1 with keep-alive over one connection, as a judge's client keeps one.
struct HttpClient {
    stream: BufReader<TcpStream>,
}

impl HttpClient {
    fn new(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connecting to the service");
        let _ = stream.set_nodelay(true);
        Self {
            stream: BufReader::new(stream),
        }
    }

    fn post(&mut self, path: &str, body: &str) -> Result<Vec<u8>, String> {
        self.call("POST", path, body)
    }

    fn get(&mut self, path: &str) -> Result<Vec<u8>, String> {
        self.call("GET", path, "")
    }

    fn call(&mut self, method: &str, path: &str, body: &str) -> Result<Vec<u8>, String> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let io = |e: std::io::Error| e.to_string();
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(io)?;
        let mut line = String::new();
        self.stream.read_line(&mut line).map_err(io)?;
        if !line.starts_with("HTTP/1.1 200") {
            return Err(format!("answered {}", line.trim_end()));
        }
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).map_err(io)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v
                        .trim()
                        .parse()
                        .map_err(|_| "a bad Content-Length".to_string())?;
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).map_err(io)?;
        Ok(body)
    }
}
