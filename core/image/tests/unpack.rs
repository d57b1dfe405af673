//! Unpacking layers: what lands in the layer directory, overlayfs whiteouts, and
//! hostile layers that try to write outside it (refused, nothing written).

mod common;

use common::{gzip, tree, zstd, Layer};
use scpool_image::unpack::unpack;
use scpool_image::{Digest, Error};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// A scratch directory holding `layer/` (the destination) and `outside/` (a
/// place an escaping entry would aim at), plus whatever `outside` holds.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("layer")).unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/victim"), b"original").unwrap();
        Self { dir }
    }

    fn layer(&self) -> std::path::PathBuf {
        self.dir.path().join("layer")
    }

    fn outside(&self) -> std::path::PathBuf {
        self.dir.path().join("outside")
    }

    /// The outside directory still holds exactly its one untouched file.
    fn assert_outside_untouched(&self) {
        assert_eq!(tree(&self.outside()), ["victim"]);
        assert_eq!(
            std::fs::read(self.outside().join("victim")).unwrap(),
            b"original"
        );
        assert_eq!(
            tree(self.dir.path())
                .iter()
                .filter(|p| !p.starts_with("layer"))
                .count(),
            2
        );
    }

    fn unpack(&self, tar: &[u8]) -> scpool_image::Result<scpool_image::unpack::Unpacked> {
        unpack(tar, &self.layer(), "test")
    }
}

fn refused(result: scpool_image::Result<scpool_image::unpack::Unpacked>, why: &str) {
    match result {
        Err(Error::UnsafeEntry { why: got, .. }) => {
            assert!(got.contains(why), "{got:?} lacks {why:?}")
        }
        other => panic!("expected UnsafeEntry ({why}), got {other:?}"),
    }
}

