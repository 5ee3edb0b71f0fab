//! A camera frame as a capture backend delivers it, and the two things the scanner makes of
//! it: the grey image the decoder reads and the JPEG the preview shows.

use image::{GrayImage, ImageFormat, RgbImage};
use std::io::Cursor;

/// Pixels in the layout the source produced them; converted only when needed (most frames
/// are only ever decoded, and a webcam's MJPEG goes to the preview untouched).
#[derive(Clone, Debug)]
pub enum Pixels {
    /// A JPEG image (a webcam's MJPEG stream).
    Jpeg(Vec<u8>),
    /// Packed YUYV 4:2:2: Y0 U Y1 V for each pair of pixels.
    Yuyv(Vec<u8>),
    /// One byte per pixel, grey.
    Luma(Vec<u8>),
    /// Three bytes per pixel, R G B.
    Rgb(Vec<u8>),
}

/// One frame.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The pixels, `width` × `height` of them.
    pub pixels: Pixels,
}

/// A frame that cannot be used (a corrupt JPEG, a buffer of the wrong size): skipped.
#[derive(Debug, thiserror::Error)]
#[error("unusable camera frame: {0}")]
pub struct FrameError(String);

impl Frame {
    /// The grey image the decoder reads.
    pub fn luma(&self) -> Result<GrayImage, FrameError> {
        let (w, h) = (self.width, self.height);
        let pixels = usize::try_from(u64::from(w) * u64::from(h)).map_err(|e| FrameError(e.to_string()))?;
        let sized = |buffer: Vec<u8>| GrayImage::from_raw(w, h, buffer).ok_or_else(|| wrong_size(w, h));
        match &self.pixels {
            Pixels::Jpeg(bytes) => Ok(image::load_from_memory_with_format(bytes, ImageFormat::Jpeg)
                .map_err(|e| FrameError(e.to_string()))?
                .into_luma8()),
            // The Y samples are every other byte: the grey image without any arithmetic.
            Pixels::Yuyv(bytes) if bytes.len() >= 2 * pixels => {
                sized(bytes.iter().step_by(2).take(pixels).copied().collect())
            }
            Pixels::Luma(bytes) if bytes.len() >= pixels => sized(bytes[..pixels].to_vec()),
            Pixels::Rgb(_) => Ok(image::DynamicImage::ImageRgb8(self.rgb()?).into_luma8()),
            Pixels::Yuyv(_) | Pixels::Luma(_) => Err(wrong_size(w, h)),
        }
    }

    /// The frame as a JPEG at most `max_width` pixels wide, for the preview. A JPEG frame is
    /// passed through as it is (the cheapest preview there is).
    pub fn preview_jpeg(&self, max_width: u32) -> Result<Vec<u8>, FrameError> {
        let image = match &self.pixels {
            Pixels::Jpeg(bytes) => return Ok(bytes.clone()),
            Pixels::Luma(_) => image::DynamicImage::ImageLuma8(self.luma()?),
            Pixels::Yuyv(_) | Pixels::Rgb(_) => image::DynamicImage::ImageRgb8(self.rgb()?),
        };
        let image = if image.width() > max_width {
            let height = image.height() * max_width / image.width();
            image.thumbnail(max_width, height.max(1))
        } else {
            image
        };
        let mut out = Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
            .encode_image(&image)
            .map_err(|e| FrameError(e.to_string()))?;
        Ok(out.into_inner())
    }

    fn rgb(&self) -> Result<RgbImage, FrameError> {
        let (w, h) = (self.width, self.height);
        let rgb = match &self.pixels {
            Pixels::Rgb(bytes) => bytes.clone(),
            Pixels::Yuyv(bytes) => yuyv_to_rgb(bytes),
            Pixels::Jpeg(_) | Pixels::Luma(_) => return Err(FrameError("not a colour frame".into())),
        };
        RgbImage::from_raw(w, h, rgb).ok_or_else(|| wrong_size(w, h))
    }
}

fn wrong_size(w: u32, h: u32) -> FrameError {
    FrameError(format!("the buffer does not hold {w}×{h} pixels"))
}

/// YUYV 4:2:2 → RGB with the BT.601 integer formulas. Written here rather than taken from
/// nokhwa (whose converter exists only with the camera feature on) because the preview of any
/// YUYV source needs it and it is six lines of arithmetic.
fn yuyv_to_rgb(yuyv: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(yuyv.len() / 2 * 3);
    for quad in yuyv.chunks_exact(4) {
        let (u, v) = (i32::from(quad[1]) - 128, i32::from(quad[3]) - 128);
        for y in [quad[0], quad[2]] {
            let c = 298 * (i32::from(y) - 16);
            for value in [c + 409 * v, c - 100 * u - 208 * v, c + 516 * u] {
                rgb.push(u8::try_from(((value + 128) >> 8).clamp(0, 255)).unwrap_or(u8::MAX));
            }
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(width: u32, height: u32, level: u8) -> Frame {
        Frame { width, height, pixels: Pixels::Luma(vec![level; (width * height) as usize]) }
    }

    #[test]
    fn yuyv_gives_its_y_samples_as_the_grey_image() {
        let frame = Frame { width: 2, height: 1, pixels: Pixels::Yuyv(vec![10, 128, 200, 128]) };
        assert_eq!(frame.luma().unwrap().into_raw(), vec![10, 200]);
    }

    #[test]
    fn yuyv_white_and_black_stay_white_and_black_in_colour() {
        let frame = Frame { width: 2, height: 1, pixels: Pixels::Yuyv(vec![235, 128, 16, 128]) };
        assert_eq!(frame.rgb().unwrap().into_raw(), vec![255, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn a_jpeg_frame_is_previewed_as_it_is_and_decoded_to_grey() {
        let jpeg = grey(64, 48, 90).preview_jpeg(640).unwrap();
        let frame = Frame { width: 64, height: 48, pixels: Pixels::Jpeg(jpeg.clone()) };
        assert_eq!(frame.preview_jpeg(640).unwrap(), jpeg);
        let luma = frame.luma().unwrap();
        assert_eq!(luma.dimensions(), (64, 48));
        assert!(luma.pixels().all(|p| p.0[0].abs_diff(90) <= 2));
    }

    #[test]
    fn the_preview_is_scaled_down_to_the_width_asked() {
        let jpeg = grey(1280, 720, 128).preview_jpeg(640).unwrap();
        let preview = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((preview.width(), preview.height()), (640, 360));
    }

    #[test]
    fn broken_frames_are_errors_not_panics() {
        let short = Frame { width: 100, height: 100, pixels: Pixels::Luma(vec![0; 10]) };
        assert!(short.luma().is_err());
        let corrupt = Frame { width: 10, height: 10, pixels: Pixels::Jpeg(vec![0xFF, 0xD8, 1, 2, 3]) };
        assert!(corrupt.luma().is_err());
        let odd = Frame { width: 3, height: 1, pixels: Pixels::Yuyv(vec![0; 4]) };
        assert!(odd.luma().is_err() && odd.preview_jpeg(640).is_err());
    }
}
