//! `save`: one image as an archive `docker load` reads. It is laid out as Docker
//! (25 and later) writes one: an OCI image layout (`oci-layout`, `index.json`,
//! `blobs/sha256/`) that also carries `manifest.json` and `repositories`, the
//! files of the older `docker save` format. Layers go in uncompressed, named by
//! their diff ids, so both views describe the same blobs.

use crate::digest::Hashing;
use crate::error::{Context, Error, Result};
use crate::manifest::{self, Descriptor, Index, Manifest};
use crate::reference::Reference;
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

impl Store {
    /// Writes image `reference` to `output` (replaced only once it is whole).
    pub fn save(&self, reference: &str, output: &Path) -> Result<()> {
        let reference = Reference::parse(reference)?;
        let _lock = self.import_lock()?;
        let image = self.named(&reference)?;
        let dir = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = output.file_name().ok_or_else(|| Error::Invalid {
            what: "output file",
            text: output.display().to_string(),
            why: "it names no file".into(),
        })?;
        let temp = dir.join(format!(
            ".{}.{}.partial",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let result = self.write_archive(&image, &reference, &temp);
        match result {
            Ok(()) => fs::rename(&temp, output).context(|| format!("writing {}", output.display())),
            Err(e) => {
                let _ = fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    fn write_archive(
        &self,
        image: &crate::store::Image,
        reference: &Reference,
        path: &Path,
    ) -> Result<()> {
        let file = File::create(path).context(|| format!("creating {}", path.display()))?;
        let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, file));
        let io_err = |e: io::Error| Error::io(format!("writing {}", path.display()), e);
        let config = &image.manifest.config;
        append_bytes(
            &mut tar,
            &format!("blobs/sha256/{}", config.digest.hex()),
            &image.config_bytes,
        )
        .map_err(io_err)?;
        let mut layers = Vec::new();
        let mut written = BTreeSet::new();
        for (blob, diff_id) in image
            .manifest
            .layers
            .iter()
            .zip(&image.config.rootfs.diff_ids)
        {
            let name = format!("blobs/sha256/{}", diff_id.hex());
            let size = if blob.media_type == manifest::OCI_LAYER
                || blob.media_type == manifest::DOCKER_LAYER
            {
                let source = self.blob_path(&blob.digest);
                if written.insert(name.clone()) {
                    let mut file =
                        File::open(&source).context(|| format!("opening {}", source.display()))?;
                    tar.append_file(&name, &mut file).map_err(io_err)?;
                }
                blob.size
            } else {
                // The uncompressed tar is needed whole for its size in the header.
                let temp = self.temp_path("save");
                let result = self
                    .decompress_layer(blob, &temp)
                    .and_then(|(digest, size)| {
                        diff_id.verify(&digest, || format!("layer {}", blob.digest))?;
                        if written.insert(name.clone()) {
                            let mut file = File::open(&temp)
                                .context(|| format!("opening {}", temp.display()))?;
                            tar.append_file(&name, &mut file).map_err(io_err)?;
                        }
                        Ok(size)
                    });
                let _ = fs::remove_file(&temp);
                result?
            };
            layers.push(Descriptor {
                media_type: manifest::OCI_LAYER.to_owned(),
                digest: diff_id.clone(),
                size,
                platform: None,
                annotations: BTreeMap::new(),
            });
        }
        let layer_names: Vec<String> = layers
            .iter()
            .map(|l| format!("blobs/sha256/{}", l.digest.hex()))
            .collect();
        let oci_manifest = Manifest {
            schema_version: 2,
            media_type: Some(manifest::OCI_MANIFEST.to_owned()),
            config: Descriptor {
                media_type: manifest::OCI_CONFIG.to_owned(),
                digest: config.digest.clone(),
                size: image.config_bytes.len() as u64,
                platform: None,
                annotations: BTreeMap::new(),
            },
            layers,
        };
        let manifest_bytes = serde_json::to_vec(&oci_manifest).expect("manifest serializes");
        let manifest_digest = crate::digest::Digest::of(&manifest_bytes);
        append_bytes(
            &mut tar,
            &format!("blobs/sha256/{}", manifest_digest.hex()),
            &manifest_bytes,
        )
        .map_err(io_err)?;
        let tag = reference.to_string();
        let index = Index {
            schema_version: 2,
            media_type: Some(manifest::OCI_INDEX.to_owned()),
            manifests: vec![Descriptor {
                media_type: manifest::OCI_MANIFEST.to_owned(),
                digest: manifest_digest,
                size: manifest_bytes.len() as u64,
                platform: None,
                annotations: BTreeMap::from([
                    (manifest::CONTAINERD_NAME.to_owned(), tag.clone()),
                    (manifest::REF_NAME.to_owned(), reference.tag().to_owned()),
                ]),
            }],
        };
        let docker_manifest = serde_json::json!([{
            "Config": format!("blobs/sha256/{}", config.digest.hex()),
            "RepoTags": [tag],
            "Layers": layer_names,
        }]);
        let top_layer = image
            .config
            .rootfs
            .diff_ids
            .last()
            .map_or(String::new(), |d| d.hex().to_owned());
        let repositories = serde_json::json!({ reference.name(): { reference.tag(): top_layer } });
        append_bytes(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(io_err)?;
        append_bytes(
            &mut tar,
            "index.json",
            &serde_json::to_vec(&index).expect("index serializes"),
        )
        .map_err(io_err)?;
        append_bytes(
            &mut tar,
            "manifest.json",
            &serde_json::to_vec(&docker_manifest).expect("json"),
        )
        .map_err(io_err)?;
        append_bytes(
            &mut tar,
            "repositories",
            &serde_json::to_vec(&repositories).expect("json"),
        )
        .map_err(io_err)?;
        let mut writer = tar.into_inner().map_err(io_err)?;
        writer.flush().map_err(io_err)?;
        writer.get_ref().sync_all().map_err(io_err)
    }

    /// Decompresses layer blob `blob` into `temp`; returns its digest and size.
    fn decompress_layer(
        &self,
        blob: &Descriptor,
        temp: &Path,
    ) -> Result<(crate::digest::Digest, u64)> {
        let source = self.blob_path(&blob.digest);
        let file = File::open(&source).context(|| format!("opening {}", source.display()))?;
        let mut input = crate::unpack::decompressed(file)?;
        let out = File::create(temp).context(|| format!("creating {}", temp.display()))?;
        let mut hashing = Hashing::new(BufWriter::with_capacity(1 << 20, out));
        io::copy(&mut input, &mut hashing)
            .map_err(|e| Error::corrupt(format!("layer {}", blob.digest), e))?;
        let (digest, size, writer) = hashing.finish();
        writer
            .into_inner()
            .map_err(|e| e.into_error())
            .context(|| format!("writing {}", temp.display()))?;
        Ok((digest, size))
    }
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(0);
    tar.append_data(&mut header, name, bytes)
}
