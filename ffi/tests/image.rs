//! `scpool_container_config.image`: a name resolved in the default store
//! ($SCPOOL_STORE here, a temporary directory), errors by code and message.
//! The only test of this binary: it sets SCPOOL_STORE before any thread reads it.

use scpool::*;
use std::ffi::{CStr, CString};

fn last_message() -> String {
    // SAFETY: the library returns a valid NUL-terminated string for this thread.
    unsafe { CStr::from_ptr(scpool_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Creates (and releases) a container on `image`; returns the error code.
fn create_on(image: &CStr) -> error {
    create_sized(image, std::mem::size_of::<container_config>())
}

/// As `create_on`, passing a struct of `size` bytes (an older caller's).
fn create_sized(image: &CStr, size: usize) -> error {
    let mut config = std::mem::MaybeUninit::<container_config>::uninit();
    // SAFETY: writable memory for the struct.
    let initialised = unsafe { scpool_container_config_init(config.as_mut_ptr()) };
    assert_eq!(initialised, error::Ok);
    // SAFETY: initialised just above.
    let mut config = unsafe { config.assume_init() };
    config.image = image.as_ptr();
    config.struct_size = size as u32;
    let mut out = std::ptr::null_mut();
    // SAFETY: a valid config whose strings outlive the call; out is writable.
    let code = unsafe { scpool_container_new(&config, &mut out) };
    if code == error::Ok {
        // SAFETY: a container handed out just above.
        unsafe { scpool_container_release(out) };
    }
    code
}

#[test]
fn an_image_name_is_resolved_in_the_default_store() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("SCPOOL_STORE", dir.path());

    assert_eq!(
        create_on(&CString::new("gcc:13").unwrap()),
        error::InvalidArgument
    );
    assert_eq!(last_message(), "image: no image named gcc:13 in the store");
    assert_eq!(
        create_on(&CString::new("Not A Name").unwrap()),
        error::InvalidArgument
    );
    assert!(
        last_message().contains("invalid image name"),
        "{}",
        last_message()
    );

    // An image in the store resolves (a root-filesystem tar of one file).
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(3);
    header.set_mode(0o644);
    tar.append_data(&mut header, "etc/x", &b"abc"[..]).unwrap();
    let archive = dir.path().join("rootfs.tar");
    std::fs::write(&archive, tar.into_inner().unwrap()).unwrap();
    let store = scpool_image::Store::open(dir.path()).unwrap();
    store.import(&archive, Some("tiny:1")).unwrap();
    let code = create_on(&CString::new("tiny:1").unwrap());
    assert_eq!(code, error::Ok, "{}", last_message());

    // A caller built before the field passes a shorter struct: it is never read.
    let older = std::mem::offset_of!(container_config, image);
    let code = create_sized(&CString::new("gcc:13").unwrap(), older);
    assert_eq!(code, error::Ok, "{}", last_message());
}
