//! Builds the container init (the peer crate core/init) as a static executable and hands its path
//! to the library, which embeds it with include_bytes!.
//!
//! The init is built by a nested cargo in its own target directory (so the outer
//! build's lock is not contended) with the `init` profile and `+crt-static`,
//! against musl when that target is installed (see `init_target`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let init_manifest = manifest_dir.join("../init/Cargo.toml");
    for watched in [
        "../init/src",
        "../init/Cargo.toml",
        "../protocol/src",
        "../protocol/Cargo.toml",
        "../../Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=SCPOOL_INIT_PATH");

    // An already-built init can be supplied (e.g. by packagers).
    if let Some(prebuilt) = env::var_os("SCPOOL_INIT_PATH") {
        println!(
            "cargo:rustc-env=SCPOOL_INIT_PATH={}",
            Path::new(&prebuilt).display()
        );
        export_hash(Path::new(&prebuilt));
        return;
    }

    let target = init_target(&env::var("TARGET").unwrap());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target_dir = shared_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(&init_manifest)
        .args(["--profile", "init", "--target", &target])
        .arg("--target-dir")
        .arg(&target_dir);
    // Flags meant for the outer build (or a clippy/coverage wrapper) must not leak
    // into the init's build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static");
    let status = cmd
        .status()
        .expect("cannot run cargo to build the container init");
    assert!(
        status.success(),
        "building the container init (core/init) failed"
    );

    let binary = target_dir.join(&target).join("init").join("scpool-init");
    assert!(
        binary.exists(),
        "the init build left no binary at {}",
        binary.display()
    );
    println!("cargo:rustc-env=SCPOOL_INIT_PATH={}", binary.display());
    export_hash(&binary);
}

/// The target the init is built for: the musl twin of the library's target when
/// its standard library is installed (`rustup target add x86_64-unknown-linux-musl`),
/// else the target itself. A static glibc program probes the CPU at start-up
/// (dozens of CPUID instructions, each a trap to the hypervisor on a virtual
/// machine): about 0.6 ms of every container's creation on a cloud VM, where a musl
/// program starts in microseconds. SCPOOL_INIT_LIBC=gnu keeps glibc.
fn init_target(target: &str) -> String {
    println!("cargo:rerun-if-env-changed=SCPOOL_INIT_LIBC");
    if target.ends_with("-linux-musl") {
        return target.to_string();
    }
    let musl = target.replace("-linux-gnu", "-linux-musl");
    let wanted = env::var("SCPOOL_INIT_LIBC").map_or(true, |libc| libc != "gnu");
    if wanted && musl != target && std_installed(&musl) {
        musl
    } else {
        if wanted {
            println!(
                "cargo:warning=building the container init with glibc: `rustup target add {musl}` \
                 makes each container start ~0.6 ms sooner on virtual machines"
            );
        }
        target.to_string()
    }
}

/// Whether the Rust standard library for `triple` is installed.
fn std_installed(triple: &str) -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", triple])
        .output()
    else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success()
        && std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
        })
}

/// SCPOOL_INIT_HASH: a digest of the init image (64-bit FNV-1a), which names the
/// image's cached copy on the host so that every build finds its own.
fn export_hash(binary: &Path) {
    let image = std::fs::read(binary).expect("reading the init binary");
    let hash = image.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    println!("cargo:rustc-env=SCPOOL_INIT_HASH={hash:016x}");
}

/// `<target>/scpool-init`, shared by every profile of the outer build, found from
/// OUT_DIR = `<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`.
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|target| target.join("scpool-init"))
        .unwrap_or_else(|| out_dir.join("scpool-init"))
}
