//! Where an import reads its members from: a directory, or a tar archive read
//! in place (members located once, then read by offset; nothing is extracted).

use crate::error::{Context, Error, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

/// Members of an image archive or layout, by their path inside it.
pub trait Source {
    /// Whether member `name` exists.
    fn has(&self, name: &str) -> bool;
    /// Reads member `name`.
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>>;
    /// What the source is, for messages.
    fn describe(&self) -> String;

    /// Reads a whole small member (a JSON document), at most `limit` bytes.
    fn read_small(&self, name: &str) -> Result<Vec<u8>> {
        const LIMIT: u64 = 16 << 20;
        let mut bytes = Vec::new();
        self.open(name)?
            .take(LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::corrupt(format!("{} member {name}", self.describe()), e))?;
        if bytes.len() as u64 > LIMIT {
            return Err(Error::corrupt(
                self.describe(),
                format!("{name} is over 16 MiB"),
            ));
        }
        Ok(bytes)
    }
}

/// A member name made plain: `./` and `.` dropped; `..` and absolute names
/// refused, so an archive cannot make the import read a host file.
pub fn clean(name: &str) -> Option<String> {
    let mut parts = Vec::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A layout unpacked in a directory (`docker save` output extracted, or an OCI
/// image layout).
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }
}

impl Source for DirSource {
    fn has(&self, name: &str) -> bool {
        clean(name).is_some_and(|n| self.root.join(n).is_file())
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>> {
        let cleaned = clean(name).ok_or_else(|| {
            Error::corrupt(
                self.describe(),
                format!("member name {name:?} leaves the layout"),
            )
        })?;
        let path = self.root.join(cleaned);
        let file = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => {
                Error::corrupt(self.describe(), format!("{name} is missing"))
            }
            _ => Error::io(format!("opening {}", path.display()), e),
        })?;
        Ok(Box::new(file))
    }

    fn describe(&self) -> String {
        format!("layout {}", self.root.display())
    }
}

/// Where a member's data lies in the archive.
#[derive(Clone)]
enum Member {
    Data {
        offset: u64,
        size: u64,
    },
    /// A link to another member (docker save links repeated layers).
    Link(String),
}

/// A tar archive on disk, its members indexed by one pass that seeks over data.
pub struct TarSource {
    path: PathBuf,
    file: File,
    members: HashMap<String, Member>,
}

impl TarSource {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).context(|| format!("opening {}", path.display()))?;
        let corrupt = |e: io::Error| Error::corrupt(format!("archive {}", path.display()), e);
        let mut members = HashMap::new();
        let mut archive = tar::Archive::new(&file);
        let total = file
            .metadata()
            .context(|| format!("reading {}", path.display()))?
            .len();
        // Where the last member's data ends: the end-of-archive blocks follow.
        let mut end = 0u64;
        for entry in archive.entries_with_seek().map_err(corrupt)? {
            let entry = entry.map_err(corrupt)?;
            end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
            let raw = entry.path().map_err(corrupt)?;
            let Some(name) = raw.to_str().and_then(clean) else {
                continue;
            };
            let kind = entry.header().entry_type();
            let member = if kind.is_file() {
                let (offset, size) = (entry.raw_file_position(), entry.size());
                // Seeking past the end reads no error: check the data is all there.
                if offset.saturating_add(size) > total {
                    return Err(Error::corrupt(
                        format!("archive {}", path.display()),
                        format!("{name} is cut short: the archive is truncated"),
                    ));
                }
                Member::Data { offset, size }
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = entry.link_name().map_err(corrupt)?.unwrap_or_default();
                let target = target.to_string_lossy();
                // Symbolic links are relative to the member's directory, hard links to the root.
                let joined = match (kind.is_symlink(), name.rfind('/')) {
                    (true, Some(i)) => format!("{}/{target}", &name[..i]),
                    _ => target.into_owned(),
                };
                match resolve_dots(&joined) {
                    Some(target) => Member::Link(target),
                    None => continue,
                }
            } else {
                continue;
            };
            members.insert(name, member);
        }
        // The tar crate takes a clean end of file between members for the end of
        // the archive: without the zero block, members may be missing.
        let mut marker = [0u8; 512];
        let complete = total >= end + 512
            && file.read_exact_at(&mut marker, end).is_ok()
            && marker.iter().all(|&b| b == 0);
        if !complete {
            return Err(Error::corrupt(
                format!("archive {}", path.display()),
                "it has no end-of-archive marker: the archive is truncated",
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            members,
        })
    }

    fn find(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = clean(name)?;
        for _ in 0..8 {
            match self.members.get(&name)? {
                Member::Data { offset, size } => return Some((*offset, *size)),
                Member::Link(target) => name = target.clone(),
            }
        }
        None
    }
}

/// `a/b/../c` -> `a/c`; None if it climbs above the root.
fn resolve_dots(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

impl Source for TarSource {
    fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>> {
        let (offset, size) = self
            .find(name)
            .ok_or_else(|| Error::corrupt(self.describe(), format!("{name} is missing")))?;
        Ok(Box::new(ReadAt {
            file: &self.file,
            position: offset,
            end: offset + size,
        }))
    }

    fn describe(&self) -> String {
        format!("archive {}", self.path.display())
    }
}

/// Reads a range of a file by offset (pread), so members can be read in any order.
struct ReadAt<'a> {
    file: &'a File,
    position: u64,
    end: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.position;
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = loop {
            match self.file.read_at(&mut buf[..want], self.position) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside a member",
            ));
        }
        self.position += n as u64;
        Ok(n)
    }
}
