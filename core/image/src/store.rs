//! The store on disk:
//!
//! ```text
//! ROOT/store.lock, names.lock   flock files (see lock.rs)
//! ROOT/names.json               NAME:TAG -> manifest digest, replaced by rename
//! ROOT/blobs/sha256/HEX         manifests, configs, layer tars, as they came
//! ROOT/layers/HEX               a layer unpacked, named by its diff id
//! ROOT/tmp/                     work in progress; renamed into place when whole
//! ```
//!
//! Everything is written under tmp/ and renamed into place, and a name is added
//! last: an interrupted import leaves only files that the next collection removes.

use crate::digest::{Digest, Hashing};
use crate::error::{Context, Error, Result};
use crate::lock::{self, Lock};
use crate::manifest::{self, Config, Manifest};
use crate::reference::Reference;
use crate::unpack;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that moves the default store.
pub const STORE_ENV: &str = "SCPOOL_STORE";

/// An image store at a directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// An image resolved to its unpacked layers: what a container is built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLayers {
    pub reference: Reference,
    pub manifest: Digest,
    /// The layers' directories, lowest first (as `ContainerConfig::image_layers`
    /// takes them).
    pub layers: Vec<PathBuf>,
}

/// One named image, as `list` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub name: String,
    pub manifest: Digest,
    pub layers: usize,
    /// Bytes of the layer blobs (compressed as they came).
    pub size: u64,
    /// When the name was given, seconds since the epoch.
    pub created: u64,
}

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub blobs: usize,
    pub layers: usize,
    /// Unused layers kept because a container still runs on them (the next
    /// collection after it ends removes them).
    pub layers_in_use: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Names {
    images: BTreeMap<String, NameEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NameEntry {
    manifest: Digest,
    created: u64,
}

/// Everything the store knows of one image: its manifest and config, parsed.
pub(crate) struct Image {
    pub manifest: Manifest,
    pub config_bytes: Vec<u8>,
    pub config: Config,
}

impl Store {
    /// Opens the store at `root`, creating its directories when missing.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let store = Self { root: root.into() };
        for dir in [
            store.root.clone(),
            store.root.join("blobs/sha256"),
            store.root.join("layers"),
            store.root.join("tmp"),
        ] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&dir)
                .context(|| format!("creating the image store directory {}", dir.display()))?;
        }
        Ok(store)
    }

    /// `$SCPOOL_STORE` when set; else /var/lib/scpool for root, and for anyone
    /// else `$XDG_DATA_HOME/scpool` or `~/.local/share/scpool`.
    pub fn default_path() -> PathBuf {
        if let Some(dir) = std::env::var_os(STORE_ENV).filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        if nix::unistd::geteuid().is_root() {
            return PathBuf::from("/var/lib/scpool");
        }
        if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            return Path::new(&data).join("scpool");
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
        Path::new(&home).join(".local/share/scpool")
    }

    /// Opens the store at `default_path()`.
    pub fn open_default() -> Result<Self> {
        Self::open(Self::default_path())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The unpacked layers of image `reference` (`NAME[:TAG]`), lowest first.
    pub fn resolve(&self, reference: &str) -> Result<ImageLayers> {
        let reference = Reference::parse(reference)?;
        let _lock = Lock::shared(&self.root.join("store.lock"))?;
        let names = self.read_names()?;
        let entry = names
            .images
            .get(&reference.to_string())
            .ok_or_else(|| Error::UnknownImage(reference.to_string()))?;
        let image = self.image(&entry.manifest)?;
        let mut layers = Vec::with_capacity(image.config.rootfs.diff_ids.len());
        for diff_id in &image.config.rootfs.diff_ids {
            let dir = self.layer_path(diff_id);
            if !dir.is_dir() {
                return Err(Error::corrupt(
                    format!("image {reference}"),
                    format!("layer {diff_id} is missing from the store; import the image again"),
                ));
            }
            layers.push(dir);
        }
        Ok(ImageLayers {
            reference,
            manifest: entry.manifest.clone(),
            layers,
        })
    }

    /// Resolves `reference` in the default store (`default_path()`): what the
    /// C, Go and Python bindings do with an image name.
    pub fn resolve_default(reference: &str) -> Result<ImageLayers> {
        Self::open_default()?.resolve(reference)
    }

    /// Every named image, by name.
    pub fn list(&self) -> Result<Vec<ImageInfo>> {
        let _lock = Lock::shared(&self.root.join("store.lock"))?;
        let names = self.read_names()?;
        let mut out = Vec::new();
        for (name, entry) in names.images {
            let image = self.image(&entry.manifest)?;
            out.push(ImageInfo {
                name,
                manifest: entry.manifest,
                layers: image.manifest.layers.len(),
                size: image.manifest.layers.iter().map(|l| l.size).sum(),
                created: entry.created,
            });
        }
        Ok(out)
    }

    /// Removes the name `reference`, then every blob and layer no name uses.
    pub fn remove(&self, reference: &str) -> Result<Collected> {
        let reference = Reference::parse(reference)?;
        {
            let _names = Lock::exclusive(&self.root.join("names.lock"))?;
            let mut names = self.read_names()?;
            if names.images.remove(&reference.to_string()).is_none() {
                return Err(Error::UnknownImage(reference.to_string()));
            }
            self.write_names(&names)?;
        }
        self.collect()
    }

    /// Removes the blobs and layers no named image uses, and whatever interrupted
    /// imports left in tmp/. Waits for imports in progress to finish.
    pub fn collect(&self) -> Result<Collected> {
        let _lock = Lock::exclusive(&self.root.join("store.lock"))?;
        let names = self.read_names()?;
        let mut blobs = BTreeSet::new();
        let mut layers = BTreeSet::new();
        for entry in names.images.values() {
            let image = self.image(&entry.manifest)?;
            blobs.insert(entry.manifest.hex().to_owned());
            blobs.insert(image.manifest.config.digest.hex().to_owned());
            blobs.extend(
                image
                    .manifest
                    .layers
                    .iter()
                    .map(|l| l.digest.hex().to_owned()),
            );
            layers.extend(
                image
                    .config
                    .rootfs
                    .diff_ids
                    .iter()
                    .map(|d| d.hex().to_owned()),
            );
        }
        let (layers, layers_in_use) = self.sweep(&self.root.join("layers"), &layers, true)?;
        let collected = Collected {
            blobs: self
                .sweep(&self.root.join("blobs/sha256"), &blobs, false)?
                .0,
            layers,
            layers_in_use,
        };
        self.sweep(&self.root.join("tmp"), &BTreeSet::new(), false)?;
        Ok(collected)
    }

    /// Removes every entry of `dir` not in `keep`, except (with `leased`) layer
    /// directories a container runs on; returns how many went and how many stayed
    /// for that reason.
    fn sweep(&self, dir: &Path, keep: &BTreeSet<String>, leased: bool) -> Result<(usize, usize)> {
        let (mut removed, mut in_use) = (0, 0);
        let listing = fs::read_dir(dir).context(|| format!("listing {}", dir.display()))?;
        for entry in listing {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| keep.contains(n)) {
                continue;
            }
            let _unused = match leased && entry.path().is_dir() {
                true => match lock::layer_unused(&entry.path())? {
                    Some(lock) => Some(lock),
                    None => {
                        in_use += 1;
                        continue;
                    }
                },
                false => None,
            };
            let parent = fs::File::open(dir).context(|| format!("opening {}", dir.display()))?;
            unpack::remove_all(&parent, &name)
                .context(|| format!("removing {}", entry.path().display()))?;
            removed += 1;
        }
        Ok((removed, in_use))
    }

    // ---- the pieces imports build with

    pub(crate) fn import_lock(&self) -> Result<Lock> {
        Lock::shared(&self.root.join("store.lock"))
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    pub(crate) fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("layers").join(diff_id.hex())
    }

    /// A fresh path under tmp/ (unique among processes and threads).
    pub(crate) fn temp_path(&self, what: &str) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{what}-{}-{n}-{nanos}", std::process::id()))
    }

    /// Stores `bytes` as a blob; `expected` (when given) must be its digest.
    pub(crate) fn put_bytes(
        &self,
        bytes: &[u8],
        expected: Option<&Digest>,
        what: &str,
    ) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if let Some(expected) = expected {
            expected.verify(&digest, || what.to_owned())?;
        }
        let path = self.blob_path(&digest);
        if !path.exists() {
            let temp = self.temp_path("blob");
            fs::write(&temp, bytes).context(|| format!("writing {}", temp.display()))?;
            fs::rename(&temp, &path).context(|| format!("storing {}", path.display()))?;
        }
        Ok(digest)
    }

    /// Stores a layer read from `input` as a blob and unpacks it (once: a layer
    /// already present is not unpacked again). Returns the blob's digest, size and
    /// the layer's diff id, each checked against what is expected of it.
    pub(crate) fn put_layer(
        &self,
        input: &mut dyn Read,
        expected_blob: Option<&Digest>,
        expected_diff: Option<&Digest>,
        what: &str,
    ) -> Result<(Digest, u64, Digest)> {
        let temp_blob = self.temp_path("blob");
        let mut leftovers = Leftovers(vec![temp_blob.clone()]);
        let file =
            File::create(&temp_blob).context(|| format!("creating {}", temp_blob.display()))?;
        let mut tee = Tee {
            input,
            copy: Hashing::new(io::BufWriter::with_capacity(1 << 20, file)),
        };
        let have_layer = expected_diff.is_some_and(|d| self.layer_path(d).is_dir());
        let mut unpacked_into = None;
        let diff_id = if have_layer {
            io::copy(&mut tee, &mut io::sink()).map_err(|e| read_error(what, e))?;
            expected_diff.cloned()
        } else {
            let dir = self.temp_path("layer");
            fs::DirBuilder::new()
                .mode(0o755)
                .create(&dir)
                .context(|| format!("creating {}", dir.display()))?;
            unpacked_into = Some(dir.clone());
            leftovers.0.push(dir.clone());
            let unpacked = unpack::unpack(&mut tee, &dir, what)?;
            // Compressed streams may carry bytes after their end: the blob is all of it.
            io::copy(&mut tee, &mut io::sink()).map_err(|e| read_error(what, e))?;
            Some(unpacked.diff_id)
        };
        let (blob, size, writer) = tee.copy.finish();
        writer
            .into_inner()
            .map_err(|e| e.into_error())
            .context(|| format!("writing {}", temp_blob.display()))?;
        if let Some(expected) = expected_blob {
            expected.verify(&blob, || what.to_owned())?;
        }
        let diff_id = diff_id.expect("known or unpacked");
        if let Some(expected) = expected_diff {
            expected.verify(&diff_id, || format!("{what} (uncompressed)"))?;
        }
        fs::rename(&temp_blob, self.blob_path(&blob)).context(|| format!("storing blob {blob}"))?;
        if let Some(dir) = unpacked_into {
            let target = self.layer_path(&diff_id);
            match fs::rename(&dir, &target) {
                Ok(()) => {}
                // Another process unpacked the same layer meanwhile: keep theirs.
                Err(e) if target.is_dir() => {
                    let _ = e;
                    let tmp =
                        fs::File::open(self.root.join("tmp")).context(|| "opening tmp".into())?;
                    unpack::remove_all(&tmp, dir.file_name().expect("named"))
                        .context(|| format!("removing {}", dir.display()))?;
                }
                Err(e) => return Err(Error::io(format!("storing layer {diff_id}"), e)),
            }
        }
        leftovers.0.clear();
        Ok((blob, size, diff_id))
    }

    /// Gives `reference` to the manifest `digest` (replacing what it named).
    pub(crate) fn set_name(&self, reference: &Reference, digest: &Digest) -> Result<()> {
        let _names = Lock::exclusive(&self.root.join("names.lock"))?;
        let mut names = self.read_names()?;
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        names.images.insert(
            reference.to_string(),
            NameEntry {
                manifest: digest.clone(),
                created,
            },
        );
        self.write_names(&names)
    }

    /// Reads blob `digest`, checking that it hashes to its name.
    pub(crate) fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let bytes = fs::read(&path).context(|| format!("reading blob {digest}"))?;
        digest.verify(&Digest::of(&bytes), || format!("blob {}", path.display()))?;
        Ok(bytes)
    }

    /// The image with manifest `digest`.
    pub(crate) fn image(&self, digest: &Digest) -> Result<Image> {
        let what = || format!("manifest {digest}");
        let manifest: Manifest = serde_json::from_slice(&self.read_blob(digest)?)
            .map_err(|e| Error::corrupt(what(), e))?;
        let config_bytes = self.read_blob(&manifest.config.digest)?;
        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::corrupt(format!("config {}", manifest.config.digest), e))?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::corrupt(
                what(),
                "its config lists a different number of layers",
            ));
        }
        Ok(Image {
            manifest,
            config_bytes,
            config,
        })
    }

    /// The manifest of image `reference`.
    pub(crate) fn named(&self, reference: &Reference) -> Result<Image> {
        let names = self.read_names()?;
        let entry = names
            .images
            .get(&reference.to_string())
            .ok_or_else(|| Error::UnknownImage(reference.to_string()))?;
        self.image(&entry.manifest)
    }

    fn read_names(&self) -> Result<Names> {
        let path = self.root.join("names.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::corrupt(path.display().to_string(), e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Names::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    fn write_names(&self, names: &Names) -> Result<()> {
        let path = self.root.join("names.json");
        let temp = self.temp_path("names");
        let bytes = serde_json::to_vec_pretty(names).expect("names serialize");
        let mut file = File::create(&temp).context(|| format!("creating {}", temp.display()))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .context(|| format!("writing {}", temp.display()))?;
        fs::rename(&temp, &path).context(|| format!("replacing {}", path.display()))
    }
}

/// Reading the input failed: a short or unreadable archive.
fn read_error(what: &str, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::InvalidData {
        Error::corrupt(what.to_owned(), e)
    } else {
        Error::io(format!("reading {what}"), e)
    }
}

/// Files and directories under tmp/ removed when a step fails half way (a
/// killed process leaves them to the next collection instead).
struct Leftovers(Vec<PathBuf>);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for path in &self.0 {
            if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
                if let Ok(dir) = File::open(parent) {
                    let _ = unpack::remove_all(&dir, name);
                }
            }
        }
    }
}

/// Copies what is read from `input` into `copy`.
struct Tee<'a, W: Write> {
    input: &'a mut dyn Read,
    copy: Hashing<W>,
}

impl<W: Write> Read for Tee<'_, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// The layer media type that matches the first bytes of a blob.
pub(crate) fn layer_media_type(head: &[u8]) -> &'static str {
    if head.starts_with(&[0x1f, 0x8b]) {
        manifest::OCI_LAYER_GZIP
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        manifest::OCI_LAYER_ZSTD
    } else {
        manifest::OCI_LAYER
    }
}
