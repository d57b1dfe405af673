//! `scpool exec`: its options.

use clap::builder::OsStringValueParser;
use clap::Args;
use scpool_core::DEFAULT_CWD;
use std::ffi::OsString;
use std::path::PathBuf;

/// Run another program in a named container, with this terminal's stdin, stdout and
/// stderr; exits with the program's status (as 'scpool run' does).
///
/// A container runs one program at a time: exec waits for nothing and is refused
/// while the container's own program runs.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ExecArgs {
    /// Set an environment variable; repeatable. Without any --env the environment
    /// is exactly PATH=/usr/local/bin:/usr/bin:/bin
    #[arg(long, value_name = "K=V", default_value = crate::commands::run::DEFAULT_ENV,
          hide_default_value = true, value_parser = OsStringValueParser::new())]
    pub env: Vec<OsString>,
    /// Working directory in the container
    #[arg(long, value_name = "DIR", default_value = DEFAULT_CWD)]
    pub cwd: PathBuf,
    /// The container's name
    pub name: String,
    /// PROGRAM (a path inside the container) and its arguments
    #[arg(value_name = "PROGRAM", required = true, trailing_var_arg = true,
          value_parser = OsStringValueParser::new())]
    pub command: Vec<OsString>,
}
