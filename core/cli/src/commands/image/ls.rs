//! `scpool image ls [--json]`.

use super::image_error;
use crate::error::CliError;
use clap::Args;
use scpool_image::Store;

/// List the images in the store
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LsArgs {
    /// Print one JSON array: [{"name","manifest","layers","size","created"}]
    /// (size in bytes of the stored layers, created in seconds since the epoch)
    #[arg(long)]
    pub json: bool,
}

pub fn run(store: &Store, args: &LsArgs) -> Result<u8, CliError> {
    let images = store.list().map_err(|e| image_error("listing images", e))?;
    if args.json {
        let line = serde_json::to_string(&images)
            .map_err(|e| CliError::runtime(format!("writing JSON: {e}")))?;
        println!("{line}");
        return Ok(0);
    }
    println!("{:<40} {:<19} {:>6} {:>10}", "NAME", "ID", "LAYERS", "SIZE");
    for image in images {
        let id = &image.manifest.hex()[..12];
        println!(
            "{:<40} sha256:{id} {:>6} {:>10}",
            image.name,
            image.layers,
            human_size(image.size)
        );
    }
    Ok(0)
}

/// 1536 -> "1.5K": powers of 1024, as `--memory-limit` reads them.
fn human_size(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["B", "K", "M", "G"] {
        if value < 1024.0 {
            return if unit == "B" {
                format!("{bytes}B")
            } else {
                format!("{value:.1}{unit}")
            };
        }
        value /= 1024.0;
    }
    format!("{value:.1}T")
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_in_powers_of_1024() {
        assert_eq!(super::human_size(512), "512B");
        assert_eq!(super::human_size(1536), "1.5K");
        assert_eq!(super::human_size(5 << 20), "5.0M");
    }
}
