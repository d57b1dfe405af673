//! Output the service collects through pipes it reads itself: the program's
//! memory never holds it (a collector is not a file in the container), and more
//! than `max` bytes is Output Limit Exceeded, never Memory Limit Exceeded.

use crate::model::PipeMap;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::thread::JoinHandle;
use tokio::runtime::Handle;

/// A pipe whose ends are closed on exec (the host never forks; the library passes
/// the program's end by descriptor).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub struct Collected {
    pub name: String,
    pub data: Vec<u8>,
    /// More than `max` bytes came.
    pub overflow: bool,
}

pub struct Collector {
    name: String,
    reader: Reader,
}

/// On the service's runtime a collector is a task woken by epoll (no thread to
/// start per stream); elsewhere a thread of its own.
enum Reader {
    Task(Handle, tokio::task::JoinHandle<(Vec<u8>, bool)>),
    Thread(JoinHandle<(Vec<u8>, bool)>),
}

impl Collector {
    /// A pipe read by the service, keeping at most `max` bytes; the write end is
    /// for the program.
    pub fn start(
        name: &str,
        max: u64,
        runtime: Option<&Handle>,
    ) -> io::Result<(OwnedFd, Collector)> {
        let (read, write) = pipe()?;
        let reader = match runtime {
            Some(handle) => {
                // Only our end: the program's end is another open file description.
                set_nonblocking(&read)?;
                let _entered = handle.enter();
                let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(read)?;
                Reader::Task(handle.clone(), handle.spawn(read_async(pipe, max)))
            }
            None => Reader::Thread(
                std::thread::Builder::new()
                    .name("scpool-collect".into())
                    .spawn(move || read_at_most(File::from(read), max))?,
            ),
        };
        Ok((
            write,
            Collector {
                name: name.to_owned(),
                reader,
            },
        ))
    }

    /// Waits for the end of the output (every write end closed). Called on a
    /// blocking thread, never on the runtime's own.
    pub fn finish(self) -> Collected {
        let (data, overflow) = match self.reader {
            Reader::Task(handle, task) => handle.block_on(task).unwrap_or_default(),
            Reader::Thread(thread) => thread.join().unwrap_or_default(),
        };
        Collected {
            name: self.name,
            data,
            overflow,
        }
    }
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0
        || unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `read_at_most` on the runtime.
async fn read_async(pipe: tokio::net::unix::pipe::Receiver, max: u64) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        if pipe.readable().await.is_err() {
            return (data, false);
        }
        match pipe.try_read(&mut chunk) {
            Ok(0) => return (data, false),
            Ok(n) => {
                let room = usize::try_from(max).unwrap_or(usize::MAX) - data.len();
                if n > room {
                    data.extend_from_slice(&chunk[..room]);
                    return (data, true);
                }
                data.extend_from_slice(&chunk[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return (data, false),
        }
    }
}

/// Reads until the end or until more than `max` bytes came; then the read end is
/// closed, so a program still writing gets EPIPE (or SIGPIPE) instead of filling
/// the host's memory.
fn read_at_most(mut source: File, max: u64) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        match source.read(&mut chunk) {
            Ok(0) => return (data, false),
            Ok(n) => {
                let room = usize::try_from(max).unwrap_or(usize::MAX) - data.len();
                if n > room {
                    data.extend_from_slice(&chunk[..room]);
                    return (data, true);
                }
                data.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return (data, false),
        }
    }
}

/// A sink that keeps the first `max` bytes and drops the rest (`copyOutTruncate`).
pub struct Truncating<'a> {
    data: &'a mut Vec<u8>,
    max: u64,
}

impl<'a> Truncating<'a> {
    pub fn new(data: &'a mut Vec<u8>, max: u64) -> Self {
        Self { data, max }
    }
}

impl Write for Truncating<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = usize::try_from(self.max)
            .unwrap_or(usize::MAX)
            .saturating_sub(self.data.len());
        self.data.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The pipes of a request's `pipeMapping`.
pub struct Pipes {
    /// Per command, the descriptors it gets: fd number → pipe end.
    ends: Vec<BTreeMap<usize, OwnedFd>>,
    relays: Vec<Relay>,
}

/// A proxied pipe: the service copies from one pipe into another, keeping the first
/// `max` bytes under `name` for the reading command (`index`).
pub struct Relay {
    index: usize,
    name: String,
    copier: JoinHandle<Vec<u8>>,
}

impl Relay {
    pub fn finish(self) -> (usize, String, Vec<u8>) {
        let data = self.copier.join().unwrap_or_default();
        (self.index, self.name, data)
    }
}

impl Pipes {
    pub fn new(mapping: &[PipeMap], cmds: usize) -> io::Result<Self> {
        let mut ends: Vec<BTreeMap<usize, OwnedFd>> = (0..cmds).map(|_| BTreeMap::new()).collect();
        let mut relays = Vec::new();
        for p in mapping {
            let (read, write) = pipe()?;
            if p.proxy {
                let (read2, write2) = pipe()?;
                let max = u64::try_from(p.max).unwrap_or(0);
                let copier = std::thread::Builder::new()
                    .name("scpool-relay".into())
                    .spawn(move || relay(File::from(read), File::from(write2), max))?;
                relays.push(Relay {
                    index: p.input.index,
                    name: p.name.clone(),
                    copier,
                });
                ends[p.out.index].insert(p.out.fd, write);
                ends[p.input.index].insert(p.input.fd, read2);
            } else {
                ends[p.out.index].insert(p.out.fd, write);
                ends[p.input.index].insert(p.input.fd, read);
            }
        }
        Ok(Self { ends, relays })
    }

    pub fn split(self) -> (Vec<BTreeMap<usize, OwnedFd>>, Vec<Relay>) {
        (self.ends, self.relays)
    }
}

/// Copies everything from `source` to `sink` (until the reader goes away, then
/// drains), keeping the first `max` bytes.
fn relay(mut source: File, sink: File, max: u64) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut sink = Some(sink);
    loop {
        let n = match source.read(&mut chunk) {
            Ok(0) => return kept,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return kept,
        };
        let room = usize::try_from(max)
            .unwrap_or(usize::MAX)
            .saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
        if let Some(s) = &mut sink {
            if s.write_all(&chunk[..n]).is_err() {
                sink = None;
            }
        }
    }
}
