//! Binary encoding of [`Request`] and [`Response`].
//!
//! Layout: a one-byte tag, then the fields in declaration order. Integers are
//! little-endian; byte strings and lists carry a u32 length first. The decoder never
//! trusts a length: every count is checked against the bytes that remain, so a hostile
//! or corrupt message costs at most its own size and yields a [`DecodeError`].

use super::message::*;
use super::MAX_MESSAGE_BYTES;
use std::fmt;

/// Why bytes are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The message ended inside a field.
    Truncated,
    /// Bytes were left after the message.
    TrailingBytes(usize),
    /// An unknown message or enum tag.
    BadTag {
        /// Which field.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A length larger than the message or than the protocol allows.
    TooLong {
        /// Which field.
        what: &'static str,
        /// The length found.
        len: u64,
    },
    /// Text that must be UTF-8 was not.
    BadUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "message truncated"),
            Self::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the message"),
            Self::BadTag { what, tag } => write!(f, "unknown {what} tag {tag}"),
            Self::TooLong { what, len } => write!(f, "{what} length {len} is too large"),
            Self::BadUtf8 => write!(f, "text is not UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

// ---------------------------------------------------------------------------------
// Primitive writer and reader.

#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
    }
    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.u32(items.len() as u32);
        for item in items {
            each(self, item);
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::BadTag { what: "bool", tag }),
        }
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn bytes(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32()? as usize;
        if len > self.rest.len() {
            return Err(DecodeError::TooLong {
                what,
                len: len as u64,
            });
        }
        Ok(self.take(len)?.to_vec())
    }
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes(what)?).map_err(|_| DecodeError::BadUtf8)
    }
    /// A list whose items each take at least `min_item` bytes: the count is checked
    /// against what remains before anything is allocated.
    fn list<T>(
        &mut self,
        what: &'static str,
        min_item: usize,
        mut each: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.u32()? as usize;
        if count.saturating_mul(min_item) > self.rest.len() {
            return Err(DecodeError::TooLong {
                what,
                len: count as u64,
            });
        }
        (0..count).map(|_| each(self)).collect()
    }
    fn finish(self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

fn checked_input(bytes: &[u8]) -> Result<Reader<'_>, DecodeError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(DecodeError::TooLong {
            what: "message",
            len: bytes.len() as u64,
        });
    }
    Ok(Reader { rest: bytes })
}

// ---------------------------------------------------------------------------------
// Requests.

const REQ_SETUP: u8 = 1;
const REQ_PING: u8 = 2;
const REQ_OPEN: u8 = 3;
const REQ_EXECVE: u8 = 4;
const REQ_KILL: u8 = 5;
const REQ_RESET: u8 = 6;
const REQ_SHUTDOWN: u8 = 7;

/// The bytes of a request.
pub fn encode_request(req: &Request) -> Vec<u8> {
    let mut w = Writer::default();
    match req {
        Request::Setup(s) => {
            w.u8(REQ_SETUP);
            w.bytes(&s.hostname);
            w.bytes(&s.domainname);
            w.list(&s.mounts, |w, m| {
                w.bytes(&m.source);
                w.bytes(&m.target);
                w.bool(m.writable);
                w.bool(m.optional);
            });
            match &s.rootfs {
                Some(root) => {
                    w.bool(true);
                    w.bytes(root);
                }
                None => w.bool(false),
            }
            w.list(&s.image_layers, |w, l| w.bytes(l));
            w.u64(s.root_size);
            w.u64(s.work_size);
            w.u64(s.tmp_size);
            w.u32(s.uid);
            w.u32(s.gid);
            w.bool(s.user_namespace);
        }
        Request::Ping { nonce } => {
            w.u8(REQ_PING);
            w.u64(*nonce);
        }
        Request::Open(entries) => {
            w.u8(REQ_OPEN);
            w.list(entries, |w, e| {
                w.bytes(&e.path);
                w.i32(e.flags);
                w.u32(e.mode);
            });
        }
        Request::Execve(x) => {
            w.u8(REQ_EXECVE);
            w.list(&x.args, |w, a| w.bytes(a));
            w.list(&x.env, |w, e| w.bytes(e));
            w.bytes(&x.cwd);
            w.u32(x.fd_count);
            w.bool(x.exec_fd);
            w.list(&x.rlimits, |w, r| {
                w.u32(r.resource);
                w.u64(r.soft);
                w.u64(r.hard);
            });
            match &x.seccomp {
                Some(prog) => {
                    w.bool(true);
                    w.bytes(prog);
                }
                None => w.bool(false),
            }
            w.u64(x.wall_limit_ns);
            w.bool(x.single_program);
            w.bool(x.join_cgroup);
        }
        Request::Kill => w.u8(REQ_KILL),
        Request::Reset { clear_keys } => {
            w.u8(REQ_RESET);
            w.bool(*clear_keys);
        }
        Request::Shutdown => w.u8(REQ_SHUTDOWN),
    }
    w.buf
}

