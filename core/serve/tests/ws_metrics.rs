//! GET /ws (the WebSocket form of /run) and GET /metrics. Runs as root.

mod common;

use common::{server, small_config, Client};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

fn echo(id: &str, text: &str) -> Value {
    json!({"requestId": id, "cmd": [{
        "args": ["/bin/echo", text],
        "files": [{"content": ""}, {"name": "stdout", "max": 1024}, {"name": "stderr", "max": 1024}],
    }]})
}

/// A WebSocket client of RFC 6455's framing: masked text frames out, unmasked in.
struct Ws(BufReader<TcpStream>);

impl Ws {
    fn connect(addr: std::net::SocketAddr) -> Self {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 101"), "{line}");
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
        }
        Ws(reader)
    }

    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        let mask = [7u8, 1, 2, 9];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.0.get_mut().write_all(&frame).unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut head = [0u8; 2];
        self.0.read_exact(&mut head).unwrap();
        assert_eq!(head[0], 0x81, "a final text frame");
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                self.0.read_exact(&mut b).unwrap();
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                self.0.read_exact(&mut b).unwrap();
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        self.0.read_exact(&mut payload).unwrap();
        serde_json::from_slice(&payload).unwrap()
    }
}

#[test]
fn websocket_requests_are_answered_with_their_request_ids() {
    let s = server(small_config());
    let mut ws = Ws::connect(s.local_addr().unwrap());
    ws.send(&echo("first", "one").to_string());
    ws.send(&echo("second", "two").to_string());
    ws.send("{\"cmd\": [], \"bogus\": 1}");
    let mut answers: Vec<Value> = (0..3).map(|_| ws.receive()).collect();
    answers.sort_by_key(|a| a["requestId"].as_str().unwrap().to_owned());
    assert_eq!(answers[0]["requestId"], "");
    assert!(
        answers[0]["error"].as_str().unwrap().contains("bogus"),
        "{answers:?}"
    );
    assert_eq!(answers[1]["requestId"], "first");
    assert_eq!(answers[1]["results"][0]["status"], "Accepted");
    assert_eq!(answers[1]["results"][0]["files"]["stdout"], "one\n");
    assert_eq!(answers[2]["requestId"], "second");
    assert_eq!(answers[2]["results"][0]["files"]["stdout"], "two\n");
}

#[test]
fn metrics_count_runs_by_status() {
    let mut config = small_config();
    config.auth_token = Some("sesame".into());
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let s = server(config);
    let mut c = Client::new(&s);
    c.token = Some("sesame".into());
    c.run(&echo("", "x"));
    c.run(&echo("", "y"));
    let reply = c.get("/metrics");
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body).unwrap();
    assert!(
        text.contains("scpool_serve_runs_total{status=\"Accepted\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("scpool_serve_request_seconds_count 2"),
        "{text}"
    );
    c.token = None;
    assert_eq!(c.get("/metrics").status, 401);
    // The metrics address wants no token and serves nothing else.
    let mut scraper = Client::at(s.metrics_addr().unwrap());
    let reply = scraper.get("/metrics");
    assert_eq!(reply.status, 200);
    assert!(String::from_utf8(reply.body)
        .unwrap()
        .contains("scpool_serve_running 0"));
    assert_eq!(scraper.get("/version").status, 404);
}

#[test]
fn closing_the_websocket_kills_its_runs() {
    let mut config = small_config();
    config.parallelism = 1;
    config.queue_timeout = std::time::Duration::from_secs(20);
    let s = server(config);
    let mut ws = Ws::connect(s.local_addr().unwrap());
    let long = json!({"requestId": "long", "cmd": [{
        "args": ["/bin/sleep", "40"],
        "clockLimit": 60_000_000_000u64,
    }]});
    ws.send(&long.to_string());
    common::wait_running(&s, 1);
    drop(ws);
    // The container is free long before `sleep 40` would have ended (the queue
    // waits 20 s at most).
    let mut c = Client::new(&s);
    let r = c.run(&echo("", "after"));
    assert_eq!(r[0]["files"]["stdout"], "after\n");
}
