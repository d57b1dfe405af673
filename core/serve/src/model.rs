//! The JSON of go-judge's REST API, field for field (its `cmd/go-judge/model`
//! package is the reference for names and meanings). Unknown fields are refused:
//! a misspelt limit silently ignored would run a program without it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /run` (and each WebSocket message).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Request {
    #[serde(default)]
    pub request_id: String,
    pub cmd: Vec<Cmd>,
    #[serde(default)]
    pub pipe_mapping: Vec<PipeMap>,
}

/// One program of a request. Times are nanoseconds, sizes bytes; 0 means unset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cmd {
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    /// Descriptor i of the program; `null` leaves it closed (/dev/null for 0-2).
    #[serde(default)]
    pub files: Vec<Option<CmdFile>>,
    #[serde(default)]
    pub tty: bool,
    #[serde(default)]
    pub cpu_limit: u64,
    /// go-judge's older name for `clockLimit`; it wins when both are set.
    #[serde(default)]
    pub real_cpu_limit: u64,
    #[serde(default)]
    pub clock_limit: u64,
    #[serde(default)]
    pub memory_limit: u64,
    #[serde(default)]
    pub stack_limit: u64,
    #[serde(default)]
    pub proc_limit: u64,
    /// Thousandths of a core (1000 = one core).
    #[serde(default)]
    pub cpu_rate_limit: u64,
    #[serde(default)]
    pub cpu_set_limit: String,
    #[serde(default)]
    pub copy_in: BTreeMap<String, CmdFile>,
    #[serde(default)]
    pub copy_out: Vec<String>,
    #[serde(default)]
    pub copy_out_cached: Vec<String>,
    #[serde(default)]
    pub copy_out_max: u64,
    #[serde(default)]
    pub copy_out_dir: String,
    #[serde(default)]
    pub copy_out_truncate: bool,
    #[serde(default)]
    pub strict_memory_limit: bool,
    #[serde(default)]
    pub data_segment_limit: bool,
    #[serde(default)]
    pub address_space_limit: bool,
}

/// A file given to a program or copied into its container: exactly one source
/// (`src`, `content`, `fileId`, `symlink`) or a collector (`name` + `max`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CmdFile {
    pub src: Option<String>,
    pub content: Option<String>,
    pub file_id: Option<String>,
    pub name: Option<String>,
    pub max: Option<i64>,
    pub symlink: Option<String>,
    #[serde(default)]
    pub stream_in: bool,
    #[serde(default)]
    pub stream_out: bool,
    #[serde(default)]
    pub pipe: bool,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PipeIndex {
    pub index: usize,
    pub fd: usize,
}

/// A pipe from descriptor `out.fd` of `cmd[out.index]` to `in.fd` of
/// `cmd[in.index]`; with `proxy`, the service copies it and keeps the first `max`
/// bytes under `name` in the reading command's `files`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PipeMap {
    #[serde(rename = "in")]
    pub input: PipeIndex,
    pub out: PipeIndex,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub max: i64,
    #[serde(default)]
    pub proxy: bool,
    #[serde(default)]
    pub disable_zero_copy: bool,
}

/// One command's result.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CmdResult {
    pub status: &'static str,
    pub exit_status: i32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// CPU time, nanoseconds.
    pub time: u64,
    /// Peak memory, bytes.
    pub memory: u64,
    /// Wall-clock time, nanoseconds.
    pub run_time: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub proc_peak: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub file_ids: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_error: Vec<FileError>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where a file operation failed, with go-judge's type names.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileError {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FileErrorKind,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum FileErrorKind {
    CopyInOpenFile,
    CopyInCreateDir,
    CopyInCreateFile,
    CopyInCopyContent,
    CopyOutOpen,
    CopyOutNotRegularFile,
    CopyOutSizeExceeded,
    CopyOutCreateFile,
    CopyOutCopyContent,
    CollectSizeExceeded,
    Symlink,
}

/// The WebSocket form of a response: the request's id beside its results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub request_id: String,
    pub results: Vec<CmdResult>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
}
