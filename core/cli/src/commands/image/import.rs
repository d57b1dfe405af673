//! `scpool image import FILE [--name NAME:TAG]`.

use super::image_error;
use crate::error::CliError;
use clap::Args;
use scpool_image::Store;
use std::path::PathBuf;

/// Import a docker save archive, an OCI image layout (directory or tar) or a
/// root-filesystem tar (docker export), each possibly gzip- or zstd-compressed
#[derive(Debug, Clone, PartialEq, Args)]
pub struct ImportArgs {
    /// Name the image NAME:TAG (needed for a root-filesystem tar, or an image
    /// that carries no name)
    #[arg(long, value_name = "NAME:TAG")]
    pub name: Option<String>,
    /// The archive or layout directory
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

pub fn run(store: &Store, args: &ImportArgs) -> Result<u8, CliError> {
    let names = store
        .import(&args.file, args.name.as_deref())
        .map_err(|e| image_error(&format!("importing {}", args.file.display()), e))?;
    for name in names {
        println!("{name}");
    }
    Ok(0)
}
