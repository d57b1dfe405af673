//! include/scpool.h is generated from this crate by cbindgen and committed. This test
//! regenerates it and fails when the committed copy differs, so a change to the C ABI
//! cannot land without its header. Write the new header with
//!   SCPOOL_BLESS_HEADER=1 cargo test -p scpool-ffi --test header
//! (or `cbindgen --config ffi/cbindgen.toml --crate scpool-ffi ffi`: the same output).

use std::path::Path;

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml parses");
    // The ABI major is written in the config (cbindgen would prefix the constant);
    // it must be the Rust one.
    let define = format!("#define SCPOOL_ABI_MAJOR {}", scpool::SCPOOL_ABI_MAJOR);
    assert!(
        config
            .after_includes
            .as_deref()
            .is_some_and(|text| text.lines().any(|line| line == define)),
        "ffi/cbindgen.toml's after_includes must say `{define}`"
    );
    let define = format!("#define SCPOOL_DEFAULT_CWD {:?}", scpool::DEFAULT_CWD);
    assert!(
        config
            .after_includes
            .as_deref()
            .is_some_and(|text| text.lines().any(|line| line == define)),
        "ffi/cbindgen.toml's after_includes must say `{define}`"
    );
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/scpool.h");
    let fresh = generate();
    if std::env::var_os("SCPOOL_BLESS_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("writing include/scpool.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/scpool.h is stale: regenerate it with \
         `SCPOOL_BLESS_HEADER=1 cargo test -p scpool-ffi --test header` and commit it"
    );
}
