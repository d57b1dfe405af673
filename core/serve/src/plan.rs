//! A request checked before any container is taken: every field the service does
//! not support is refused here (never ignored), stored files are looked up, and
//! each command's descriptors are laid out.

use crate::model::{Cmd, CmdFile, PipeMap, Request};
use crate::store::{FileStore, StoredFile};
use std::sync::Arc;

/// Why a request cannot run: the client's mistake (HTTP 400).
#[derive(Debug, PartialEq, Eq)]
pub struct BadRequest(pub String);

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `content`, in memory.
    Bytes(Arc<Vec<u8>>),
    /// A stored `fileId`, kept even if it is deleted while the request runs.
    Stored(StoredFile),
    /// `src`: a host path, checked against the configured prefixes when the
    /// command runs (a refusal is a File Error, as go-judge reports a missing file).
    Host(String),
}

/// What one descriptor of a program is.
#[derive(Debug, Clone)]
pub enum Slot {
    /// `null`: nothing (0-2 read /dev/null).
    Empty,
    Input(Source),
    /// Output the service collects, at most `max` bytes.
    Collector {
        name: String,
        max: u64,
    },
    /// An end of a pipe of the request's `pipeMapping`.
    Pipe,
}

#[derive(Debug, Clone)]
pub struct CmdPlan {
    pub cmd: Cmd,
    pub slots: Vec<Slot>,
    pub copy_in: Vec<(String, Source)>,
    /// copyIn's `symlink` entries: (path, target), made after the files.
    pub symlinks: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub request_id: String,
    pub cmds: Vec<CmdPlan>,
    pub pipes: Vec<PipeMap>,
}

/// go-judge's message for an unknown `fileId`, kept so clients that match on it
/// still do (go-judge answers it with HTTP 500; this service with 400).
pub fn unknown_file_id(id: &str) -> String {
    format!("file does not exists with id: {id:?}")
}

pub fn plan(request: Request, store: &FileStore, max_cmds: usize) -> Result<Plan, BadRequest> {
    let bad = |m: String| Err(BadRequest(m));
    if request.cmd.is_empty() {
        return bad("no cmd provided".into());
    }
    if request.cmd.len() > max_cmds {
        return bad(format!(
            "{} commands in one request, but this service runs at most {max_cmds} at once (--parallelism)",
            request.cmd.len()
        ));
    }
    let mut cmds = Vec::with_capacity(request.cmd.len());
    for (i, cmd) in request.cmd.into_iter().enumerate() {
        cmds.push(plan_cmd(cmd, store).map_err(locate(format!("cmd[{i}]")))?);
    }
    for (n, pipe) in request.pipe_mapping.iter().enumerate() {
        for (end, at) in [("out", pipe.out), ("in", pipe.input)] {
            let Some(cmd) = cmds.get_mut(at.index) else {
                return bad(format!(
                    "pipeMapping[{n}].{end}.index {} names no cmd",
                    at.index
                ));
            };
            if at.fd > 1023 {
                return bad(format!("pipeMapping[{n}].{end}.fd {} is too large", at.fd));
            }
            if cmd.slots.len() <= at.fd {
                cmd.slots.resize(at.fd + 1, Slot::Empty);
            }
            if !matches!(cmd.slots[at.fd], Slot::Empty) {
                return bad(format!(
                    "pipeMapping[{n}].{end}: fd {} of cmd[{}] is already given in files",
                    at.fd, at.index
                ));
            }
            cmd.slots[at.fd] = Slot::Pipe;
        }
        if pipe.proxy && pipe.max < 0 {
            return bad(format!("pipeMapping[{n}].max must not be negative"));
        }
        if pipe.input.index == pipe.out.index {
            return bad(format!(
                "pipeMapping[{n}] connects cmd[{}] to itself",
                pipe.input.index
            ));
        }
    }
    Ok(Plan {
        request_id: request.request_id,
        cmds,
        pipes: request.pipe_mapping,
    })
}

/// Says where in the request a mistake is; go-judge's message for an unknown fileId
/// stays exactly as go-judge words it.
fn locate(at: String) -> impl Fn(BadRequest) -> BadRequest {
    move |BadRequest(m)| {
        if m.starts_with("file does not exists") {
            BadRequest(m)
        } else {
            BadRequest(format!("{at}: {m}"))
        }
    }
}

