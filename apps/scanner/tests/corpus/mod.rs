//! The decoding corpus: ticket QR codes rendered at several sizes into 1280×720 camera-sized
//! frames and put through what a gate camera sees — blur, sensor noise, rotation, perspective,
//! low contrast, over- and under-exposure, a phone screen's moiré, light-on-dark. Generated,
//! deterministic (seeded), shared by the test that holds the read rate and the benchmark that
//! measures it (`cargo bench -p scanner --bench decode_corpus`).

// Each includer uses part of it; pixel coordinates are small enough for f32.
#![allow(dead_code, unreachable_pub, clippy::cast_precision_loss)]

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, rotate_about_center, warp};

/// Frame size: a 720p camera.
pub const WIDTH: u32 = 1280;
/// Frame height.
pub const HEIGHT: u32 = 720;
/// Pixels per QR module at which codes are rendered (a code 10–25 % of the frame's height).
pub const SCALES: [u32; 3] = [3, 4, 6];

/// A small deterministic generator (xorshift64*): corpus positions and seeds only.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        #[allow(clippy::cast_precision_loss)]
        let unit = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
        lo + unit * (hi - lo)
    }
}

/// One frame of the corpus.
pub struct Frame {
    pub condition: &'static str,
    pub image: GrayImage,
}

type Distortion = fn(GrayImage, &mut Rng) -> GrayImage;

fn map(mut img: GrayImage, f: impl Fn(f32) -> f32) -> GrayImage {
    for p in img.pixels_mut() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = f(f32::from(p.0[0])).clamp(0.0, 255.0) as u8;
        p.0[0] = v;
    }
    img
}

/// The conditions, each a distortion of a clean frame.
pub const CONDITIONS: [(&str, Distortion); 11] = [
    ("clean", |img, _| img),
    ("blur", |img, rng| imageproc::filter::gaussian_blur_f32(&img, rng.range(1.0, 2.0))),
    ("noise", |img, rng| {
        imageproc::noise::gaussian_noise(&img, 0.0, f64::from(rng.range(20.0, 40.0)), rng.next())
    }),
    ("rotation", |img, rng| {
        let theta = rng.range(-0.8, 0.8);
        rotate_about_center(&img, theta, Interpolation::Bilinear, Border::Constant(Luma([225])))
    }),
    ("perspective", |img, rng| {
        let (w, h) = (WIDTH as f32, HEIGHT as f32);
        let k = rng.range(0.08, 0.16);
        let from = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
        let to = [(w * k, h * k * 0.5), (w * (1.0 - k * 0.3), 0.0), (w, h), (w * k * 0.6, h * (1.0 - k))];
        let projection = Projection::from_control_points(from, to).expect("a projection");
        warp(&img, projection, Interpolation::Bilinear, Border::Constant(Luma([225])))
    }),
    ("low-contrast", |img, _| map(img, |v| 110.0 + v * (60.0 / 255.0))),
    ("overexposed", |img, _| map(img, |v| 175.0 + v * (80.0 / 255.0))),
    ("underexposed", |img, _| map(img, |v| v * (60.0 / 255.0))),
    ("moire", |img, rng| {
        // A phone screen photographed: a fine interference pattern across the code.
        let (period, angle) = (rng.range(2.5, 4.0), rng.range(0.2, 1.2));
        let (c, s) = (angle.cos(), angle.sin());
        let mut out = img;
        for (x, y, p) in out.enumerate_pixels_mut() {
            #[allow(clippy::cast_precision_loss)]
            let phase = (x as f32 * c + y as f32 * s) / period * std::f32::consts::TAU;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let v =
                (f32::from(p.0[0]) * (0.8 + 0.2 * phase.sin()) + 20.0 * phase.cos()).clamp(0.0, 255.0) as u8;
            p.0[0] = v;
        }
        out
    }),
    ("inverted", |mut img, _| {
        image::imageops::invert(&mut img);
        img
    }),
    ("blur+noise", |img, rng| {
        let blurred = imageproc::filter::gaussian_blur_f32(&img, rng.range(0.8, 1.4));
        imageproc::noise::gaussian_noise(&blurred, 0.0, f64::from(rng.range(15.0, 25.0)), rng.next())
    }),
];

/// A clean 1280×720 frame with `text`'s code at `scale` px per module, somewhere near the
/// middle, on a light grey background.
pub fn clean_frame(text: &str, scale: u32, rng: &mut Rng) -> GrayImage {
    let code = scanner_app::decode::render(text, scale);
    let mut frame = GrayImage::from_pixel(WIDTH, HEIGHT, Luma([225]));
    let free_x = WIDTH.saturating_sub(code.width());
    let free_y = HEIGHT.saturating_sub(code.height());
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let (x, y) =
        ((rng.range(0.25, 0.75) * free_x as f32) as i64, (rng.range(0.25, 0.75) * free_y as f32) as i64);
    image::imageops::overlay(&mut frame, &code, x, y);
    frame
}

/// `per_condition` frames for every condition, cycling through [`SCALES`].
pub fn corpus(text: &str, per_condition: usize, seed: u64) -> Vec<Frame> {
    let mut rng = Rng::new(seed);
    let mut frames = Vec::new();
    for (condition, distort) in CONDITIONS {
        for i in 0..per_condition {
            let clean = clean_frame(text, SCALES[i % SCALES.len()], &mut rng);
            frames.push(Frame { condition, image: distort(clean, &mut rng) });
        }
    }
    frames
}

/// A real ticket's text (the demo festival's weekend pass), as the corpus encodes.
pub fn ticket_text() -> String {
    let (_, key, _) = sync_core::demo::festival();
    key.issue(sync_core::ids::Serial(123_456), sync_core::demo::WEEKEND, None).to_text()
}
