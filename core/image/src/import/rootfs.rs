//! A plain root-filesystem tar (`docker export`): one layer, a config made here.

use crate::error::{Context, Error, Result};
use crate::manifest::{self, Descriptor, Manifest};
use crate::reference::Reference;
use crate::store::Store;
use std::fs::File;

pub fn import(
    store: &Store,
    path: &std::path::Path,
    name: Option<&Reference>,
) -> Result<Vec<Reference>> {
    let name = name.ok_or_else(|| {
        Error::Unsupported(format!(
            "{} is a root-filesystem tar, which carries no name; give one with --name",
            path.display()
        ))
    })?;
    let mut file = File::open(path).context(|| format!("opening {}", path.display()))?;
    let mut head = [0u8; 4];
    let mut reader = super::PeekReader::new(&mut file, &mut head)?;
    let media_type = crate::store::layer_media_type(&head);
    let (blob, size, diff_id) = store.put_layer(
        &mut reader,
        None,
        None,
        &format!("archive {}", path.display()),
    )?;
    let config = serde_json::json!({
        "architecture": manifest::host_architecture(),
        "os": "linux",
        "config": {},
        "rootfs": { "type": "layers", "diff_ids": [diff_id] },
    });
    let config_bytes = serde_json::to_vec(&config).expect("config serializes");
    let config_digest = store.put_bytes(&config_bytes, None, "image config")?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(manifest::OCI_MANIFEST.to_owned()),
        config: Descriptor {
            media_type: manifest::OCI_CONFIG.to_owned(),
            digest: config_digest,
            size: config_bytes.len() as u64,
            platform: None,
            annotations: Default::default(),
        },
        layers: vec![Descriptor {
            media_type: media_type.to_owned(),
            digest: blob,
            size,
            platform: None,
            annotations: Default::default(),
        }],
    };
    let bytes = serde_json::to_vec(&manifest).expect("manifest serializes");
    let digest = store.put_bytes(&bytes, None, "manifest")?;
    store.set_name(name, &digest)?;
    Ok(vec![name.clone()])
}
