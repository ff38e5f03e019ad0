//! `cargo xtask bench`: what a customer's browser downloads for the widget.

use crate::root;
use std::io::Write;

fn gzip(bytes: &[u8]) -> Result<usize, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(encoder.finish().map_err(|e| e.to_string())?.len())
}

fn brotli(bytes: &[u8]) -> Result<usize, String> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out.len())
}

pub fn print_sizes() -> Result<(), String> {
    let dist = root().join("dist");
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    println!(
        "{:<48} {:>10} {:>10} {:>10}",
        "widget file", "raw", "gzip -9", "brotli 11"
    );
    let mut totals = (0, 0, 0);
    for path in files {
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let (raw, gz, br) = (bytes.len(), gzip(&bytes)?, brotli(&bytes)?);
        totals = (totals.0 + raw, totals.1 + gz, totals.2 + br);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        println!("{name:<48} {raw:>10} {gz:>10} {br:>10}");
    }
    println!(
        "{:<48} {:>10} {:>10} {:>10}",
        "total", totals.0, totals.1, totals.2
    );
    Ok(())
}
