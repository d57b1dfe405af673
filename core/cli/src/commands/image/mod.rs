//! `scpool image`: the image store's commands, one file each.

pub mod import;
pub mod ls;
pub mod prune;
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

/// Manage images: import, list, remove, save, pull and prune them
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
    Prune(prune::PruneArgs),
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
        ImageCommand::Prune(a) => prune::run(&store, a),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Command};
    use std::ffi::OsString;

    fn image(words: &[&str]) -> Result<ImageArgs, clap::Error> {
        let args = ["scpool", "image"].into_iter().chain(words.iter().copied());
        match parse(args.map(OsString::from))? {
            Command::Image(args) => Ok(args),
            other => panic!("{words:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn each_subcommand_parses_its_arguments_and_the_store_anywhere() {
        let args = image(&["import", "--name", "gcc:13", "gcc.tar", "--store", "/s"]).unwrap();
        assert_eq!(args.store.as_deref(), Some(std::path::Path::new("/s")));
        assert_eq!(
            args.command,
            ImageCommand::Import(import::ImportArgs {
                name: Some("gcc:13".into()),
                file: "gcc.tar".into(),
            })
        );
        let args = image(&["save", "gcc:13", "-o", "out.tar"]).unwrap();
        assert_eq!(
            args.command,
            ImageCommand::Save(save::SaveArgs {
                name: "gcc:13".into(),
                output: "out.tar".into(),
            })
        );
        assert!(matches!(
            image(&["ls", "--json"]).unwrap().command,
            ImageCommand::Ls(ls::LsArgs { json: true })
        ));
        let args = image(&["pull", "--insecure", "host:5000/a:1"]).unwrap();
        assert!(
            matches!(args.command, ImageCommand::Pull(p) if p.insecure && p.reference == "host:5000/a:1")
        );
    }

    #[test]
    fn missing_arguments_are_usage_errors() {
        for words in [
            &["save", "gcc:13"][..],
            &["rm"],
            &["import"],
            &["pull"],
            &[],
            &["frob"],
        ] {
            let error = image(words).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{words:?}: {error}");
        }
    }
}
