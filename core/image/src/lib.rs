//! scpool's image store.
//!
//! Images are kept as content-addressed blobs (checked by sha256), each layer
//! unpacked once into a directory that every container on the image shares as an
//! overlayfs lower layer, and names `NAME:TAG` pointing at manifests. Several
//! processes may use one store at once: they coordinate with file locks, and
//! every file is written aside and renamed into place, so an interrupted import
//! never leaves a half image listed.
//!
//! ```no_run
//! let store = scpool_image::Store::open_default()?;
//! store.import("busybox.tar".as_ref(), Some("busybox:1"))?;
//! let image = store.resolve("busybox:1")?;
//! // image.layers: the unpacked layers, lowest first (`ContainerConfig::image_layers`).
//! # Ok::<(), scpool_image::Error>(())
//! ```
//!
//! This crate does no networking: pulling from a registry is the CLI's.

mod digest;
mod error;
mod import;
mod lock;
pub mod manifest;
mod reference;
mod save;
mod store;
pub mod unpack;

pub use digest::{Digest, Hashing};
pub use error::{Error, Result};
pub use import::source::Source;
pub use import::Format;
pub use reference::Reference;
pub use store::{Collected, ImageInfo, ImageLayers, Store, STORE_ENV};
