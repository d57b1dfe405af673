//! The program's stdout and stderr: a pipe each, whose read end a thread drains into
//! a sink (our own stdout/stderr, or a buffer) while the run goes on.
//!
//! Pipes, not our own descriptors: a program holding the host's terminal could push
//! input into it (TIOCSTI).

use nix::fcntl::OFlag;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::thread::{self, JoinHandle};

/// What a drain did.
#[derive(Debug)]
pub struct Drained<W> {
    pub sink: W,
    /// The program wrote more than the limit; the excess was dropped.
    pub over_limit: bool,
}

/// Copies `source` into `sink` until end of file, passing at most `limit` bytes. At
/// the limit, or when the sink fails (our stdout closed), it stops reading and closes
/// `source`, so the program's next write fails with EPIPE (or SIGPIPE) instead of
/// blocking forever on a full pipe.
pub fn drain<W: Write>(mut source: File, mut sink: W, limit: u64) -> Drained<W> {
    let mut buffer = vec![0; 64 * 1024];
    let mut bytes = 0u64;
    let mut over_limit = false;
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let room = limit - bytes;
        let keep = n.min(usize::try_from(room).unwrap_or(usize::MAX));
        // Flush each chunk so pass-through output appears as the program writes it.
        if sink
            .write_all(&buffer[..keep])
            .and_then(|()| sink.flush())
            .is_err()
        {
            break;
        }
        bytes += keep as u64;
        if keep < n {
            over_limit = true;
            break;
        }
    }
    Drained { sink, over_limit }
}

/// A pipe whose write end goes to the program and whose read end a thread drains.
pub struct Pump<W> {
    write_end: OwnedFd,
    thread: JoinHandle<Drained<W>>,
}

impl<W: Write + Send + 'static> Pump<W> {
    pub fn start(sink: W, limit: u64) -> io::Result<Self> {
        // Close-on-exec: the ends must not leak into processes we spawn.
        let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let source = File::from(read_end);
        let thread = thread::Builder::new()
            .name("scpool-output".into())
            .spawn(move || drain(source, sink, limit))?;
        Ok(Self { write_end, thread })
    }

    /// The end to give the program.
    pub fn write_end(&self) -> BorrowedFd<'_> {
        self.write_end.as_fd()
    }

    /// Closes our write end and waits for the drain to reach end of file, which
    /// happens once no process in the container holds the pipe any more.
    pub fn finish(self) -> Drained<W> {
        drop(self.write_end);
        match self.thread.join() {
            Ok(drained) => drained,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe_with(data: &[u8]) -> File {
        let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        File::from(write_end).write_all(data).unwrap();
        File::from(read_end)
    }

    #[test]
    fn copies_everything_under_the_limit() {
        let drained = drain(pipe_with(b"hello"), Vec::new(), 5);
        assert_eq!(drained.sink, b"hello");
        assert!(!drained.over_limit);
    }

    #[test]
    fn stops_at_the_limit() {
        let drained = drain(pipe_with(b"hello world"), Vec::new(), 4);
        assert_eq!(drained.sink, b"hell");
        assert!(drained.over_limit);
    }

    #[test]
    fn zero_limit_drops_everything() {
        let drained = drain(pipe_with(b"x"), Vec::new(), 0);
        assert!(drained.sink.is_empty());
        assert!(drained.over_limit);
        let drained = drain(pipe_with(b""), Vec::new(), 0);
        assert!(!drained.over_limit);
    }

    #[test]
    fn pump_collects_from_its_write_end() {
        let pump = Pump::start(Vec::new(), u64::MAX).unwrap();
        let mut writer = File::from(pump.write_end().try_clone_to_owned().unwrap());
        writer.write_all(b"from the program").unwrap();
        drop(writer);
        assert_eq!(pump.finish().sink, b"from the program");
    }
}