#[test]
fn files_directories_and_links_land_with_their_modes_and_the_diff_id_is_the_tars_digest() {
    let scratch = Scratch::new();
    let tar = Layer::new()
        .dir("./", 0o755)
        .dir("./etc/", 0o755)
        .file("./etc/motd", b"hello\n", 0o640)
        .symlink("etc/link", "/nowhere/at/all")
        .hardlink("etc/motd2", "etc/motd")
        .file("deep/er/file", b"x", 0o4755)
        .dir("ro/", 0o555)
        .file("ro/inside", b"y", 0o444)
        .finish();
    let unpacked = scratch.unpack(&tar).unwrap();
    assert_eq!(unpacked.diff_id, Digest::of(&tar));
    assert_eq!(unpacked.tar_size, tar.len() as u64);
    let layer = scratch.layer();
    assert_eq!(std::fs::read(layer.join("etc/motd")).unwrap(), b"hello\n");
    assert_eq!(
        std::fs::metadata(layer.join("etc/motd"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o640
    );
    assert_eq!(
        std::fs::read_link(layer.join("etc/link")).unwrap(),
        Path::new("/nowhere/at/all")
    );
    assert_eq!(
        std::fs::metadata(layer.join("etc/motd2")).unwrap().ino(),
        std::fs::metadata(layer.join("etc/motd")).unwrap().ino()
    );
    assert_eq!(
        std::fs::metadata(layer.join("deep/er/file"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o4755
    );
    assert_eq!(
        std::fs::metadata(layer.join("ro"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o555
    );
    assert_eq!(
        std::fs::metadata(layer.join("etc/motd")).unwrap().mtime(),
        1_700_000_000
    );
    scratch.assert_outside_untouched();
}

#[test]
fn gzip_and_zstd_layers_unpack_alike_with_the_uncompressed_diff_id() {
    let tar = Layer::new().file("a", b"same", 0o644).finish();
    for compressed in [gzip(&tar), zstd(&tar)] {
        let scratch = Scratch::new();
        let unpacked = scratch.unpack(&compressed).unwrap();
        assert_eq!(unpacked.diff_id, Digest::of(&tar));
        assert_eq!(std::fs::read(scratch.layer().join("a")).unwrap(), b"same");
    }
}

#[test]
fn whiteouts_become_overlayfs_whiteouts_and_opaque_markers_an_xattr() {
    let scratch = Scratch::new();
    let tar = Layer::new()
        .dir("etc/", 0o755)
        .file("etc/.wh.shadow", b"", 0o644)
        .dir("var/cache/", 0o755)
        .file("var/cache/.wh..wh..opq", b"", 0o644)
        .file("var/cache/kept", b"k", 0o644)
        .finish();
    scratch.unpack(&tar).unwrap();
    let whiteout = std::fs::symlink_metadata(scratch.layer().join("etc/shadow")).unwrap();
    assert!(whiteout.file_type().is_char_device());
    assert_eq!(whiteout.rdev(), 0);
    assert!(!scratch.layer().join("etc/.wh.shadow").exists());
    assert!(!scratch.layer().join("var/cache/.wh..wh..opq").exists());
    assert_eq!(
        std::fs::read(scratch.layer().join("var/cache/kept")).unwrap(),
        b"k"
    );
    let name = if nix::unistd::geteuid().is_root() {
        "trusted.overlay.opaque"
    } else {
        "user.overlay.opaque"
    };
    let mut value = [0u8; 8];
    let path = std::ffi::CString::new(
        scratch
            .layer()
            .join("var/cache")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    let attr = std::ffi::CString::new(name).unwrap();
    // SAFETY: both strings are NUL-terminated and the buffer is valid for its length.
    let n = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            attr.as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    assert_eq!(n, 1, "{name} is set: {}", std::io::Error::last_os_error());
    assert_eq!(value[0], b'y');
}

#[test]
fn a_dotdot_path_is_refused_and_writes_nothing_outside() {
    let scratch = Scratch::new();
    let tar = Layer::new()
        .file("ok", b"1", 0o644)
        .file("../outside/victim", b"pwned", 0o644)
        .finish();
    refused(scratch.unpack(&tar), "'..'");
    scratch.assert_outside_untouched();
}

#[test]
fn an_absolute_path_is_refused() {
    let scratch = Scratch::new();
    let target = format!("{}/new", scratch.outside().display());
    let tar = Layer::new().file(&target, b"pwned", 0o644).finish();
    refused(scratch.unpack(&tar), "absolute");
    scratch.assert_outside_untouched();
}

#[test]
fn a_file_written_through_a_symlink_is_refused_whatever_the_link_points_at() {
    let scratch = Scratch::new();
    let out = scratch.outside().display().to_string();
    for target in [out.as_str(), "../outside", "."] {
        let scratch2 = Scratch::new();
        let target = target.replace(&out, &scratch2.outside().display().to_string());
        let tar = Layer::new()
            .symlink("evil", &target)
            .file("evil/victim", b"pwned", 0o644)
            .finish();
        refused(scratch2.unpack(&tar), "symbolic link");
        scratch2.assert_outside_untouched();
    }
    scratch.assert_outside_untouched();
}

#[test]
fn a_file_replacing_a_symlink_replaces_the_link_not_its_target() {
    let scratch = Scratch::new();
    let victim = scratch.outside().join("victim").display().to_string();
    let tar = Layer::new()
        .symlink("f", &victim)
        .file("f", b"mine", 0o644)
        .finish();
    scratch.unpack(&tar).unwrap();
    assert_eq!(std::fs::read(scratch.layer().join("f")).unwrap(), b"mine");
    assert!(!std::fs::symlink_metadata(scratch.layer().join("f"))
        .unwrap()
        .file_type()
        .is_symlink());
    scratch.assert_outside_untouched();
}

#[test]
fn a_directory_replaced_by_a_symlink_keeps_the_link_and_its_mode_goes_nowhere() {
    let scratch = Scratch::new();
    let outside = scratch.outside().display().to_string();
    let tar = Layer::new()
        .dir("d/", 0o777)
        .symlink("d", &outside)
        .finish();
    scratch.unpack(&tar).unwrap();
    assert_eq!(
        std::fs::read_link(scratch.layer().join("d")).unwrap(),
        scratch.outside()
    );
    let mode = std::fs::metadata(scratch.outside())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_ne!(
        mode, 0o777,
        "the directory's mode was not applied through the link"
    );
    scratch.assert_outside_untouched();
}

#[test]
fn hard_links_that_leave_the_layer_are_refused() {
    for target in [
        "../outside/victim",
        "/etc/passwd",
        "../../../../../etc/passwd",
    ] {
        let scratch = Scratch::new();
        let tar = Layer::new().hardlink("h", target).finish();
        refused(scratch.unpack(&tar), "leaves the layer");
        assert!(!scratch.layer().join("h").exists());
        scratch.assert_outside_untouched();
    }
}

#[test]
fn a_hard_link_through_a_symlinked_directory_is_refused() {
    let scratch = Scratch::new();
    let tar = Layer::new()
        .symlink("out", &scratch.outside().display().to_string())
        .hardlink("h", "out/victim")
        .finish();
    refused(scratch.unpack(&tar), "symbolic link");
    assert!(!scratch.layer().join("h").exists());
    scratch.assert_outside_untouched();
}

#[test]
fn a_hard_link_to_a_file_not_in_the_layer_is_refused() {
    let scratch = Scratch::new();
    refused(
        scratch.unpack(&Layer::new().hardlink("h", "missing").finish()),
        "not in this layer",
    );
}

#[test]
fn device_nodes_are_created_only_by_root() {
    let scratch = Scratch::new();
    let tar = Layer::new().char_device("null", 1, 3).finish();
    if nix::unistd::geteuid().is_root() {
        scratch.unpack(&tar).unwrap();
        let meta = std::fs::symlink_metadata(scratch.layer().join("null")).unwrap();
        assert!(meta.file_type().is_char_device());
        assert_eq!(meta.rdev(), libc::makedev(1, 3));
    } else {
        refused(scratch.unpack(&tar), "only by root");
    }
}

#[test]
fn a_truncated_layer_is_a_corrupt_error() {
    let scratch = Scratch::new();
    let tar = Layer::new()
        .file("big", &vec![7u8; 100_000], 0o644)
        .finish();
    let result = scratch.unpack(&tar[..50_000]);
    assert!(matches!(result, Err(Error::Corrupt { .. })), "{result:?}");
    let result = Scratch::new().unpack(&gzip(&tar)[..300]);
    assert!(matches!(result, Err(Error::Corrupt { .. })), "{result:?}");
}
