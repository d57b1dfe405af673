//! The registry seen as an OCI image layout, so the store imports from it as
//! from a directory: `index.json` names the pulled manifest, and
//! `blobs/sha256/HEX` is fetched on demand (manifests from /manifests/, the
//! rest streamed from /blobs/).

use super::registry::{Fetched, PullError, Registry};
use scpool_image::manifest::{self, Index};
use scpool_image::{Digest, Error, Source};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::{self, Cursor, Read};

pub struct RegistrySource<'a> {
    registry: &'a Registry,
    index: Vec<u8>,
    /// Manifests and indexes fetched so far, by digest.
    fetched: RefCell<HashMap<Digest, Vec<u8>>>,
    /// Digests that an index lists: manifests, fetched from /manifests/.
    manifests: RefCell<HashSet<Digest>>,
}

impl<'a> RegistrySource<'a> {
    pub fn new(registry: &'a Registry, top: Fetched, name: &str) -> Self {
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest::OCI_INDEX,
            "manifests": [{
                "mediaType": top.media_type,
                "digest": top.digest,
                "size": top.bytes.len(),
                "annotations": { manifest::CONTAINERD_NAME: name },
            }],
        });
        let source = Self {
            registry,
            index: serde_json::to_vec(&index).expect("index serializes"),
            fetched: RefCell::default(),
            manifests: RefCell::default(),
        };
        source.remember(top.digest, top.bytes);
        source
    }

    fn remember(&self, digest: Digest, bytes: Vec<u8>) {
        if let Ok(index) = serde_json::from_slice::<Index>(&bytes) {
            self.manifests
                .borrow_mut()
                .extend(index.manifests.into_iter().map(|d| d.digest));
        }
        self.fetched.borrow_mut().insert(digest, bytes);
    }
}

fn fetch_error(error: PullError) -> Error {
    match error {
        PullError::Store(e) => e,
        other => Error::Io {
            context: "pulling".into(),
            source: io::Error::other(other.to_string()),
        },
    }
}

impl Source for RegistrySource<'_> {
    fn has(&self, name: &str) -> bool {
        matches!(name, "index.json" | "oci-layout") || name.starts_with("blobs/sha256/")
    }

    fn open(&self, name: &str) -> scpool_image::Result<Box<dyn Read + '_>> {
        match name {
            "index.json" => return Ok(Box::new(Cursor::new(self.index.clone()))),
            "oci-layout" => {
                return Ok(Box::new(Cursor::new(
                    br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
                )))
            }
            _ => {}
        }
        let digest = name
            .strip_prefix("blobs/sha256/")
            .and_then(|hex| Digest::parse(&format!("sha256:{hex}")).ok())
            .ok_or_else(|| Error::Corrupt {
                what: "pull".into(),
                why: format!("no such member {name}"),
            })?;
        if let Some(bytes) = self.fetched.borrow().get(&digest) {
            return Ok(Box::new(Cursor::new(bytes.clone())));
        }
        if self.manifests.borrow().contains(&digest) {
            let fetched = self
                .registry
                .manifest_by_digest(&digest)
                .map_err(fetch_error)?;
            let bytes = fetched.bytes.clone();
            self.remember(fetched.digest, fetched.bytes);
            return Ok(Box::new(Cursor::new(bytes)));
        }
        Ok(Box::new(self.registry.blob(&digest).map_err(fetch_error)?))
    }

    fn describe(&self) -> String {
        "registry".into()
    }
}
