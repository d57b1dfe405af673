//! Where the default store is. The only test of this binary: it changes the
//! environment, which no other thread reads meanwhile.

use scpool_image::Store;
use std::path::Path;

#[test]
fn scpool_store_wins_then_root_or_the_users_data_directory() {
    std::env::set_var("SCPOOL_STORE", "/srv/images");
    assert_eq!(Store::default_path(), Path::new("/srv/images"));
    std::env::set_var("SCPOOL_STORE", "");
    std::env::set_var("XDG_DATA_HOME", "/home/u/.data");
    let expected = if nix::unistd::geteuid().is_root() {
        Path::new("/var/lib/scpool").to_owned()
    } else {
        Path::new("/home/u/.data/scpool").to_owned()
    };
    assert_eq!(Store::default_path(), expected);
    std::env::remove_var("SCPOOL_STORE");
    assert_eq!(Store::default_path(), expected);
}
