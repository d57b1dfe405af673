//! A container on an image's layers: the layers are stacked read-only under a
//! writable upper layer of the container's own, capped by `root_size`; whiteouts and
//! opaque directories of the layers are honoured; reset gives the next borrower the
//! image's view again. Each case runs through a pool of one container, as root and
//! in rootless mode (a user namespace), on two layers built here by hand: a lower
//! one with busybox and some files, an upper one that deletes, replaces and hides
//! some of them in overlay format.

mod common;

use common::leakcheck::{assert_same, Snapshot};
use common::*;
use scpool_core::{ContainerConfig, Error, IdRange, Mount, Pool, PoolConfig};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The leak check counts this process's children and mounts: the cases run one at
/// a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The rootless containers' only id: the layers are owned by it, as a rootless
/// store's would be by its user, so copy-up can keep their owner.
const ROOTLESS_ID: u32 = 0x7123_4560;

const APPLETS: &[&str] = &[
    "sh", "cat", "ls", "rm", "echo", "head", "wc", "readlink", "mkdir", "test", "[",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(path: &Path, data: &str, mode: u32) {
    std::fs::write(path, data).unwrap();
    chmod(path, mode);
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn cpath(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// An overlay whiteout: a 0:0 character device hides the name in lower layers.
fn whiteout(path: &Path) {
    // SAFETY: mknod with a valid NUL-terminated path.
    let rc = unsafe { libc::mknod(cpath(path).as_ptr(), libc::S_IFCHR, 0) };
    assert_eq!(rc, 0, "mknod {}", path.display());
}

/// An opaque directory hides the lower layers' entries below it: trusted.* for
/// overlay mounted by root, user.* for the userxattr mounts of a user namespace.
/// Returns false when the filesystem keeps no user.* attributes (tmpfs before 6.6).
fn make_opaque(dir: &Path) -> bool {
    for name in ["trusted.overlay.opaque", "user.overlay.opaque"] {
        let cname = CString::new(name).unwrap();
        // SAFETY: setxattr with valid NUL-terminated strings and a 1-byte value.
        let rc = unsafe {
            libc::setxattr(
                cpath(dir).as_ptr(),
                cname.as_ptr(),
                b"y".as_ptr().cast(),
                1,
                0,
            )
        };
        let errno = std::io::Error::last_os_error().raw_os_error();
        if rc != 0 && name.starts_with("user.") && errno == Some(libc::EOPNOTSUPP) {
            return false;
        }
        assert_eq!(rc, 0, "setxattr {name} on {}", dir.display());
    }
    true
}

/// Where the layers are built: a directory of this process's under the system's
/// temporary directory, removed at exit. Not cargo's target/tmp: a checkout shared
/// into a VM (9p) holds no device nodes, and whiteouts are device nodes.
fn layers_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| scratch_dir_in(&std::env::temp_dir()))
}

fn chown_tree(dir: &Path, id: u32) {
    std::os::unix::fs::lchown(dir, Some(id), Some(id)).unwrap();
    if dir.is_symlink() || !dir.is_dir() {
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        chown_tree(&entry.unwrap().path(), id);
    }
}

/// Two layers, lowest first, in a directory of their own; `None` when the
/// filesystem cannot hold what a user namespace's overlay reads (user.* attributes).
fn build_layers(name: &str, owner: Option<u32>) -> Option<Vec<PathBuf>> {
    let base = layers_dir().join(name);
    let _ = std::fs::remove_dir_all(&base);
    let lower = base.join("lower");
    let upper = base.join("upper");
    for dir in ["bin", "etc", "data/opaque"] {
        std::fs::create_dir_all(lower.join(dir)).unwrap();
    }
    std::fs::copy("/bin/busybox", lower.join("bin/busybox")).unwrap();
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", lower.join("bin").join(applet)).unwrap();
    }
    write(&lower.join("etc/passwd"), "root:x:0:0::/:/bin/sh\n", 0o644);
    chmod(&lower.join("data"), 0o777);
    chmod(&lower.join("data/opaque"), 0o777);
    write(&lower.join("data/keep"), "kept\n", 0o666);
    write(&lower.join("data/gone"), "gone\n", 0o666);
    write(&lower.join("data/replaced"), "lower\n", 0o666);
    write(&lower.join("data/opaque/a"), "a\n", 0o666);
    // The upper layer deletes gone, replaces replaced and makes opaque/ opaque.
    std::fs::create_dir_all(upper.join("data/opaque")).unwrap();
    chmod(&upper.join("data"), 0o777);
    chmod(&upper.join("data/opaque"), 0o777);
    whiteout(&upper.join("data/gone"));
    write(&upper.join("data/replaced"), "upper\n", 0o666);
    if !make_opaque(&upper.join("data/opaque")) && owner.is_some() {
        return None;
    }
    write(&upper.join("data/opaque/b"), "b\n", 0o666);
    if let Some(id) = owner {
        chown_tree(&lower, id);
        chown_tree(&upper, id);
    }
    Some(vec![lower, upper])
}