/// A request from its bytes; anything malformed is an error, never a panic.
pub fn decode_request(bytes: &[u8]) -> Result<Request, DecodeError> {
    let mut r = checked_input(bytes)?;
    let req = match r.u8()? {
        REQ_SETUP => Request::Setup(Setup {
            hostname: r.bytes("hostname")?,
            domainname: r.bytes("domainname")?,
            mounts: r.list("mounts", 10, |r| {
                Ok(MountSpec {
                    source: r.bytes("mount source")?,
                    target: r.bytes("mount target")?,
                    writable: r.bool()?,
                    optional: r.bool()?,
                })
            })?,
            rootfs: if r.bool()? {
                Some(r.bytes("rootfs")?)
            } else {
                None
            },
            image_layers: r.list("image layers", 4, |r| r.bytes("image layer"))?,
            root_size: r.u64()?,
            work_size: r.u64()?,
            tmp_size: r.u64()?,
            uid: r.u32()?,
            gid: r.u32()?,
            user_namespace: r.bool()?,
        }),
        REQ_PING => Request::Ping { nonce: r.u64()? },
        REQ_OPEN => Request::Open(r.list("open entries", 12, |r| {
            Ok(OpenEntry {
                path: r.bytes("path")?,
                flags: r.i32()?,
                mode: r.u32()?,
            })
        })?),
        REQ_EXECVE => Request::Execve(ExecRequest {
            args: r.list("args", 4, |r| r.bytes("arg"))?,
            env: r.list("env", 4, |r| r.bytes("env entry"))?,
            cwd: r.bytes("cwd")?,
            fd_count: r.u32()?,
            exec_fd: r.bool()?,
            rlimits: r.list("rlimits", 20, |r| {
                Ok(Rlimit {
                    resource: r.u32()?,
                    soft: r.u64()?,
                    hard: r.u64()?,
                })
            })?,
            seccomp: if r.bool()? {
                Some(r.bytes("seccomp program")?)
            } else {
                None
            },
            wall_limit_ns: r.u64()?,
            single_program: r.bool()?,
            join_cgroup: r.bool()?,
        }),
        REQ_KILL => Request::Kill,
        REQ_RESET => Request::Reset {
            clear_keys: r.bool()?,
        },
        REQ_SHUTDOWN => Request::Shutdown,
        tag => {
            return Err(DecodeError::BadTag {
                what: "request",
                tag,
            })
        }
    };
    r.finish()?;
    Ok(req)
}

// ---------------------------------------------------------------------------------
// Responses.

const RESP_READY: u8 = 1;
const RESP_PONG: u8 = 2;
const RESP_OPENED: u8 = 3;
const RESP_EXITED: u8 = 4;
const RESP_RESET_DONE: u8 = 5;
const RESP_ERROR: u8 = 6;

const OUTCOME_EXITED: u8 = 1;
const OUTCOME_SIGNALED: u8 = 2;
const OUTCOME_EXEC_FAILED: u8 = 3;

