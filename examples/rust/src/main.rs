//! The seed scenario as a tiny judge.
//!
//! For each test case: open /w/input.txt and /w/output.txt inside the container,
//! write the input through the returned descriptor, copy a host program into a memfd
//! and execve it by descriptor with the two paths as arguments, read the output back
//! through the other descriptor and compare it with the expected answer.
//!
//! Run as root: `cargo run -p scpool-example-judge -- [HOST_PROGRAM]` (default
//! /usr/bin/cp, which "solves" the identity problem).

use scpool_core::{memfd_copy_of, Container, ContainerConfig, ExecveParam, OpenCmd, Status};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::time::Duration;

const CASES: &[(&str, &str)] = &[("1 2\n", "1 2\n"), ("hello\n", "hello\n"), ("", "")];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let program = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/usr/bin/cp".into());
    let mut container = Container::new(&ContainerConfig::default())?;
    let executable = memfd_copy_of(&program)?;

    println!(
        "{:<6} {:<8} {:>10} {:>12}",
        "case", "verdict", "time (ms)", "memory (KiB)"
    );
    for (i, (input, expected)) in CASES.iter().enumerate() {
        let mut files = container.open(&[
            OpenCmd::new(
                "/w/input.txt",
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                0o644,
            ),
            OpenCmd::new(
                "/w/output.txt",
                libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
                0o644,
            ),
        ])?;
        let mut output = files.pop().expect("two files");
        files
            .pop()
            .expect("two files")
            .write_all(input.as_bytes())?;

        let mut param = ExecveParam::new(["solution", "/w/input.txt", "/w/output.txt"]);
        param.env = vec!["PATH=/usr/bin:/bin".into()];
        param.exec_file = Some(executable.as_fd());
        param.limits.wall_time = Some(Duration::from_secs(2));
        param.limits.output = Some(1 << 20);
        let result = container.execve(&param)?;

        let mut produced = String::new();
        output.seek(SeekFrom::Start(0))?;
        output.read_to_string(&mut produced)?;
        let verdict = match result.status {
            Status::Ok if produced == *expected => "AC",
            Status::Ok => "WA",
            Status::WallTimeLimitExceeded | Status::TimeLimitExceeded => "TLE",
            Status::MemoryLimitExceeded => "MLE",
            Status::OutputLimitExceeded => "OLE",
            _ => "RE",
        };
        println!(
            "{:<6} {:<8} {:>10.2} {:>12}",
            i + 1,
            verdict,
            result.wall_time.as_secs_f64() * 1000.0,
            result.memory / 1024
        );
        container.reset()?;
    }
    Ok(())
}