fn image_config(user_namespace: bool, layers: Vec<PathBuf>) -> ContainerConfig {
    let mut config = ContainerConfig::default();
    config.user_namespace = user_namespace;
    config.mounts = Vec::new();
    config.image_layers = layers;
    config.root_size = 1 << 20;
    if user_namespace {
        config.id_range = IdRange {
            first: ROOTLESS_ID,
            count: 1,
        };
    }
    config
}

fn pool_on(config: ContainerConfig) -> Pool {
    let mut pool_config = PoolConfig::with_size(1);
    pool_config.container = config;
    Pool::new(pool_config).expect("a pool of one container on image layers")
}

/// The layers for a root or a rootless container; `None` (said on stderr) where
/// this machine's temporary directory cannot hold a rootless image's layers.
fn layers_for(user_namespace: bool) -> Option<Vec<PathBuf>> {
    let layers = if user_namespace {
        build_layers("layers-rootless", Some(ROOTLESS_ID))
    } else {
        Some(build_layers("layers-root", None).expect("root layers"))
    };
    if layers.is_none() {
        eprintln!("skipped rootless: the temporary directory keeps no user.* attributes");
    }
    layers
}

/// What the program sees of the image: one line per name of /data.
const LOOK: &str = "for f in keep gone replaced opaque/a opaque/b new; do \
                    if [ -e /data/$f ]; then echo \"$f $(cat /data/$f)\"; else echo \"$f -\"; fi; done; \
                    echo \"sh $([ -e /bin/sh ] && echo yes || echo no)\"; \
                    echo \"passwd $(cat /etc/passwd)\"";

fn look(c: &mut scpool_core::Container) -> Vec<String> {
    let r = sh(c, LOOK);
    assert_ok(&r);
    lines(&r.stdout)
}

fn assert_image_view(out: &[String]) {
    assert_eq!(field(out, "keep"), "kept", "{out:?}");
    assert_eq!(
        field(out, "gone"),
        "-",
        "the whiteout did not hide it: {out:?}"
    );
    assert_eq!(field(out, "replaced"), "upper", "{out:?}");
    assert_eq!(
        field(out, "opaque/a"),
        "-",
        "the opaque dir showed below: {out:?}"
    );
    assert_eq!(field(out, "opaque/b"), "b", "{out:?}");
    assert_eq!(field(out, "new"), "-", "{out:?}");
    assert_eq!(field(out, "sh"), "yes", "{out:?}");
    assert_eq!(field(out, "passwd"), "root:x:0:0::/:/bin/sh", "{out:?}");
}

fn the_image_is_seen_changed_and_restored(user_namespace: bool) {
    let Some(layers) = layers_for(user_namespace) else {
        return;
    };
    let pool = pool_on(image_config(user_namespace, layers.clone()));
    let mut c = pool.acquire().unwrap();
    let first_init = c.init_pid();
    assert_image_view(&look(&mut c));

    // Change every kind of thing: delete, replace, create, copy up a directory.
    let mut script = String::from(
        "rm /data/keep && echo changed > /data/replaced && echo new > /data/new \
         && rm /data/opaque/b && mkdir /data/d && echo done",
    );
    if user_namespace {
        // The program is the image's root here: it may change the image's system.
        script.push_str(" && echo x > /etc/passwd && rm /bin/sh && echo root-done");
    }
    let r = sh(&mut c, &script);
    assert_ok(&r);
    let out = lines(&r.stdout);
    assert!(out.contains(&"done".to_string()), "{out:?}");
    // The same container still sees its own changes until reset.
    let r = c
        .run(&run_param([
            "/bin/busybox",
            "sh",
            "-c",
            "cat /data/new /data/replaced; ls /data/opaque",
        ]))
        .unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "new\nchanged\n", "{r:?}");
    if user_namespace {
        assert!(out.contains(&"root-done".to_string()), "{out:?}");
        let r = c.run(&run_param(["/bin/sh", "-c", "true"])).unwrap();
        assert_eq!(r.status, scpool_core::Status::RunnerError, "{r:?}");
    }
    drop(c);

    // The next borrower gets the same container with the image as it was, and the
    // layers on the host were never touched.
    let mut c = pool.acquire().unwrap();
    assert_eq!(c.init_pid(), first_init, "the container was not reused");
    assert_image_view(&look(&mut c));
    assert_eq!(
        std::fs::read_to_string(layers[0].join("data/replaced")).unwrap(),
        "lower\n"
    );
    assert!(layers[0].join("data/keep").exists());
    assert!(!layers[1].join("data/new").exists());
    assert!(layers[0].join("bin/sh").is_symlink());
    // A reset with nothing changed keeps the view as well.
    drop(c);
    let mut c = pool.acquire().unwrap();
    assert_image_view(&look(&mut c));
}

#[test]
fn a_container_sees_the_image_and_reset_restores_it_as_root() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    the_image_is_seen_changed_and_restored(false);
}

