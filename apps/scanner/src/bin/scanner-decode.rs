//! `scanner-decode FILE...` — reads QR codes from image files (PNG, JPEG, WebP) with the app's
//! own decoder pipeline and prints one JSON line per file:
//! `{"file": …, "text": … or null, "decoder": … or null, "ms": …}`.
//!
//! The file name is printed as given and the text exactly as decoded. It exits 0 once every
//! file has been tried, whatever was read: it is how the decoder is measured, not a check.
//! A file that cannot be opened reads as nothing, with an `"error"` saying why.

use scanner_app::decode::Decoder;
use std::io::Write;
use std::time::Instant;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: scanner-decode FILE...   (PNG, JPEG or WebP images)");
        std::process::exit(2);
    }
    let decoder = Decoder::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in files {
        let line = match image::open(&file) {
            Ok(img) => {
                let frame = img.to_luma8();
                let started = Instant::now();
                let decoded = decoder.decode(&frame);
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                serde_json::json!({
                    "file": file,
                    "text": decoded.as_ref().map(|d| d.text.as_str()),
                    "decoder": decoded.as_ref().map(|d| d.decoder),
                    "ms": (ms * 1000.0).round() / 1000.0,
                })
            }
            Err(e) => serde_json::json!({
                "file": file, "text": null, "decoder": null, "ms": 0.0, "error": e.to_string(),
            }),
        };
        // A closed pipe (`| head`) ends the run quietly.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
}
