//! The container `scpool run` (and a named container) is built as: the library's
//! defaults, the cgroup options, and image layers in place of the host binds.

use crate::commands::run::RunArgs;
use scpool_core::ContainerConfig;

pub fn container_config(options: &RunArgs) -> ContainerConfig {
    let mut config = ContainerConfig::default();
    config.cgroup.mode = options.cgroup.clone();
    config.cgroup.parent = options.cgroup_parent.clone();
    if !options.image_layers.is_empty() {
        // The image is the whole root: no host directory over it.
        config.mounts.clear();
        config.image_layers = options.image_layers.clone();
    }
    if let Some(size) = options.root_size {
        config.root_size = size;
    }
    config
}
