//! Pulling an image from an OCI distribution registry into the store. The store
//! (scpool-image) has no network code: this module fetches, and hands the
//! content to the store as an OCI layout served from the registry, so every
//! manifest, config and layer is checked against its digest as it streams in.

mod auth;
mod reference;
mod registry;
mod source;

pub use reference::PullReference;
pub use registry::{PullError, Registry};

use scpool_image::Store;

/// Pulls `reference`, names it `name` (default: the reference itself), and
/// returns the name given.
pub fn pull(
    store: &Store,
    reference: &PullReference,
    name: Option<&str>,
    insecure: bool,
) -> Result<String, PullError> {
    let registry = Registry::new(reference, insecure)?;
    let top = registry.top_manifest(&reference.tag)?;
    let source = source::RegistrySource::new(&registry, top, &reference.to_string());
    let name = name.map_or_else(|| reference.to_string(), ToOwned::to_owned);
    let names = store
        .import_layout(&source, Some(&name))
        .map_err(PullError::Store)?;
    Ok(names.first().map_or(name, ToString::to_string))
}
