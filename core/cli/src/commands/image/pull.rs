//! `scpool image pull REF`.

use crate::error::CliError;
use crate::pull::{pull, PullError, PullReference};
use clap::Args;
use scpool_image::Store;

/// Pull an image from an OCI distribution registry (anonymous or bearer-token
/// access); an index is resolved to linux on this machine's architecture
#[derive(Debug, Clone, PartialEq, Args)]
pub struct PullArgs {
    /// Use plain HTTP (always so for localhost and 127.0.0.1)
    #[arg(long)]
    pub insecure: bool,
    /// Name the image NAME:TAG in the store (default: REF)
    #[arg(long, value_name = "NAME:TAG")]
    pub name: Option<String>,
    /// HOST[:PORT]/NAME[:TAG]
    #[arg(value_name = "REF")]
    pub reference: String,
}

pub fn run(store: &Store, args: &PullArgs) -> Result<u8, CliError> {
    let reference = PullReference::parse(&args.reference).map_err(CliError::rejected)?;
    let name =
        pull(store, &reference, args.name.as_deref(), args.insecure).map_err(|e| match e {
            PullError::Store(e) => super::image_error(&format!("pulling {reference}"), e),
            other => CliError::runtime(format!("pulling {reference}: {other}")),
        })?;
    println!("{name}");
    Ok(0)
}
