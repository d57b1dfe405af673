//! The container `scpool run` (and a named container) is built as: the library's
//! defaults, the cgroup options, and an image (by name from the store, or as
//! layer directories) in place of the host binds.

use crate::commands::run::RunArgs;
use crate::error::CliError;
use scpool_core::ContainerConfig;
use std::path::{Path, PathBuf};

pub fn container_config(options: &RunArgs) -> Result<ContainerConfig, CliError> {
    let mut config = ContainerConfig::default();
    config.cgroup.mode = options.cgroup.clone();
    config.cgroup.parent = options.cgroup_parent.clone();
    config.cgroup.process_peak = options.process_peak;
    let layers = match &options.image {
        Some(image) => image_layers(image, options.store.as_deref())?,
        None => options.image_layers.clone(),
    };
    if !layers.is_empty() {
        // The image is the whole root: no host directory over it.
        config.mounts.clear();
        config.image_layers = layers;
    }
    if let Some(size) = options.root_size {
        config.root_size = size;
    }
    Ok(config)
}

/// The unpacked layers of IMAGE (`NAME:TAG`) in the store, lowest first.
fn image_layers(image: &str, store: Option<&Path>) -> Result<Vec<PathBuf>, CliError> {
    let store = crate::commands::image::open_store(store)?;
    let resolved = store
        .resolve(image)
        .map_err(|e| crate::commands::image::image_error("--image", e))?;
    Ok(resolved.layers)
}
