//! `scpool ps`: its options.

use clap::Args;

/// List named containers (running ones; all with -a)
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct PsArgs {
    /// Show exited containers too
    #[arg(short, long)]
    pub all: bool,
    /// One JSON array of objects instead of a table
    #[arg(long)]
    pub json: bool,
}
