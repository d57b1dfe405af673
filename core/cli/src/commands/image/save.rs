//! `scpool image save NAME:TAG -o FILE`.

use super::image_error;
use crate::error::CliError;
use clap::Args;
use scpool_image::Store;
use std::path::PathBuf;

/// Write an image as an archive `docker load` reads (also an OCI layout)
#[derive(Debug, Clone, PartialEq, Args)]
pub struct SaveArgs {
    #[arg(value_name = "NAME:TAG")]
    pub name: String,
    /// The archive to write (replaced only once complete)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(store: &Store, args: &SaveArgs) -> Result<u8, CliError> {
    store
        .save(&args.name, &args.output)
        .map_err(|e| image_error(&format!("saving {}", args.name), e))?;
    Ok(0)
}
