//! Test images written here, byte by byte: layers with any entry (hostile ones
//! too, which the tar crate's own builder would refuse to write), and archives in
//! each format the store imports. Nothing comes from the network.

#![allow(dead_code)]

use scpool_image::Digest;
use std::io::Write;
use std::path::Path;

/// A tar stream built entry by entry, names written verbatim.
pub struct Layer {
    tar: tar::Builder<Vec<u8>>,
}

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    pub fn new() -> Self {
        Self {
            tar: tar::Builder::new(Vec::new()),
        }
    }

    fn header(name: &str, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        assert!(bytes.len() < 100, "test names fit the old header");
        header.as_gnu_mut().unwrap().name[..bytes.len()].copy_from_slice(bytes);
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header
    }

    fn link(mut self, name: &str, kind: tar::EntryType, target: &str) -> Self {
        let mut header = Self::header(name, kind, 0o777, 0);
        let bytes = target.as_bytes();
        header.as_gnu_mut().unwrap().linkname[..bytes.len()].copy_from_slice(bytes);
        header.set_cksum();
        self.tar.append(&header, &[][..]).unwrap();
        self
    }

    pub fn file(mut self, name: &str, data: &[u8], mode: u32) -> Self {
        let mut header = Self::header(name, tar::EntryType::Regular, mode, data.len() as u64);
        header.set_cksum();
        self.tar.append(&header, data).unwrap();
        self
    }

    pub fn dir(mut self, name: &str, mode: u32) -> Self {
        let mut header = Self::header(name, tar::EntryType::Directory, mode, 0);
        header.set_cksum();
        self.tar.append(&header, &[][..]).unwrap();
        self
    }

    pub fn symlink(self, name: &str, target: &str) -> Self {
        self.link(name, tar::EntryType::Symlink, target)
    }

    pub fn hardlink(self, name: &str, target: &str) -> Self {
        self.link(name, tar::EntryType::Link, target)
    }

    pub fn char_device(mut self, name: &str, major: u32, minor: u32) -> Self {
        let mut header = Self::header(name, tar::EntryType::Char, 0o666, 0);
        header.set_device_major(major).unwrap();
        header.set_device_minor(minor).unwrap();
        header.set_cksum();
        self.tar.append(&header, &[][..]).unwrap();
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.tar.into_inner().unwrap()
    }
}

/// The host's static busybox as an image layer: /bin/busybox, /bin/sh and
/// /bin/echo linking to it, and an empty /tmp.
pub fn busybox_layer() -> Vec<u8> {
    let busybox = std::fs::read("/bin/busybox").expect("busybox-static installed (/bin/busybox)");
    Layer::new()
        .dir("bin/", 0o755)
        .file("bin/busybox", &busybox, 0o755)
        .symlink("bin/sh", "busybox")
        .symlink("bin/echo", "busybox")
        .dir("tmp/", 0o1777)
        .finish()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 1).unwrap()
}

/// An image config naming `layers` (uncompressed tars) by their diff ids.
pub fn config(layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

fn member(tar: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data).unwrap();
}

/// A `docker save` archive (legacy layout: ID/layer.tar, ID.json config).
pub fn docker_archive(tags: &[&str], layers: &[Vec<u8>]) -> Vec<u8> {
    let config = config(layers);
    let config_name = format!("{}.json", Digest::of(&config).hex());
    let mut tar = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let name = format!("{:064x}/layer.tar", i + 1);
        member(&mut tar, &name, layer);
        names.push(name);
    }
    member(&mut tar, &config_name, &config);
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": tags, "Layers": names}]);
    member(
        &mut tar,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    tar.into_inner().unwrap()
}

/// The files of an OCI image layout: (path, content). Layers are stored as
/// given in `blobs` (compressed or not); `diff` are their uncompressed tars.
pub fn oci_layout(
    ref_name: Option<&str>,
    diff: &[Vec<u8>],
    blobs: &[(Vec<u8>, &str)],
) -> Vec<(String, Vec<u8>)> {
    let config = config(diff);
    let mut files = Vec::new();
    let mut layer_descriptors = Vec::new();
    for (blob, media_type) in blobs {
        let digest = Digest::of(blob);
        layer_descriptors.push(
            serde_json::json!({"mediaType": media_type, "digest": digest, "size": blob.len()}),
        );
        files.push((format!("blobs/sha256/{}", digest.hex()), blob.clone()));
    }
    let config_digest = Digest::of(&config);
    files.push((
        format!("blobs/sha256/{}", config_digest.hex()),
        config.clone(),
    ));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descriptors,
    }))
    .unwrap();
    let manifest_digest = Digest::of(&manifest);
    files.push((
        format!("blobs/sha256/{}", manifest_digest.hex()),
        manifest.clone(),
    ));
    let mut descriptor = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest,
        "size": manifest.len(),
    });
    if let Some(name) = ref_name {
        descriptor["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": name});
    }
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [descriptor]});
    files.push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
    files.push((
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    files
}

pub fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, data) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
}

pub fn write_tar(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in files {
        member(&mut tar, name, data);
    }
    tar.into_inner().unwrap()
}

/// Every entry under `dir`, relative, sorted (to show nothing else appeared).
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
