//! `scpool image prune`.

use super::image_error;
use crate::error::CliError;
use clap::Args;
use scpool_image::Store;

/// Delete the layers and blobs no image uses (what `rm` kept because a container
/// still ran on it, and what interrupted imports left)
#[derive(Debug, Clone, PartialEq, Args)]
pub struct PruneArgs {}

pub fn run(store: &Store, _args: &PruneArgs) -> Result<u8, CliError> {
    let collected = store
        .collect()
        .map_err(|e| image_error("pruning the store", e))?;
    println!(
        "removed {} layers and {} blobs",
        collected.layers, collected.blobs
    );
    super::rm::note_in_use(collected.layers_in_use);
    Ok(0)
}
