//! Gives libscpool.so a SONAME carrying the ABI major version, so that a host linked
//! against one ABI never loads an incompatible library.

include!("src/abi_version.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/abi_version.rs");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libscpool.so.{SCPOOL_ABI_MAJOR}");
}