#[test]
fn a_container_sees_the_image_and_reset_restores_it_rootless() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    the_image_is_seen_changed_and_restored(true);
}

fn writes_are_capped_by_root_size(user_namespace: bool) {
    let Some(layers) = layers_for(user_namespace) else {
        return;
    };
    let pool = pool_on(image_config(user_namespace, layers));
    let mut c = pool.acquire().unwrap();
    // 2 MB into a 1 MiB upper layer: the write fails, the file holds at most 1 MiB.
    let r = sh(
        &mut c,
        "head -c 2000000 /dev/zero > /data/big; echo \"rc $?\"; echo \"size $(wc -c < /data/big)\"",
    );
    assert_ok(&r);
    let out = lines(&r.stdout);
    assert_ne!(field(&out, "rc"), "0", "{out:?}\n{}", text(&r.stderr));
    let size: u64 = field(&out, "size").parse().unwrap();
    assert!(size <= 1 << 20, "the upper layer holds {size} bytes");
    drop(c);

    // The next borrower has the whole cap again.
    let mut c = pool.acquire().unwrap();
    let r = sh(
        &mut c,
        "[ -e /data/big ] && echo stale; head -c 900000 /dev/zero > /data/fits && wc -c < /data/fits",
    );
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "900000\n");
}

#[test]
fn writes_are_capped_by_root_size_as_root() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    writes_are_capped_by_root_size(false);
}

#[test]
fn writes_are_capped_by_root_size_rootless() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    writes_are_capped_by_root_size(true);
}

#[test]
fn mounts_inside_the_image_survive_reset_and_w_tmp_proc_dev_are_the_containers() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let host = scratch_dir().join("host-data");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("h"), "from the host\n").unwrap();
    let mut config = image_config(false, layers_for(false).unwrap());
    config.mounts = vec![Mount::new(&host, "/data/host")];
    let pool = pool_on(config);
    for round in 0..2 {
        let mut c = pool.acquire().unwrap();
        let r = sh(
            &mut c,
            "echo \"w holds [$(ls -A /w)]\"; \
             cat /data/host/h; echo w > /w/f && echo t > /tmp/f && cat /w/f /tmp/f; \
             [ -e /proc/self/stat ] && echo proc; [ -c /dev/null ] && echo dev; \
             echo x > /data/host/h 2>/dev/null || echo read-only; echo y > /data/changed",
        );
        assert_ok(&r);
        assert_eq!(
            text(&r.stdout),
            "w holds []\nfrom the host\nw\nt\nproc\ndev\nread-only\n",
            "round {round}: {r:?}"
        );
    }
}

/// The layers are bound under /w's mount point, covered by /w: a program, even
/// root of a user namespace, can neither see nor uncover them.
fn the_layers_stay_hidden(user_namespace: bool) {
    let Some(layers) = layers_for(user_namespace) else {
        return;
    };
    let pool = pool_on(image_config(user_namespace, layers));
    let mut c = pool.acquire().unwrap();
    let r = sh(
        &mut c,
        "echo \"w [$(ls -A /w)]\"; umount /w && echo unmounted; \
         umount -l /w && echo detached; echo \"w [$(ls -A /w)]\"",
    );
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "w []\nw []\n", "{r:?}");
    // Both attempts ran and were refused.
    assert_eq!(
        text(&r.stderr).matches("Operation not permitted").count(),
        2,
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn the_layers_stay_hidden_as_root() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    the_layers_stay_hidden(false);
}

#[test]
fn the_layers_stay_hidden_rootless() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    the_layers_stay_hidden(true);
}

#[test]
fn bad_image_configurations_are_rejected() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let layers = layers_for(false).unwrap();
    let file = layers[0].join("etc/passwd");
    let mut cases = Vec::new();
    let mut both = image_config(false, layers.clone());
    both.rootfs = Some(layers[0].clone());
    cases.push(both);
    cases.push(image_config(false, vec!["relative/layer".into()]));
    cases.push(image_config(
        false,
        vec![scratch_dir().join("no-such-layer")],
    ));
    cases.push(image_config(false, vec![file]));
    let mut no_size = image_config(false, layers);
    no_size.root_size = 0;
    cases.push(no_size);
    for config in &cases {
        let r = scpool_core::Container::new(config);
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{:?}: {:?}",
            config.image_layers,
            r.err()
        );
    }
}

#[test]
fn image_containers_leak_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let root_layers = layers_for(false);
    let rootless_layers = layers_for(true);
    warm_up();
    let before = Snapshot::baseline();
    for (user_namespace, layers) in [(false, root_layers), (true, rootless_layers)] {
        let Some(layers) = layers else {
            continue;
        };
        let pool = pool_on(image_config(user_namespace, layers));
        for _ in 0..3 {
            let mut c = pool.acquire().unwrap();
            let r = sh(&mut c, "echo x > /data/new && rm /data/keep");
            assert_ok(&r);
        }
        drop(pool);
    }
    assert_same(&before, &Snapshot::take(), "by containers on image layers");
}
