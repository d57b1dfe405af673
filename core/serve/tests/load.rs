//! Under load and faults: the bounded wait queue, a client that goes away in the
//! middle of a run, and a stop that lets the runs in flight finish. Runs as root.

mod common;

use common::{server, small_config, Client};
use serde_json::{json, Value};
use std::io::Write;
use std::time::{Duration, Instant};

fn sh(script: &str) -> Value {
    json!({"cmd": [{
        "args": ["/bin/sh", "-c", script],
        "env": ["PATH=/usr/bin:/bin"],
        "files": [{"content": ""}, {"name": "stdout", "max": 1024}, {"name": "stderr", "max": 1024}],
        "clockLimit": 60_000_000_000u64,
    }]})
}

fn one_container(queue_max: usize, queue_timeout: Duration) -> scpool_serve::Server {
    let mut config = small_config();
    config.parallelism = 1;
    config.queue_max = queue_max;
    config.queue_timeout = queue_timeout;
    server(config)
}

/// Starts a request that holds the only container for `seconds`, and waits until
/// it runs.
fn hold(s: &scpool_serve::Server, seconds: u32) -> std::thread::JoinHandle<Value> {
    let mut c = Client::new(s);
    let handle = std::thread::spawn(move || {
        let r = c.run(&sh(&format!("sleep {seconds}; echo done")));
        r[0].clone()
    });
    common::wait_running(s, 1);
    handle
}

#[test]
fn a_request_that_waits_too_long_for_a_container_gets_503() {
    let s = one_container(8, Duration::from_millis(300));
    let busy = hold(&s, 3);
    let mut c = Client::new(&s);
    let reply = c.post_json("/run", &sh("true"));
    assert_eq!(reply.status, 503);
    assert!(reply
        .json()
        .as_str()
        .unwrap()
        .contains("no container became free"));
    assert_eq!(busy.join().unwrap()["files"]["stdout"], "done\n");
    // Free again: served.
    assert_eq!(c.run(&sh("true"))[0]["status"], "Accepted");
}

#[test]
fn a_full_wait_queue_gets_503_at_once() {
    let s = one_container(0, Duration::from_secs(30));
    let busy = hold(&s, 2);
    let mut c = Client::new(&s);
    let reply = c.post_json("/run", &sh("true"));
    assert_eq!(reply.status, 503);
    assert!(reply
        .json()
        .as_str()
        .unwrap()
        .contains("wait queue is full"));
    busy.join().unwrap();
}

#[test]
fn a_client_that_goes_away_mid_run_has_its_run_killed() {
    let s = one_container(8, Duration::from_secs(20));
    let addr = s.local_addr().unwrap();
    let body = sh("sleep 40").to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    common::wait_running(&s, 1);
    drop(stream);
    // The only container is free long before `sleep 40` would have ended (the
    // queue waits 20 s at most), and works.
    let started = Instant::now();
    let mut c = Client::new(&s);
    let r = c.run(&sh("echo after"));
    assert_eq!(r[0]["files"]["stdout"], "after\n", "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn stopping_lets_runs_in_flight_finish_and_answer() {
    let s = one_container(8, Duration::from_secs(20));
    let addr = s.local_addr().unwrap();
    let busy = hold(&s, 2);
    s.stop();
    // The run in flight answered in full; the service no longer listens.
    let r = busy.join().unwrap();
    assert_eq!(r["status"], "Accepted");
    assert_eq!(r["files"]["stdout"], "done\n");
    assert!(std::net::TcpStream::connect(addr).is_err());
}