/// The bytes of a response.
pub fn encode_response(resp: &Response) -> Vec<u8> {
    let mut w = Writer::default();
    match resp {
        Response::Ready { version } => {
            w.u8(RESP_READY);
            w.u32(*version);
        }
        Response::Pong { nonce } => {
            w.u8(RESP_PONG);
            w.u64(*nonce);
        }
        Response::Opened { count } => {
            w.u8(RESP_OPENED);
            w.u32(*count);
        }
        Response::Exited(x) => {
            w.u8(RESP_EXITED);
            match x.outcome {
                Outcome::Exited(code) => {
                    w.u8(OUTCOME_EXITED);
                    w.i32(code);
                }
                Outcome::Signaled(sig) => {
                    w.u8(OUTCOME_SIGNALED);
                    w.i32(sig);
                }
                Outcome::ExecFailed { stage, errno } => {
                    w.u8(OUTCOME_EXEC_FAILED);
                    w.u8(stage as u8);
                    w.i32(errno);
                }
            }
            w.u64(x.received_ns);
            w.u64(x.started_ns);
            w.u64(x.ended_ns);
            w.u64(x.user_us);
            w.u64(x.system_us);
            w.u64(x.maxrss_kib);
            w.bool(x.file_size_exceeded);
            w.bool(x.sigsys_killed);
            w.u64(x.init_cpu_us);
            w.bool(x.wall_time_exceeded);
            w.bool(x.init_tampered);
            w.u64(x.replied_ns);
            w.bool(x.standby);
        }
        Response::ResetDone => w.u8(RESP_RESET_DONE),
        Response::Error(e) => {
            w.u8(RESP_ERROR);
            w.u8(e.kind as u8);
            w.i32(e.errno);
            w.bytes(e.message.as_bytes());
            // u32::MAX: no entry (a request has far fewer).
            w.u32(e.entry.unwrap_or(u32::MAX));
        }
    }
    w.buf
}

/// A response from its bytes; anything malformed is an error, never a panic.
pub fn decode_response(bytes: &[u8]) -> Result<Response, DecodeError> {
    let mut r = checked_input(bytes)?;
    let resp = match r.u8()? {
        RESP_READY => Response::Ready { version: r.u32()? },
        RESP_PONG => Response::Pong { nonce: r.u64()? },
        RESP_OPENED => Response::Opened { count: r.u32()? },
        RESP_EXITED => {
            let outcome = match r.u8()? {
                OUTCOME_EXITED => Outcome::Exited(r.i32()?),
                OUTCOME_SIGNALED => Outcome::Signaled(r.i32()?),
                OUTCOME_EXEC_FAILED => {
                    let tag = r.u8()?;
                    let stage = ExecStage::from_u8(tag).ok_or(DecodeError::BadTag {
                        what: "exec stage",
                        tag,
                    })?;
                    Outcome::ExecFailed {
                        stage,
                        errno: r.i32()?,
                    }
                }
                tag => {
                    return Err(DecodeError::BadTag {
                        what: "outcome",
                        tag,
                    })
                }
            };
            Response::Exited(ExecReport {
                outcome,
                received_ns: r.u64()?,
                started_ns: r.u64()?,
                ended_ns: r.u64()?,
                user_us: r.u64()?,
                system_us: r.u64()?,
                maxrss_kib: r.u64()?,
                file_size_exceeded: r.bool()?,
                sigsys_killed: r.bool()?,
                init_cpu_us: r.u64()?,
                wall_time_exceeded: r.bool()?,
                init_tampered: r.bool()?,
                replied_ns: r.u64()?,
                standby: r.bool()?,
            })
        }
        RESP_RESET_DONE => Response::ResetDone,
        RESP_ERROR => {
            let tag = r.u8()?;
            let kind = ErrorKind::from_u8(tag).ok_or(DecodeError::BadTag {
                what: "error kind",
                tag,
            })?;
            let errno = r.i32()?;
            let message = r.string("message")?;
            let entry = Some(r.u32()?).filter(|&i| i != u32::MAX);
            Response::Error(ErrorReport {
                kind,
                errno,
                message,
                entry,
            })
        }
        tag => {
            return Err(DecodeError::BadTag {
                what: "response",
                tag,
            })
        }
    };
    r.finish()?;
    Ok(resp)
}
