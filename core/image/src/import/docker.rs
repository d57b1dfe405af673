//! `docker save` archives: `manifest.json` lists each image's config, tags and
//! layer tars (legacy `ID/layer.tar` or, since Docker 25, `blobs/sha256/HEX`).

use super::source::Source;
use super::{digest_in_name, store_image};
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::Store;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub fn import(
    store: &Store,
    source: &dyn Source,
    name: Option<&Reference>,
) -> Result<Vec<Reference>> {
    let what = || format!("{} manifest.json", source.describe());
    let entries: Vec<Entry> = serde_json::from_slice(&source.read_small("manifest.json")?)
        .map_err(|e| Error::corrupt(what(), e))?;
    if entries.is_empty() {
        return Err(Error::corrupt(what(), "it lists no image"));
    }
    if name.is_some() && entries.len() > 1 {
        return Err(Error::Unsupported(format!(
            "{} holds {} images; --name names only one",
            source.describe(),
            entries.len()
        )));
    }
    let mut imported = Vec::new();
    for entry in &entries {
        let names = match name {
            Some(name) => vec![name.clone()],
            None => entry
                .repo_tags
                .iter()
                .flatten()
                .map(|t| Reference::parse(t))
                .collect::<Result<Vec<_>>>()?,
        };
        if names.is_empty() {
            return Err(Error::Unsupported(format!(
                "{}: an image has no name (RepoTags); give one with --name",
                source.describe()
            )));
        }
        let config = source.read_small(&entry.config)?;
        let layers = serde_json::from_slice::<crate::manifest::Config>(&config)
            .map_err(|e| Error::corrupt(format!("{} {}", source.describe(), entry.config), e))?
            .rootfs
            .diff_ids
            .len();
        if entry.layers.len() != layers {
            return Err(Error::corrupt(
                what(),
                "an image lists another number of layers than its config",
            ));
        }
        store_image(
            store,
            &config,
            digest_in_name(&entry.config).as_ref(),
            &mut |i| {
                let layer = entry.layers.get(i).ok_or_else(|| {
                    Error::corrupt(what(), "an image lists fewer layers than its config")
                })?;
                Ok((
                    source.open(layer)?,
                    digest_in_name(layer).filter(|_| layer.starts_with("blobs/")),
                    format!("{} {layer}", source.describe()),
                ))
            },
            &names,
        )?;
        imported.extend(names);
    }
    Ok(imported)
}
