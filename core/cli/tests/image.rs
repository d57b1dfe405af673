//! `scpool image ...` and `scpool run --image` end to end, with images built
//! here from busybox-static, a store in a temporary directory, and a registry on
//! 127.0.0.1 (a fake one for auth and bad answers, Debian's docker-registry fed
//! by skopeo for a real pull).

#[path = "../../image/tests/common/mod.rs"]
mod common;

use common::{busybox_layer, docker_archive, gzip, oci_layout, Layer};
use scpool_image::Digest;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    /// Runs scpool with the store in SCPOOL_STORE.
    fn scpool(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_scpool"))
            .args(args)
            .env("SCPOOL_STORE", self.store())
            .output()
            .expect("running scpool")
    }

    fn names(&self) -> Vec<String> {
        let out = self.scpool(&["image", "ls", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A layer holding a file only the image has, to tell its root from the host's.
fn marker_layer(content: &str) -> Vec<u8> {
    Layer::new()
        .dir("etc/", 0o755)
        .file("etc/scpool-image-test", content.as_bytes(), 0o644)
        .finish()
}

#[test]
fn import_ls_save_and_rm_round_trip() {
    let env = Env::new();
    let archive = env.file(
        "bb.tar",
        &docker_archive(&["busybox:1"], &[busybox_layer(), marker_layer("one")]),
    );
    let out = env.scpool(&["image", "import", archive.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "busybox:1\n");
    let rootfs = env.file("rootfs.tar.gz", &gzip(&busybox_layer()));
    let out = env.scpool(&[
        "image",
        "import",
        "--name",
        "plain:2",
        rootfs.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(env.names(), ["busybox:1", "plain:2"]);

    let out = env.scpool(&["image", "ls"]);
    let table = text(&out.stdout);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.lines().nth(1).unwrap().starts_with("busybox:1 "),
        "{table}"
    );

    let saved = env.dir.path().join("saved.tar");
    let out = env.scpool(&["image", "save", "busybox:1", "-o", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = env.scpool(&["image", "rm", "busybox:1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(env.names(), ["plain:2"]);
    let out = env.scpool(&["image", "import", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(env.names(), ["busybox:1", "plain:2"]);
}

#[test]
fn bad_names_are_usage_errors_and_unknown_images_are_named() {
    let env = Env::new();
    let out = env.scpool(&["image", "rm", "Bad Name"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = env.scpool(&["image", "rm", "gone:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no image named gone:1"),
        "{}",
        text(&out.stderr)
    );
    let out = env.scpool(&["run", "--image", "gone:1", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no image named gone:1 in the store"),
        "{}",
        text(&out.stderr)
    );
    let out = env.scpool(&[
        "image",
        "save",
        "gone:1",
        "-o",
        env.dir.path().join("x.tar").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!env.dir.path().join("x.tar").exists());
}

#[test]
fn a_corrupt_archive_is_a_clear_error_and_lists_nothing() {
    let env = Env::new();
    let archive = docker_archive(&["cut:1"], &[busybox_layer()]);
    let cut = env.file("cut.tar", &archive[..archive.len() / 3]);
    let out = env.scpool(&["image", "import", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );
    assert!(env.names().is_empty());
}

#[test]
fn an_import_killed_midway_never_lists_a_half_image() {
    let env = Env::new();
    // Big enough that a kill soon after the start lands while layers are written.
    let big = Layer::new()
        .file("big", &vec![1u8; 64 << 20], 0o644)
        .finish();
    let archive = env.file(
        "big.tar",
        &docker_archive(&["big:1"], &[busybox_layer(), big]),
    );
    for delay_ms in [5, 30, 120] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scpool"))
            .args(["image", "import", archive.to_str().unwrap()])
            .env("SCPOOL_STORE", env.store())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        // Listed means whole: every layer there.
        for name in env.names() {
            let store = scpool_image::Store::open(env.store()).unwrap();
            let image = store.resolve(&name).unwrap();
            assert_eq!(image.layers.len(), 2);
            assert!(image.layers[1].join("big").metadata().unwrap().len() == 64 << 20);
        }
        let store = scpool_image::Store::open(env.store()).unwrap();
        store.remove("big:1").ok();
        store.collect().unwrap();
        assert!(std::fs::read_dir(env.store().join("tmp"))
            .unwrap()
            .next()
            .is_none());
    }
}

/// The end-to-end run on an image's root filesystem.
#[test]
fn run_image_runs_busybox_from_an_imported_image() {
    let env = Env::new();
    let archive = env.file(
        "bb.tar",
        &docker_archive(
            &["busybox:1"],
            &[busybox_layer(), marker_layer("from the image\n")],
        ),
    );
    assert_eq!(
        env.scpool(&["image", "import", archive.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let out = env.scpool(&["run", "--image", "busybox:1", "/bin/busybox", "echo", "hi"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout).as_str()),
        (Some(0), "hi\n"),
        "{}",
        text(&out.stderr)
    );
    let out = env.scpool(&[
        "run",
        "--image",
        "busybox:1",
        "/bin/busybox",
        "cat",
        "/etc/scpool-image-test",
    ]);
    assert_eq!(
        text(&out.stdout),
        "from the image\n",
        "{}",
        text(&out.stderr)
    );
}

/// A named container on an image: `ps` names the image, the program sees the
/// image's files, and `rm -f` leaves nothing of it.
#[test]
fn a_named_container_runs_on_an_image_by_name() {
    let env = Env::new();
    let runtime = env.dir.path().join("run");
    let archive = env.file(
        "bb.tar",
        &docker_archive(&["busybox:1"], &[busybox_layer(), marker_layer("named\n")]),
    );
    let import = env.scpool(&["image", "import", archive.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(0), "{}", text(&import.stderr));
    let named = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_scpool"))
            .args(args)
            .env("SCPOOL_STORE", env.store())
            .env("SCPOOL_RUNTIME_DIR", &runtime)
            .output()
            .expect("running scpool")
    };
    let run = named(&[
        "run",
        "-d",
        "--name",
        "bb",
        "--image",
        "busybox:1",
        "--",
        "/bin/busybox",
        "sleep",
        "60",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let ps = named(&["ps", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
    let entry = &list.as_array().unwrap()[0];
    assert_eq!(
        (
            entry["name"].as_str(),
            entry["image"].as_str(),
            entry["state"].as_str()
        ),
        (Some("bb"), Some("busybox:1"), Some("running")),
        "{list}"
    );
    let exec = named(&[
        "exec",
        "bb",
        "--",
        "/bin/busybox",
        "cat",
        "/etc/scpool-image-test",
    ]);
    assert_eq!(
        (exec.status.code(), text(&exec.stdout).as_str()),
        (Some(0), "named\n"),
        "{}",
        text(&exec.stderr)
    );
    let rm = named(&["rm", "-f", "bb"]);
    assert_eq!(rm.status.code(), Some(0), "{}", text(&rm.stderr));
    assert_eq!(
        text(&named(&["ps", "-a"]).stdout).lines().count(),
        1,
        "only the header"
    );
}

// ---- pull

/// A registry on 127.0.0.1 that serves `blobs` (manifests by tag or digest,
/// blobs by digest) to holders of a bearer token it hands out at /token;
/// `answer` can replace every answer with raw bytes (garbage).
struct FakeRegistry {
    port: u16,
}

impl FakeRegistry {
    fn start(
        manifests: Vec<(String, Vec<u8>)>,
        blobs: Vec<(String, Vec<u8>)>,
        garbage: Option<&'static [u8]>,
        cut_blobs: bool,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap_or(0);
                let mut authorized = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    authorized |= line
                        .to_ascii_lowercase()
                        .starts_with("authorization: bearer secret-token");
                }
                if let Some(garbage) = garbage {
                    let _ = stream.write_all(garbage);
                    continue;
                }
                let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
                let (status, headers, body): (&str, String, Vec<u8>) = if path.starts_with("/token")
                {
                    (
                        "200 OK",
                        String::new(),
                        br#"{"token":"secret-token"}"#.to_vec(),
                    )
                } else if !authorized {
                    let challenge = format!(
                        "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\",scope=\"repository:busybox:pull\"\r\n"
                    );
                    ("401 Unauthorized", challenge, b"{}".to_vec())
                } else if let Some(found) = manifests
                    .iter()
                    .find(|(k, _)| path.ends_with(&format!("/manifests/{k}")))
                {
                    let media: serde_json::Value = serde_json::from_slice(&found.1).unwrap();
                    let media = media["mediaType"].as_str().unwrap_or("").to_owned();
                    (
                        "200 OK",
                        format!("Content-Type: {media}\r\n"),
                        found.1.clone(),
                    )
                } else if let Some(found) = blobs
                    .iter()
                    .find(|(k, _)| path.ends_with(&format!("/blobs/{k}")))
                {
                    ("200 OK", String::new(), found.1.clone())
                } else {
                    (
                        "404 Not Found",
                        String::new(),
                        br#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#.to_vec(),
                    )
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                // A connection lost mid-blob: half the promised bytes, then close.
                let cut = cut_blobs && path.contains("/blobs/");
                let _ = stream.write_all(&body[..if cut { body.len() / 2 } else { body.len() }]);
            }
        });
        Self { port }
    }
}

/// (name, content) pairs.
type Files = Vec<(String, Vec<u8>)>;

/// The manifests (by tag and digest) and blobs of an OCI layout's image.
fn served(tag: &str, files: &[(String, Vec<u8>)]) -> (Files, Files) {
    let index: serde_json::Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "index.json").unwrap().1).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let blob = |digest: &str| {
        files
            .iter()
            .find(|(n, _)| n.ends_with(&digest[7..]))
            .unwrap()
            .1
            .clone()
    };
    let manifest = blob(&manifest_digest);
    let manifests = vec![
        (tag.to_owned(), manifest.clone()),
        (manifest_digest, manifest),
    ];
    let blobs = files
        .iter()
        .filter_map(|(n, d)| {
            n.strip_prefix("blobs/sha256/")
                .map(|hex| (format!("sha256:{hex}"), d.clone()))
        })
        .collect();
    (manifests, blobs)
}

#[test]
fn pull_gets_a_bearer_token_and_stores_a_gzip_image() {
    let env = Env::new();
    let diff = [busybox_layer(), marker_layer("pulled")];
    let files = oci_layout(
        None,
        &diff,
        &[
            (
                gzip(&diff[0]),
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            (
                common::zstd(&diff[1]),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
        ],
    );
    let (manifests, blobs) = served("1", &files);
    let registry = FakeRegistry::start(manifests, blobs, None, false);
    let reference = format!("127.0.0.1:{}/busybox:1", registry.port);
    let out = env.scpool(&["image", "pull", &reference]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(env.names(), std::slice::from_ref(&reference));
    let image = scpool_image::Store::open(env.store())
        .unwrap()
        .resolve(&reference)
        .unwrap();
    assert_eq!(
        std::fs::read(image.layers[1].join("etc/scpool-image-test")).unwrap(),
        b"pulled"
    );
    assert_eq!(
        image.layers[0].file_name().unwrap().to_str().unwrap(),
        Digest::of(&diff[0]).hex()
    );
    // An unknown tag: the registry's 404, said.
    let out = env.scpool(&[
        "image",
        "pull",
        &format!("127.0.0.1:{}/busybox:2", registry.port),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("404"), "{}", text(&out.stderr));
}

#[test]
fn pull_refuses_a_blob_that_does_not_match_its_digest() {
    let env = Env::new();
    let diff = [busybox_layer()];
    let files = oci_layout(
        None,
        &diff,
        &[(
            gzip(&diff[0]),
            "application/vnd.oci.image.layer.v1.tar+gzip",
        )],
    );
    let (manifests, mut blobs) = served("1", &files);
    let layer_digest = format!("sha256:{}", Digest::of(&gzip(&diff[0])).hex());
    let layer = blobs.iter_mut().find(|(d, _)| *d == layer_digest).unwrap();
    layer.1 = gzip(&marker_layer("not what the manifest says"));
    let registry = FakeRegistry::start(manifests, blobs, None, false);
    let out = env.scpool(&[
        "image",
        "pull",
        &format!("127.0.0.1:{}/busybox:1", registry.port),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("digest mismatch"),
        "{}",
        text(&out.stderr)
    );
    assert!(env.names().is_empty());
}

#[test]
fn a_pull_cut_off_midway_lists_no_image_and_leaves_nothing() {
    let env = Env::new();
    let diff = [busybox_layer()];
    let files = oci_layout(
        None,
        &diff,
        &[(
            gzip(&diff[0]),
            "application/vnd.oci.image.layer.v1.tar+gzip",
        )],
    );
    let (manifests, blobs) = served("1", &files);
    let registry = FakeRegistry::start(manifests, blobs, None, true);
    let out = env.scpool(&[
        "image",
        "pull",
        &format!("127.0.0.1:{}/busybox:1", registry.port),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // The message names the blob that was cut short.
    assert!(
        text(&out.stderr).contains("blobs/sha256/"),
        "{}",
        text(&out.stderr)
    );
    assert!(env.names().is_empty());
    let store = scpool_image::Store::open(env.store()).unwrap();
    store.collect().unwrap();
    for dir in ["blobs/sha256", "layers", "tmp"] {
        let left: Vec<_> = std::fs::read_dir(env.store().join(dir)).unwrap().collect();
        assert!(left.is_empty(), "{dir}: {left:?}");
    }
}

#[test]
fn pull_from_a_registry_that_is_down_or_answers_garbage_fails_clearly() {
    let env = Env::new();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = env.scpool(&["image", "pull", &format!("127.0.0.1:{port}/busybox:1")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach the registry"),
        "{}",
        text(&out.stderr)
    );

    let registry = FakeRegistry::start(
        vec![],
        vec![],
        Some(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!"),
        false,
    );
    let out = env.scpool(&[
        "image",
        "pull",
        &format!("127.0.0.1:{}/busybox:1", registry.port),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("garbage"),
        "{}",
        text(&out.stderr)
    );
    let registry = FakeRegistry::start(
        vec![],
        vec![],
        Some(b"\x00\x01 this is not HTTP at all\r\n\r\n"),
        false,
    );
    let out = env.scpool(&[
        "image",
        "pull",
        &format!("127.0.0.1:{}/busybox:1", registry.port),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(env.names().is_empty());
    let out = env.scpool(&["image", "pull", "busybox:1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a reference without a registry is a usage error"
    );
}

/// A real registry (Debian's docker-registry) filled by skopeo: a gzip image, a
/// zstd one, and an index with an image per architecture.
#[test]
fn pull_from_a_local_docker_registry_pushed_to_by_skopeo() {
    for tool in ["docker-registry", "skopeo"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map_or(true, |o| !o.status.success())
        {
            eprintln!("skipped: {tool} is not installed (apt-get install docker-registry skopeo)");
            return;
        }
    }
    let env = Env::new();
    let registry = LocalRegistry::start(env.dir.path());
    let host = format!("127.0.0.1:{}", registry.port);
    let diff = [busybox_layer(), marker_layer("amd64")];
    let layout = env.dir.path().join("layout");
    common::write_dir(
        &layout,
        &oci_layout(
            Some("1"),
            &diff,
            &[
                (diff[0].clone(), "application/vnd.oci.image.layer.v1.tar"),
                (diff[1].clone(), "application/vnd.oci.image.layer.v1.tar"),
            ],
        ),
    );
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:1", layout.display()),
        &format!("docker://{host}/busybox:1"),
    ]);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-compress-format",
        "zstd",
        &format!("oci:{}:1", layout.display()),
        &format!("docker://{host}/busybox:zstd"),
    ]);
    let multi = env.dir.path().join("multi");
    write_multi_arch(&multi);
    skopeo(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{}:multi", multi.display()),
        &format!("docker://{host}/busybox:multi"),
    ]);
    for tag in ["1", "zstd", "multi"] {
        let reference = format!("{host}/busybox:{tag}");
        let out = env.scpool(&["image", "pull", &reference]);
        assert_eq!(out.status.code(), Some(0), "{tag}: {}", text(&out.stderr));
        let image = scpool_image::Store::open(env.store())
            .unwrap()
            .resolve(&reference)
            .unwrap();
        let marker =
            std::fs::read_to_string(image.layers.last().unwrap().join("etc/scpool-image-test"))
                .unwrap();
        assert_eq!(marker, "amd64", "{tag}: the linux/amd64 image of an index");
        assert!(image.layers[0].join("bin/busybox").is_file());
    }
}

fn skopeo(args: &[&str]) {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        text(&out.stderr)
    );
}

/// An OCI layout whose `multi` is an index of an arm64 and an amd64 image.
fn write_multi_arch(dir: &Path) {
    let mut files = Vec::new();
    let mut entries = Vec::new();
    for arch in ["arm64", "amd64"] {
        let diff = [busybox_layer(), marker_layer(arch)];
        let layout = oci_layout(
            None,
            &diff,
            &[
                (diff[0].clone(), "application/vnd.oci.image.layer.v1.tar"),
                (diff[1].clone(), "application/vnd.oci.image.layer.v1.tar"),
            ],
        );
        let index: serde_json::Value =
            serde_json::from_slice(&layout.iter().find(|(n, _)| n == "index.json").unwrap().1)
                .unwrap();
        let mut entry = index["manifests"][0].clone();
        entry["platform"] = serde_json::json!({"architecture": arch, "os": "linux"});
        entries.push(entry);
        files.extend(layout.into_iter().filter(|(n, _)| n.starts_with("blobs/")));
    }
    let nested = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})).unwrap();
    let digest = Digest::of(&nested);
    files.push((format!("blobs/sha256/{}", digest.hex()), nested.clone()));
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": nested.len(),
        "annotations": {"org.opencontainers.image.ref.name": "multi"}}]});
    files.push(("index.json".into(), serde_json::to_vec(&top).unwrap()));
    files.push((
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    common::write_dir(dir, &files);
}

/// docker-registry serving on a free port of 127.0.0.1, stopped on drop.
struct LocalRegistry {
    child: std::process::Child,
    port: u16,
}

impl LocalRegistry {
    fn start(dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.join("registry").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let registry = Self { child, port };
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.") {
                    return registry;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("docker-registry did not start on port {port}");
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
