//! A service started in the test process, and a small HTTP/1.1 client with
//! keep-alive (what a judge's client does), written against the wire format.

#![allow(dead_code)]

use scpool_serve::{start, ServeConfig, Server};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub fn server(config: ServeConfig) -> Server {
    let mut config = config;
    config.http_addr = Some("127.0.0.1:0".parse().unwrap());
    start(config).expect("the service starts")
}

pub fn small_config() -> ServeConfig {
    ServeConfig {
        parallelism: 2,
        ..ServeConfig::default()
    }
}

pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    pub token: Option<String>,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    pub fn new(server: &Server) -> Self {
        Self::at(server.local_addr().unwrap())
    }

    pub fn at(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            token: None,
        }
    }

    pub fn send(&mut self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Reply {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
            s.set_nodelay(true).unwrap();
            self.stream = Some(BufReader::new(s));
        }
        let reader = self.stream.as_mut().unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !content_type.is_empty() {
            head += &format!("Content-Type: {content_type}\r\n");
        }
        if let Some(t) = &self.token {
            head += &format!("Authorization: Bearer {t}\r\n");
        }
        head += "\r\n";
        let stream = reader.get_mut();
        if stream.write_all(head.as_bytes()).is_err() {
            // The server closed the kept-alive connection meanwhile: a new one.
            self.stream = None;
            return self.send(method, path, content_type, body);
        }
        // A body the server refuses early may not be read whole: ignore a reset.
        let _ = stream.write_all(body);
        let reply = read_reply(reader);
        if reply
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
        {
            self.stream = None;
        }
        reply
    }

    pub fn post_json(&mut self, path: &str, body: &Value) -> Reply {
        self.send(
            "POST",
            path,
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, "", b"")
    }

    /// POST /run expecting 200: the results array.
    pub fn run(&mut self, request: &Value) -> Vec<Value> {
        let reply = self.post_json("/run", request);
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json().as_array().unwrap().clone()
    }

    /// One command, its results.
    pub fn run_one(&mut self, cmd: Value) -> Value {
        let results = self.run(&serde_json::json!({ "cmd": [cmd] }));
        assert_eq!(results.len(), 1);
        results[0].clone()
    }

    pub fn upload(&mut self, name: &str, data: &[u8]) -> Reply {
        let boundary = "scpool-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            "POST",
            "/file",
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
        )
    }
}

fn read_reply(reader: &mut BufReader<TcpStream>) -> Reply {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = find("content-length") {
        body.resize(len.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// Waits until the service reports `n` requests running (its /metrics), so a test
/// knows a run has started before it acts on it.
pub fn wait_running(server: &Server, n: usize) {
    let mut c = Client::new(server);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let want = format!("scpool_serve_running {n}\n");
    loop {
        let text = String::from_utf8(c.get("/metrics").body).unwrap();
        if text.contains(&want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {n} running: {text}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