fn plan_cmd(cmd: Cmd, store: &FileStore) -> Result<CmdPlan, BadRequest> {
    let unsupported = |what: &str| {
        Err(BadRequest(format!(
            "{what} is not supported by this service"
        )))
    };
    if cmd.args.is_empty() || cmd.args[0].is_empty() {
        return Err(BadRequest("args must name a program".into()));
    }
    if cmd.tty {
        return unsupported("tty");
    }
    crate::cpus::parse(&cmd.cpu_set_limit)?;
    if !cmd.copy_out_dir.is_empty() {
        return unsupported("copyOutDir");
    }
    if cmd.data_segment_limit {
        return unsupported("dataSegmentLimit (use strictMemoryLimit or addressSpaceLimit)");
    }
    let mut slots = Vec::with_capacity(cmd.files.len());
    for (fd, file) in cmd.files.iter().enumerate() {
        let slot = match file {
            None => Slot::Empty,
            Some(f) => file_slot(f, store).map_err(locate(format!("files[{fd}]")))?,
        };
        slots.push(slot);
    }
    let mut copy_in = Vec::with_capacity(cmd.copy_in.len());
    let mut symlinks = Vec::new();
    for (path, file) in &cmd.copy_in {
        if let Some(target) = &file.symlink {
            symlinks.push((path.clone(), symlink_target(path, file, target)?));
            continue;
        }
        if file.name.is_some() || file.max.is_some() || file.pipe {
            return Err(BadRequest(format!(
                "copyIn {path:?}: a collector cannot be copied in"
            )));
        }
        match file_slot(file, store).map_err(locate(format!("copyIn {path:?}")))? {
            Slot::Input(source) => copy_in.push((path.clone(), source)),
            _ => unreachable!("file_slot gives inputs for sources"),
        }
    }
    Ok(CmdPlan {
        cmd,
        slots,
        copy_in,
        symlinks,
    })
}

/// A copyIn `symlink` entry: a target and nothing else (the target itself is the
/// library's to check, a File Error as in go-judge).
fn symlink_target(path: &str, file: &CmdFile, target: &str) -> Result<String, BadRequest> {
    let others = file.src.is_some()
        || file.content.is_some()
        || file.file_id.is_some()
        || file.name.is_some()
        || file.max.is_some()
        || file.pipe
        || file.stream_in
        || file.stream_out;
    if others {
        return Err(BadRequest(format!(
            "copyIn {path:?}: a symlink takes no other field"
        )));
    }
    Ok(target.to_owned())
}

fn file_slot(f: &CmdFile, store: &FileStore) -> Result<Slot, BadRequest> {
    let unsupported = |what: &str| {
        Err(BadRequest(format!(
            "{what} is not supported by this service"
        )))
    };
    if f.stream_in || f.stream_out {
        return unsupported("streamIn/streamOut (the /stream endpoint)");
    }
    if f.symlink.is_some() {
        // As in go-judge: a link is something made in the container, not a descriptor.
        return Err(BadRequest(
            "symlink is valid in copyIn only, not as a file of cmd".into(),
        ));
    }
    let sources = [f.src.is_some(), f.content.is_some(), f.file_id.is_some()]
        .iter()
        .filter(|s| **s)
        .count();
    match (sources, &f.name, f.max) {
        (0, Some(name), Some(max)) => {
            if max < 0 {
                return Err(BadRequest(format!(
                    "collector {name:?}: max must not be negative"
                )));
            }
            Ok(Slot::Collector {
                name: name.clone(),
                max: max as u64,
            })
        }
        (1, None, None) => {
            if let Some(content) = &f.content {
                Ok(Slot::Input(Source::Bytes(Arc::new(
                    content.as_bytes().to_vec(),
                ))))
            } else if let Some(id) = &f.file_id {
                match store.get(id) {
                    Some(file) => Ok(Slot::Input(Source::Stored(file))),
                    None => Err(BadRequest(unknown_file_id(id))),
                }
            } else {
                Ok(Slot::Input(Source::Host(f.src.clone().unwrap_or_default())))
            }
        }
        _ => Err(BadRequest(
            "file is not valid for cmd: give one of src, content, fileId, or name with max".into(),
        )),
    }
}
