//! Times unpacking one layer: `cargo run --release -p scpool-image --example
//! unpack_time -- LAYER.tar[.gz|.zst] EMPTY_DIR`, to set against `tar -xf` on the
//! same disk.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, layer, dest] = args.as_slice() else {
        eprintln!("usage: unpack_time LAYER DIR");
        std::process::exit(2);
    };
    let file = std::fs::File::open(layer).expect("opening the layer");
    let start = std::time::Instant::now();
    let unpacked = scpool_image::unpack::unpack(file, dest.as_ref(), layer).expect("unpacking");
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} entries, {} MB uncompressed in {seconds:.3} s ({:.0} MB/s), diff id {}",
        unpacked.entries,
        unpacked.tar_size >> 20,
        (unpacked.tar_size >> 20) as f64 / seconds,
        unpacked.diff_id
    );
}
