//! `scpool rm`: its options.

use clap::Args;

/// Remove named containers: the container, its supervisor and its state. A running
/// one is refused unless --force.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct RmArgs {
    /// Remove a running container too (its program is killed)
    #[arg(short, long)]
    pub force: bool,
    /// The containers' names
    #[arg(required = true)]
    pub names: Vec<String>,
}
