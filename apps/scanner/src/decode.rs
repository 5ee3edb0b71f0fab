//! Frames → QR text: two decoders and a few cheap pre-processing steps, tried in order until
//! one reads the code.
//!
//! Why both (measured in the brief on 137 real photos and on synthetic frames): rxing (the
//! ZXing port) reads far more real photos and is faster on clean frames; rqrr survives heavy
//! noise where rxing fails. Averaging 2×2 pixels before decoding rescued every noisy
//! 1280×720 frame; ZXing misses light-on-dark codes that inverting the frame recovers.
//!
//! rqrr panics on some images, and a decoder of camera frames must never take the app down:
//! every attempt runs under `catch_unwind`; a panic counts as "not read" and is counted.

use image::GrayImage;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

/// What was read, and by which step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The code's text, exactly as decoded.
    pub text: String,
    /// The step that read it ("rxing", "rqrr", "rxing-half", "rqrr-half", "rxing-inverted").
    pub decoder: &'static str,
}

/// One way of reading a frame.
pub type Step = (&'static str, fn(&GrayImage) -> Option<String>);

/// The pipeline, cheapest and most likely first (see docs/benchmarks.md for what each step
/// reads in the corpus). rxing costs 1–3 ms on a 1280×720 frame, rqrr 7–14 ms, so every cheap
/// rescue by rxing comes before rqrr.
pub const STEPS: [Step; 8] = [
    ("rxing", rxing_read),
    ("rxing-stretched", |f| stretched(f).and_then(|s| rxing_read(&s))),
    ("rxing-inverted", |f| rxing_read(&inverted(f))),
    ("rxing-half", |f| rxing_read(&half(f))),
    ("rqrr-half", |f| rqrr_read(&half(f))),
    ("rqrr", rqrr_read),
    ("rxing-sharpened", |f| rxing_read(&sharpened(f))),
    ("rxing-thresholded", |f| rxing_read(&thresholded(f))),
];

/// A decoder of camera frames that counts the panics it contained.
pub struct Decoder {
    steps: Vec<Step>,
    panics: AtomicU64,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::with_steps(STEPS.to_vec())
    }
}

impl Decoder {
    /// A decoder trying `steps` in order (tests inject their own).
    pub fn with_steps(steps: Vec<Step>) -> Self {
        Self { steps, panics: AtomicU64::new(0) }
    }

    /// Reads the first QR code any step finds in `frame`.
    pub fn decode(&self, frame: &GrayImage) -> Option<Decoded> {
        for &(name, step) in &self.steps {
            match catch_unwind(AssertUnwindSafe(|| step(frame))) {
                Ok(Some(text)) => return Some(Decoded { text, decoder: name }),
                Ok(None) => {}
                Err(_) => {
                    self.panics.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(decoder = name, "a decoder panicked on a frame; the frame is skipped");
                }
            }
        }
        None
    }

    /// How many decoder panics were contained so far.
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }
}

fn rxing_read(frame: &GrayImage) -> Option<String> {
    let (width, height) = frame.dimensions();
    rxing::helpers::detect_in_luma_slice(frame.as_raw(), width, height, Some(rxing::BarcodeFormat::QR_CODE))
        .ok()
        .map(|r| r.getText().to_owned())
}

