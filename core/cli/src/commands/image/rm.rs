//! `scpool image rm NAME:TAG...`.

use super::image_error;
use crate::error::CliError;
use clap::Args;
use scpool_image::Store;

/// Remove images by name; layers and blobs no other image uses are deleted
#[derive(Debug, Clone, PartialEq, Args)]
pub struct RmArgs {
    #[arg(value_name = "NAME:TAG", required = true)]
    pub names: Vec<String>,
}

pub fn run(store: &Store, args: &RmArgs) -> Result<u8, CliError> {
    for name in &args.names {
        let collected = store
            .remove(name)
            .map_err(|e| image_error(&format!("removing {name}"), e))?;
        println!("{name}");
        note_in_use(collected.layers_in_use);
    }
    Ok(0)
}

/// Says on stderr that `count` unused layers stay while containers run on them.
pub fn note_in_use(count: usize) {
    if count > 0 {
        eprintln!(
            "scpool: kept {count} layer(s) that running containers use; \
             'scpool image prune' removes them once those containers are gone"
        );
    }
}
