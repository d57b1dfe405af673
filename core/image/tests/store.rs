//! The store: importing each format, names, sharing of layers, removal and
//! collection, save, and bad input that must leave no image listed.

mod common;

use common::{
    busybox_layer, docker_archive, gzip, oci_layout, tree, write_dir, write_tar, zstd, Layer,
};
use scpool_image::{Digest, Error, Store};
use std::path::Path;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn names(store: &Store) -> Vec<String> {
    store.list().unwrap().into_iter().map(|i| i.name).collect()
}

/// After a failed import: no name, and a collection leaves nothing behind.
fn assert_nothing_kept(store: &Store) {
    assert!(names(store).is_empty());
    store.collect().unwrap();
    for dir in ["blobs/sha256", "layers", "tmp"] {
        assert!(tree(&store.root().join(dir)).is_empty(), "{dir} not empty");
    }
}

fn app_layer() -> Vec<u8> {
    Layer::new()
        .dir("app/", 0o755)
        .file("app/hello.txt", b"hello\n", 0o644)
        .file("bin/.wh.echo", b"", 0o644)
        .finish()
}

#[test]
fn a_docker_save_archive_imports_under_its_tags_with_its_layers_lowest_first() {
    let (dir, store) = store();
    let layers = [busybox_layer(), app_layer()];
    let archive = write(
        dir.path(),
        "image.tar",
        &docker_archive(&["busybox:1", "bb:latest"], &layers),
    );
    let names_given = store.import(&archive, None).unwrap();
    assert_eq!(
        names_given
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        ["busybox:1", "bb:latest"]
    );
    assert_eq!(names(&store), ["bb:latest", "busybox:1"]);
    let image = store.resolve("busybox:1").unwrap();
    assert_eq!(image.layers.len(), 2);
    assert_eq!(
        image.layers[0],
        store
            .root()
            .join("layers")
            .join(Digest::of(&layers[0]).hex())
    );
    assert_eq!(
        std::fs::read(image.layers[0].join("bin/busybox")).unwrap(),
        std::fs::read("/bin/busybox").unwrap()
    );
    assert_eq!(
        std::fs::read(image.layers[1].join("app/hello.txt")).unwrap(),
        b"hello\n"
    );
    assert_eq!(store.resolve("bb").unwrap().manifest, image.manifest);
}

