//! The hidden subcommand a named container's supervisor runs as: `scpool run -d`
//! re-executes itself with its own options after it.

use crate::commands::run::RunArgs;
use clap::Args;

#[derive(Debug, Clone, PartialEq, Args)]
pub struct SuperviseArgs {
    #[command(flatten)]
    pub run: RunArgs,
}
