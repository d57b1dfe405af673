//! `scpool image`: the image store's commands, one file each.

pub mod import;
pub mod ls;
pub mod pull;
pub mod rm;
pub mod save;

use crate::error::CliError;
use clap::{Args, Subcommand};
use scpool_image::Store;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
The store is /var/lib/scpool for root, else $XDG_DATA_HOME/scpool (or
~/.local/share/scpool); $SCPOOL_STORE or --store moves it. Names are NAME[:TAG],
the tag 'latest' when none is given.";

/// Manage images: import, list, remove, save and pull them
#[derive(Debug, Clone, PartialEq, Args)]
#[command(after_help = AFTER_HELP, subcommand_required = true)]
pub struct ImageArgs {
    /// The image store's directory (default: $SCPOOL_STORE, else see below)
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum ImageCommand {
    Import(import::ImportArgs),
    Ls(ls::LsArgs),
    Rm(rm::RmArgs),
    Save(save::SaveArgs),
    Pull(pull::PullArgs),
}

/// Carries out `scpool image ...`; returns the exit status.
pub fn run(args: &ImageArgs) -> Result<u8, CliError> {
    let store = open_store(args.store.as_deref())?;
    match &args.command {
        ImageCommand::Import(a) => import::run(&store, a),
        ImageCommand::Ls(a) => ls::run(&store, a),
        ImageCommand::Rm(a) => rm::run(&store, a),
        ImageCommand::Save(a) => save::run(&store, a),
        ImageCommand::Pull(a) => pull::run(&store, a),
    }
}

/// The store at `dir`, or the default one.
pub fn open_store(dir: Option<&std::path::Path>) -> Result<Store, CliError> {
    let path = dir.map_or_else(Store::default_path, ToOwned::to_owned);
    Store::open(&path).map_err(|e| image_error("opening the image store", e))
}

/// Maps a store error: a malformed name is a usage error, the rest runtime.
pub fn image_error(context: &str, error: scpool_image::Error) -> CliError {
    let message = format!("{context}: {error}");
    match error {
        scpool_image::Error::Invalid { .. } => CliError::rejected(message),
        _ => CliError::runtime(message),
    }
}
