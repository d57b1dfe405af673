//! A layer a container runs on outlives the image's removal (overlayfs forbids
//! changes below a mounted overlay): the container's init holds each layer with a
//! shared lock, and collection removes only layers it can lock exclusive.

mod common;

use common::{busybox_layer, docker_archive, Layer};
use scpool_core::{Container, ContainerConfig, RunParam, Status};
use scpool_image::Store;

fn marker_layer() -> Vec<u8> {
    Layer::new()
        .dir("etc/", 0o755)
        .file("etc/marker", b"from the image\n", 0o644)
        .finish()
}

fn cat_marker(container: &mut Container) -> (Status, Vec<u8>) {
    let mut param = RunParam::new(["/bin/busybox", "cat", "/etc/marker"]);
    param.limits.wall_time = Some(std::time::Duration::from_secs(10));
    let result = container.run(&param).expect("a run");
    (result.status, result.stdout)
}

#[test]
fn layers_a_container_runs_on_outlive_rm_until_it_is_gone() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: the layers' files belong to root, which only a root host maps");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let archive = dir.path().join("bb.tar");
    std::fs::write(
        &archive,
        docker_archive(&["bb:1"], &[busybox_layer(), marker_layer()]),
    )
    .unwrap();
    store.import(&archive, None).unwrap();
    let layers_left = || {
        std::fs::read_dir(store.root().join("layers"))
            .unwrap()
            .count()
    };
    assert_eq!(layers_left(), 2);

    let mut config = ContainerConfig::default();
    config.mounts.clear();
    config.image_layers = store.resolve("bb:1").unwrap().layers;
    let mut container = Container::new(&config).unwrap();
    assert_eq!(
        cat_marker(&mut container),
        (Status::Ok, b"from the image\n".to_vec())
    );

    let collected = store.remove("bb:1").unwrap();
    assert_eq!((collected.layers, collected.layers_in_use), (0, 2));
    assert!(store.list().unwrap().is_empty());
    // The container goes on reading its image, reset included.
    container.reset().unwrap();
    assert_eq!(
        cat_marker(&mut container),
        (Status::Ok, b"from the image\n".to_vec())
    );

    drop(container);
    let collected = store.collect().unwrap();
    assert_eq!((collected.layers, collected.layers_in_use), (2, 0));
    assert_eq!(layers_left(), 0);
}
