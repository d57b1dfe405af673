//! The command line, defined once with clap: parsing, help and usage errors all
//! come from these definitions and those of each subcommand in `commands/`.

use crate::commands::image::ImageArgs;
use crate::commands::{bench::BenchArgs, run::RunArgs, serve::ServeArgs};
use crate::commands::{
    exec::ExecArgs, ps::PsArgs, rm::RmArgs, stop::StopArgs, supervise::SuperviseArgs,
};
use clap::{Parser, Subcommand};
use std::ffi::OsString;

/// scpool - run untrusted programs in sandbox containers
#[derive(Debug, Parser)]
#[command(
    name = "scpool",
    version,
    subcommand_required = true,
    after_help = "scpool must run as root (or in rootless mode, as a user allowed to create\n\
                  user namespaces). See 'scpool run --help' for the exit status of a run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // Their help is that of their options' structs. Run is boxed: far larger.
    Run(Box<RunArgs>),
    Bench(BenchArgs),
    // Named containers (`run -d --name`).
    Ps(PsArgs),
    Exec(ExecArgs),
    Stop(StopArgs),
    Rm(RmArgs),
    /// The supervisor of a named container (started by `run -d`)
    #[command(hide = true)]
    Supervise(Box<SuperviseArgs>),
    Image(ImageArgs),
    Serve(ServeArgs),
}

/// Parses the whole command line (the program's name first). Help and
/// `--version` come back as errors too: clap's `print` and `exit_code` say where
/// they go and with which status (0 for them, 2 for usage errors).
pub fn parse<I>(args: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = OsString>,
{
    let command = Cli::try_parse_from(args)?.command;
    if let Command::Run(run) = &command {
        run.check()?;
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn kind(words: &[&str]) -> ErrorKind {
        let args = std::iter::once("scpool").chain(words.iter().copied());
        match parse(args.map(OsString::from)) {
            Err(e) => e.kind(),
            Ok(command) => panic!("{words:?} parsed as {command:?}"),
        }
    }

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn top_level_commands() {
        assert_eq!(kind(&["--help"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["-h"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["help"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["help", "run"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["help", "bench"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["--version"]), ErrorKind::DisplayVersion);
        assert_eq!(kind(&["-V"]), ErrorKind::DisplayVersion);
        assert_eq!(
            kind(&[]),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        assert_eq!(kind(&["frobnicate"]), ErrorKind::InvalidSubcommand);
        assert_eq!(kind(&["help", "x"]), ErrorKind::InvalidSubcommand);
    }

    #[test]
    fn usage_errors_exit_2_and_help_0() {
        let status = |words: &[&str]| {
            let args = std::iter::once("scpool").chain(words.iter().copied());
            parse(args.map(OsString::from)).unwrap_err().exit_code()
        };
        assert_eq!(status(&["--help"]), 0);
        assert_eq!(status(&["--version"]), 0);
        assert_eq!(status(&[]), 2);
        assert_eq!(status(&["run", "--bogus", "x"]), 2);
        assert_eq!(status(&["run", "--", ""]), 2);
    }
}