fn rqrr_read(frame: &GrayImage) -> Option<String> {
    let mut prepared = rqrr::PreparedImage::prepare(frame.clone());
    prepared.detect_grids().iter().find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// The frame at half size, each pixel the mean of a 2×2 block (smooths sensor noise).
fn half(frame: &GrayImage) -> GrayImage {
    let (w, h) = (frame.width() / 2, frame.height() / 2);
    GrayImage::from_fn(w.max(1), h.max(1), |x, y| {
        let p = |dx: u32, dy: u32| {
            u16::from(
                frame.get_pixel((2 * x + dx).min(frame.width() - 1), (2 * y + dy).min(frame.height() - 1)).0
                    [0],
            )
        };
        let sum = p(0, 0) + p(1, 0) + p(0, 1) + p(1, 1);
        image::Luma([u8::try_from(sum / 4).unwrap_or(u8::MAX)])
    })
}

/// The frame with its grey levels stretched to the full range (a washed-out or dim frame);
/// `None` when it already spans most of the range (the plain step saw the same thing).
fn stretched(frame: &GrayImage) -> Option<GrayImage> {
    // The 1st and 99th percentiles, so a few specks do not fix the range.
    let mut histogram = [0u32; 256];
    for p in frame.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    let total: u32 = histogram.iter().sum();
    let level = |fraction: u32| {
        let mut seen = 0;
        histogram.iter().position(|&n| {
            seen += n;
            seen * 100 >= total * fraction
        })
    };
    let (lo, hi) = (level(1)?, level(99)?);
    if hi <= lo || hi - lo > 180 {
        return None;
    }
    let (lo, span) = (u32::try_from(lo).ok()?, u32::try_from(hi - lo).ok()?);
    let mut out = frame.clone();
    for p in out.pixels_mut() {
        let v = u32::from(p.0[0]).saturating_sub(lo) * 255 / span;
        p.0[0] = u8::try_from(v.min(255)).unwrap_or(u8::MAX);
    }
    Some(out)
}

/// An unsharp mask (frame + 1.5 × (frame − blurred)): restores the edges of a code
/// photographed slightly out of focus.
fn sharpened(frame: &GrayImage) -> GrayImage {
    let blurred = image::imageops::blur(frame, 2.0);
    let mut out = frame.clone();
    for (p, b) in out.pixels_mut().zip(blurred.pixels()) {
        let v = i32::from(p.0[0]) + (3 * (i32::from(p.0[0]) - i32::from(b.0[0]))) / 2;
        p.0[0] = u8::try_from(v.clamp(0, 255)).unwrap_or(u8::MAX);
    }
    out
}

/// Each pixel black or white against the mean of its 7×7 neighbourhood. A small code blurred
/// until its modules run into each other keeps its pattern this way, where rxing's own
/// binarizer (thresholds per 8×8 block, flat blocks borrowed from their neighbours) loses it.
/// Measured on the corpus frames every earlier step missed (all blurred, 3 px per module):
/// this read 6 of 8; a 15×15 window read 1, a strong unsharp mask 3–6, rqrr on either 0.
fn thresholded(frame: &GrayImage) -> GrayImage {
    imageproc::contrast::adaptive_threshold(frame, 3, 0)
}

/// Light and dark swapped (a light code on a dark screen).
fn inverted(frame: &GrayImage) -> GrayImage {
    let mut out = frame.clone();
    image::imageops::invert(&mut out);
    out
}

/// `text` as a QR code (ECC level M, as tickets are printed), `scale` pixels per module, with
/// the standard 4-module quiet zone, dark on light: the clean frame the tests and the decoding
/// corpus start from.
pub fn render(text: &str, scale: u32) -> GrayImage {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) else {
        return GrayImage::from_pixel(1, 1, image::Luma([255]));
    };
    let modules = u32::try_from(code.width()).unwrap_or(0);
    let colors = code.to_colors();
    let side = (modules + 8) * scale;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
        let dark =
            mx < modules && my < modules && colors[(my * modules + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "VG1:6BFOXN*TS0BI$ZD4N9:9S6RCVSDU+94E";

    #[test]
    fn reads_a_clean_code_with_the_first_decoder() {
        let decoded = Decoder::default().decode(&render(TICKET, 6)).unwrap();
        assert_eq!(decoded, Decoded { text: TICKET.into(), decoder: "rxing" });
    }

    #[test]
    fn reads_a_light_code_on_a_dark_screen() {
        let decoded = Decoder::default().decode(&inverted(&render(TICKET, 6))).unwrap();
        assert_eq!(decoded.text, TICKET);
    }

    #[test]
    fn a_panicking_decoder_is_contained_counted_and_the_next_one_reads() {
        let decoder = Decoder::with_steps(vec![("boom", |_| panic!("decoder bug")), ("rqrr", rqrr_read)]);
        let decoded = decoder.decode(&render(TICKET, 6)).unwrap();
        assert_eq!((decoded.decoder, decoder.panics()), ("rqrr", 1));
    }

    #[test]
    fn a_frame_without_a_code_reads_nothing() {
        let blank = GrayImage::from_pixel(640, 360, image::Luma([128]));
        assert_eq!(Decoder::default().decode(&blank), None);
    }
}
