//! `import`: a `docker save` archive, an OCI image layout (a directory or a tar
//! of one), or a plain root-filesystem tar (`docker export`), each optionally
//! compressed as a whole (gzip or zstd).

mod docker;
mod oci;
mod rootfs;
pub mod source;

use crate::digest::Digest;
use crate::error::{Context, Error, Result};
use crate::manifest::{self, Config, Descriptor, Manifest};
use crate::reference::Reference;
use crate::store::Store;
use source::{DirSource, Source, TarSource};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The kinds of input `import` recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DockerArchive,
    OciLayout,
    RootFs,
}

impl Store {
    /// Imports the images in `path`. `name` names the image (required for a
    /// root-filesystem tar or a layout whose image has no name; a layout with
    /// several images cannot take one). Returns the names given.
    pub fn import(&self, path: &Path, name: Option<&str>) -> Result<Vec<Reference>> {
        let name = name.map(Reference::parse).transpose()?;
        let _lock = self.import_lock()?;
        let metadata = std::fs::metadata(path).context(|| format!("reading {}", path.display()))?;
        if metadata.is_dir() {
            let source = DirSource::new(path);
            return match detect(&source) {
                Some(Format::DockerArchive) => docker::import(self, &source, name.as_ref()),
                Some(Format::OciLayout) => oci::import(self, &source, name.as_ref()),
                _ => Err(Error::Unsupported(format!(
                    "{} is neither an OCI image layout nor an unpacked docker save archive",
                    path.display()
                ))),
            };
        }
        // A compressed archive is decompressed once into the store's tmp/ so its
        // members can be found by offset.
        let mut decompressed = None;
        let tar_path = if is_compressed(path)? {
            let temp = self.temp_path("archive");
            let result = decompress_to(path, &temp);
            decompressed = Some(TempFile(temp.clone()));
            result?;
            temp
        } else {
            path.to_owned()
        };
        let source = TarSource::open(&tar_path)?;
        let result = match detect(&source) {
            Some(Format::DockerArchive) => docker::import(self, &source, name.as_ref()),
            Some(Format::OciLayout) => oci::import(self, &source, name.as_ref()),
            _ => rootfs::import(self, path, name.as_ref()),
        };
        drop(decompressed);
        result
    }
}

impl Store {
    /// Imports the OCI layout that `source` serves (its `index.json` and
    /// `blobs/sha256/HEX`), checking every digest: how a caller that fetches
    /// content itself (a registry client) streams it into the store.
    pub fn import_layout(&self, source: &dyn Source, name: Option<&str>) -> Result<Vec<Reference>> {
        let name = name.map(Reference::parse).transpose()?;
        let _lock = self.import_lock()?;
        oci::import(self, source, name.as_ref())
    }
}

/// Removes a temporary file when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn detect(source: &dyn Source) -> Option<Format> {
    if source.has("manifest.json") {
        Some(Format::DockerArchive)
    } else if source.has("oci-layout") && source.has("index.json") {
        Some(Format::OciLayout)
    } else {
        None
    }
}

fn is_compressed(path: &Path) -> Result<bool> {
    let mut head = [0u8; 4];
    let mut file = File::open(path).context(|| format!("opening {}", path.display()))?;
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }
    if got == 0 {
        return Err(Error::corrupt(
            format!("archive {}", path.display()),
            "it is empty",
        ));
    }
    Ok(head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]))
}

fn decompress_to(path: &Path, temp: &Path) -> Result<()> {
    let file = File::open(path).context(|| format!("opening {}", path.display()))?;
    let mut input = crate::unpack::decompressed(file)?;
    let mut out = File::create(temp).context(|| format!("creating {}", temp.display()))?;
    io::copy(&mut input, &mut out)
        .map_err(|e| Error::corrupt(format!("archive {}", path.display()), e))?;
    Ok(())
}

/// A layer to store: its stream, the blob digest it must have (when known), and
/// what to call it in messages.
pub(crate) type LayerInput<'s> = (Box<dyn Read + 's>, Option<Digest>, String);

/// Stores one image whose config is `config_bytes` and whose layers `layers`
/// yields in order (lowest first), then names it. Each layer's blob digest is
/// checked when `blob_digests` gives it, and its diff id always.
pub(crate) fn store_image<'s>(
    store: &Store,
    config_bytes: &[u8],
    expected_config: Option<&Digest>,
    layers: &mut dyn FnMut(usize) -> Result<LayerInput<'s>>,
    names: &[Reference],
) -> Result<Digest> {
    let config: Config =
        serde_json::from_slice(config_bytes).map_err(|e| Error::corrupt("image config", e))?;
    let config_digest = store.put_bytes(config_bytes, expected_config, "image config")?;
    let mut descriptors = Vec::new();
    for (i, diff_id) in config.rootfs.diff_ids.iter().enumerate() {
        let (mut input, expected_blob, what) = layers(i)?;
        let mut head = [0u8; 4];
        let mut reader = PeekReader::new(&mut input, &mut head)?;
        let media_type = crate::store::layer_media_type(&head);
        let (digest, size, _) =
            store.put_layer(&mut reader, expected_blob.as_ref(), Some(diff_id), &what)?;
        descriptors.push(Descriptor {
            media_type: media_type.to_owned(),
            digest,
            size,
            platform: None,
            annotations: Default::default(),
        });
    }
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
        layers: descriptors,
    };
    let bytes = serde_json::to_vec(&manifest).expect("manifest serializes");
    let digest = store.put_bytes(&bytes, None, "manifest")?;
    for name in names {
        store.set_name(name, &digest)?;
    }
    Ok(digest)
}

/// Reads the first bytes of a stream (to tell its compression), then gives them
/// back ahead of the rest.
struct PeekReader<'a> {
    head: Vec<u8>,
    offset: usize,
    rest: &'a mut dyn Read,
}

impl<'a> PeekReader<'a> {
    fn new(rest: &'a mut dyn Read, head: &mut [u8; 4]) -> Result<Self> {
        let mut got = 0;
        while got < head.len() {
            match rest.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::corrupt("layer", e)),
            }
        }
        Ok(Self {
            head: head[..got].to_vec(),
            offset: 0,
            rest,
        })
    }
}

impl Read for PeekReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset < self.head.len() {
            let n = buf.len().min(self.head.len() - self.offset);
            buf[..n].copy_from_slice(&self.head[self.offset..self.offset + n]);
            self.offset += n;
            return Ok(n);
        }
        self.rest.read(buf)
    }
}

/// The digest a member path names (`blobs/sha256/HEX`, `HEX.json`), if any.
pub(crate) fn digest_in_name(name: &str) -> Option<Digest> {
    let base = name.rsplit('/').next()?;
    let hex = base.strip_suffix(".json").unwrap_or(base);
    Digest::parse(&format!("sha256:{hex}")).ok()
}
