//! `scpool stop`: its options.

use clap::Args;

/// Stop the program of named containers: SIGTERM, then SIGKILL after the grace
/// period. The container stays (exited) until 'scpool rm'.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct StopArgs {
    /// Seconds between SIGTERM and SIGKILL
    #[arg(short = 't', long = "time", value_name = "SECS", default_value_t = 10)]
    pub time: u64,
    /// The containers' names
    #[arg(required = true)]
    pub names: Vec<String>,
}
