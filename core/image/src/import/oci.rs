//! OCI image layouts: `oci-layout`, `index.json` naming manifests (or nested
//! indexes, resolved to this machine's platform), content under `blobs/sha256/`.

use super::source::Source;
use super::store_image;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{self, Descriptor, Index, Manifest, CONTAINERD_NAME, REF_NAME};
use crate::reference::Reference;
use crate::store::Store;

fn blob_name(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// Reads a small blob and checks its digest.
fn read_blob(source: &dyn Source, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let bytes = source.read_small(&blob_name(&descriptor.digest))?;
    descriptor.digest.verify(&Digest::of(&bytes), || {
        format!("{} {}", source.describe(), blob_name(&descriptor.digest))
    })?;
    Ok(bytes)
}

pub fn import(
    store: &Store,
    source: &dyn Source,
    name: Option<&Reference>,
) -> Result<Vec<Reference>> {
    let what = || format!("{} index.json", source.describe());
    let index: Index = serde_json::from_slice(&source.read_small("index.json")?)
        .map_err(|e| Error::corrupt(what(), e))?;
    // Each image of the layout: (its manifest's descriptor, the name it was given).
    let mut images = Vec::new();
    for top in &index.manifests {
        let label = top
            .annotations
            .get(CONTAINERD_NAME)
            .or_else(|| top.annotations.get(REF_NAME))
            .cloned();
        let chosen = if manifest::is_index(&top.media_type) {
            let nested: Index = serde_json::from_slice(&read_blob(source, top)?)
                .map_err(|e| Error::corrupt(what(), e))?;
            match manifest::pick_platform(&nested.manifests) {
                Some(d) => d.clone(),
                None => {
                    return Err(Error::Unsupported(format!(
                        "{}: no image for linux/{}",
                        source.describe(),
                        manifest::host_architecture()
                    )))
                }
            }
        } else {
            top.clone()
        };
        images.push((chosen, label));
    }
    if images.is_empty() {
        return Err(Error::corrupt(what(), "it lists no image"));
    }
    if name.is_some() && images.len() > 1 {
        return Err(Error::Unsupported(format!(
            "{} holds {} images; --name names only one",
            source.describe(),
            images.len()
        )));
    }
    let mut imported = Vec::new();
    for (descriptor, label) in images {
        let reference = match (name, label) {
            (Some(name), _) => name.clone(),
            // A bare tag ("1.0") is not a name.
            (None, Some(label)) if label.contains(':') || label.contains('/') => {
                Reference::parse(&label)?
            }
            _ => {
                return Err(Error::Unsupported(format!(
                    "{}: the image has no name; give one with --name",
                    source.describe()
                )))
            }
        };
        let manifest_bytes = read_blob(source, &descriptor)?;
        let image: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
            Error::corrupt(
                format!("{} manifest {}", source.describe(), descriptor.digest),
                e,
            )
        })?;
        for layer in &image.layers {
            if !manifest::is_layer(&layer.media_type) {
                return Err(Error::Unsupported(format!(
                    "layer media type {}",
                    layer.media_type
                )));
            }
        }
        let config = read_blob(source, &image.config)?;
        store_image(
            store,
            &config,
            Some(&image.config.digest),
            &mut |i| {
                let layer = image.layers.get(i).ok_or_else(|| {
                    Error::corrupt(what(), "the manifest lists fewer layers than its config")
                })?;
                let member = blob_name(&layer.digest);
                Ok((
                    source.open(&member)?,
                    Some(layer.digest.clone()),
                    format!("{} {member}", source.describe()),
                ))
            },
            std::slice::from_ref(&reference),
        )?;
        imported.push(reference);
    }
    Ok(imported)
}