#[test]
fn an_oci_layout_imports_from_a_directory_and_from_a_tar_with_gzip_and_zstd_layers() {
    let (dir, store) = store();
    let diff = [busybox_layer(), app_layer()];
    let files = oci_layout(
        Some("oci/busybox:2"),
        &diff,
        &[
            (
                gzip(&diff[0]),
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            (
                zstd(&diff[1]),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
        ],
    );
    let layout = dir.path().join("layout");
    write_dir(&layout, &files);
    store.import(&layout, None).unwrap();
    let from_dir = store.resolve("oci/busybox:2").unwrap();
    let archive = write(dir.path(), "layout.tar", &write_tar(&files));
    store.import(&archive, Some("again:1")).unwrap();
    let from_tar = store.resolve("again:1").unwrap();
    assert_eq!(
        from_dir.layers, from_tar.layers,
        "the layers are shared, unpacked once"
    );
    assert_eq!(
        tree(&store.root().join("layers"))
            .iter()
            .filter(|p| !p.contains('/'))
            .count(),
        2
    );
    assert_eq!(
        std::fs::read(from_tar.layers[1].join("app/hello.txt")).unwrap(),
        b"hello\n"
    );
}

#[test]
fn a_layout_whose_image_has_only_a_tag_needs_a_name() {
    let (dir, store) = store();
    let diff = [app_layer()];
    let layout = dir.path().join("layout");
    write_dir(
        &layout,
        &oci_layout(
            Some("1.0"),
            &diff,
            &[(diff[0].clone(), "application/vnd.oci.image.layer.v1.tar")],
        ),
    );
    assert!(
        matches!(store.import(&layout, None), Err(Error::Unsupported(m)) if m.contains("--name"))
    );
    store.import(&layout, Some("app:1.0")).unwrap();
    assert_eq!(names(&store), ["app:1.0"]);
}

#[test]
fn a_root_filesystem_tar_imports_as_one_layer_compressed_or_not() {
    let (dir, store) = store();
    let rootfs = busybox_layer();
    let plain = write(dir.path(), "rootfs.tar", &rootfs);
    assert!(
        matches!(store.import(&plain, None), Err(Error::Unsupported(m)) if m.contains("--name"))
    );
    store.import(&plain, Some("rootfs:plain")).unwrap();
    let packed = write(dir.path(), "rootfs.tar.gz", &gzip(&rootfs));
    store.import(&packed, Some("rootfs:gz")).unwrap();
    let a = store.resolve("rootfs:plain").unwrap();
    let b = store.resolve("rootfs:gz").unwrap();
    assert_eq!(a.layers, b.layers);
    assert_eq!(
        a.layers[0],
        store.root().join("layers").join(Digest::of(&rootfs).hex())
    );
    assert!(a.layers[0].join("bin/busybox").is_file());
}

#[test]
fn removing_an_image_collects_only_what_no_other_name_uses() {
    let (dir, store) = store();
    let base = busybox_layer();
    store
        .import(
            &write(
                dir.path(),
                "a.tar",
                &docker_archive(&["a:1"], std::slice::from_ref(&base)),
            ),
            None,
        )
        .unwrap();
    store
        .import(
            &write(
                dir.path(),
                "b.tar",
                &docker_archive(&["b:1"], &[base.clone(), app_layer()]),
            ),
            None,
        )
        .unwrap();
    let shared = store.resolve("a:1").unwrap().layers[0].clone();
    let collected = store.remove("b:1").unwrap();
    assert_eq!(
        (collected.layers, collected.blobs),
        (1, 3),
        "b's own layer, its blob, config and manifest"
    );
    assert!(shared.join("bin/busybox").is_file());
    assert!(matches!(store.remove("b:1"), Err(Error::UnknownImage(n)) if n == "b:1"));
    store.remove("a:1").unwrap();
    assert_nothing_kept(&store);
}

#[test]
fn an_unknown_image_is_named_in_the_error() {
    let (_dir, store) = store();
    let error = store.resolve("gcc:13").unwrap_err();
    assert!(matches!(&error, Error::UnknownImage(n) if n == "gcc:13"));
    assert_eq!(error.to_string(), "no image named gcc:13 in the store");
    assert!(matches!(
        store.resolve("Not A Name"),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn a_truncated_archive_is_corrupt_and_leaves_no_image() {
    let (dir, store) = store();
    let archive = docker_archive(&["cut:1"], &[busybox_layer()]);
    // Cut inside the layer, and cut after the layer but before manifest.json.
    for cut in [archive.len() / 2, archive.len() - 2048] {
        let path = write(dir.path(), "cut.tar", &archive[..cut]);
        let error = store.import(&path, None).unwrap_err();
        assert!(
            matches!(error, Error::Corrupt { .. }),
            "cut at {cut}: {error:?}"
        );
        assert!(names(&store).is_empty());
    }
    let compressed = gzip(&archive);
    let path = write(
        dir.path(),
        "cut.tar.gz",
        &compressed[..compressed.len() / 2],
    );
    assert!(matches!(
        store.import(&path, None),
        Err(Error::Corrupt { .. })
    ));
    assert_nothing_kept(&store);
}

#[test]
fn a_layer_that_does_not_match_its_digest_is_refused_and_leaves_no_image() {
    let (dir, store) = store();
    let diff = [busybox_layer()];
    let mut files = oci_layout(
        Some("x/y:1"),
        &diff,
        &[(diff[0].clone(), "application/vnd.oci.image.layer.v1.tar")],
    );
    // Swap one byte of the layer's content (its name, the digest, stays).
    let layer = files
        .iter_mut()
        .find(|(n, d)| n.starts_with("blobs/") && d.len() > 100_000)
        .unwrap();
    let last = layer.1.len() - 5000;
    layer.1[last] ^= 1;
    let layout = dir.path().join("layout");
    write_dir(&layout, &files);
    let error = store.import(&layout, None).unwrap_err();
    assert!(matches!(error, Error::DigestMismatch { .. }), "{error:?}");
    assert_nothing_kept(&store);
}

#[test]
fn a_config_that_does_not_match_its_diff_ids_is_refused() {
    let (dir, store) = store();
    // The config names the busybox layer, the archive carries another one.
    let mut archive_layers = vec![busybox_layer()];
    let config_for = common::config(&archive_layers);
    archive_layers[0] = app_layer();
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, name, data).unwrap();
    };
    add("l/layer.tar", &archive_layers[0]);
    add("c.json", &config_for);
    add(
        "manifest.json",
        br#"[{"Config":"c.json","RepoTags":["bad:1"],"Layers":["l/layer.tar"]}]"#,
    );
    let path = write(dir.path(), "bad.tar", &tar.into_inner().unwrap());
    assert!(matches!(
        store.import(&path, None),
        Err(Error::DigestMismatch { .. })
    ));
    assert_nothing_kept(&store);
}

#[test]
fn a_tar_slip_layer_is_refused_and_leaves_no_image_nor_file_outside() {
    let (dir, store) = store();
    let evil = Layer::new()
        .file("ok", b"1", 0o644)
        .file("../../../escaped", b"pwned", 0o644)
        .finish();
    let path = write(
        dir.path(),
        "evil.tar",
        &docker_archive(&["evil:1"], &[evil]),
    );
    assert!(matches!(
        store.import(&path, None),
        Err(Error::UnsafeEntry { .. })
    ));
    assert!(!dir.path().join("escaped").exists() && !store.root().join("escaped").exists());
    assert_nothing_kept(&store);
}

#[test]
fn a_member_name_that_climbs_out_of_the_archive_is_refused() {
    let (dir, store) = store();
    let layout = dir.path().join("d");
    write_dir(
        &layout,
        &[(
            "manifest.json".into(),
            br#"[{"Config":"../../etc/passwd","RepoTags":["x:1"],"Layers":[]}]"#.to_vec(),
        )],
    );
    assert!(matches!(
        store.import(&layout, None),
        Err(Error::Corrupt { .. })
    ));
    assert!(names(&store).is_empty());
}

#[test]
fn garbage_is_neither_an_image_nor_a_root_filesystem() {
    let (dir, store) = store();
    let path = write(dir.path(), "junk", &[0x55u8; 3000]);
    let error = store.import(&path, Some("junk:1")).unwrap_err();
    assert!(matches!(error, Error::Corrupt { .. }), "{error:?}");
    assert!(matches!(
        store.import(&write(dir.path(), "empty", b""), Some("e:1")),
        Err(Error::Corrupt { .. })
    ));
    assert_nothing_kept(&store);
}

#[test]
fn a_saved_image_imports_back_to_the_same_layers() {
    let (dir, store) = store();
    let diff = [busybox_layer(), app_layer()];
    let layout = dir.path().join("layout");
    write_dir(
        &layout,
        &oci_layout(
            Some("src/img:1"),
            &diff,
            &[
                (
                    gzip(&diff[0]),
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                ),
                (diff[1].clone(), "application/vnd.oci.image.layer.v1.tar"),
            ],
        ),
    );
    store.import(&layout, None).unwrap();
    let saved = dir.path().join("saved.tar");
    store.save("src/img:1", &saved).unwrap();
    let (_dir2, other) = self::store();
    assert_eq!(
        other.import(&saved, None).unwrap()[0].to_string(),
        "src/img:1"
    );
    let a = store.resolve("src/img:1").unwrap();
    let b = other.resolve("src/img:1").unwrap();
    let hexes = |l: &[std::path::PathBuf]| {
        l.iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(hexes(&a.layers), hexes(&b.layers));
    // The archive carries both the docker-save files and an OCI layout.
    let members: Vec<String> = tar::Archive::new(std::fs::File::open(&saved).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    for name in ["manifest.json", "repositories", "index.json", "oci-layout"] {
        assert!(
            members.contains(&name.to_string()),
            "{name} missing: {members:?}"
        );
    }
    assert!(matches!(
        store.save("none:1", &dir.path().join("n.tar")),
        Err(Error::UnknownImage(_))
    ));
    assert!(!dir.path().join("n.tar").exists());
}

#[test]
fn skopeo_reads_a_saved_archive() {
    if std::process::Command::new("skopeo")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: skopeo is not installed (apt-get install skopeo)");
        return;
    }
    let (dir, store) = store();
    store
        .import(
            &write(
                dir.path(),
                "a.tar",
                &docker_archive(&["busybox:1"], &[busybox_layer(), app_layer()]),
            ),
            None,
        )
        .unwrap();
    let saved = dir.path().join("saved.tar");
    store.save("busybox:1", &saved).unwrap();
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("docker-archive:{}", saved.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("oci-archive:{}", saved.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn concurrent_imports_of_the_same_image_all_succeed_and_share_the_layers() {
    let (dir, store) = store();
    let path = write(
        dir.path(),
        "a.tar",
        &docker_archive(&["same:1"], &[busybox_layer(), app_layer()]),
    );
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                Store::open(store.root())
                    .unwrap()
                    .import(&path, None)
                    .unwrap()
            });
        }
    });
    assert_eq!(names(&store), ["same:1"]);
    assert_eq!(store.resolve("same:1").unwrap().layers.len(), 2);
    assert_eq!(
        tree(&store.root().join("layers"))
            .iter()
            .filter(|p| !p.contains('/'))
            .count(),
        2
    );
    assert!(tree(&store.root().join("tmp")).is_empty());
}
