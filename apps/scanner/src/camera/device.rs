//! A real camera through nokhwa (V4L2 on Linux, AVFoundation on macOS, Media Foundation on
//! Windows). Frames are taken raw and converted by [`super::frame`] only as far as needed:
//! nokhwa's own decoding (and its C JPEG library) is left out.

use super::{Frame, FrameSource, Opener, Pixels, SourceError};
use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

/// Opens camera number `index`, asking for 1280×720 at 30 frames a second (a webcam's usual
/// MJPEG mode: sharp enough for a ticket at arm's length, cheap to preview).
pub fn opener(index: u32) -> Opener {
    Box::new(move || {
        let cameras = nokhwa::query(ApiBackend::Auto).map_err(|e| SourceError::Failed(e.to_string()))?;
        if cameras.is_empty() {
            return Err(SourceError::NotFound);
        }
        let wanted = CameraFormat::new(Resolution::new(1280, 720), FrameFormat::MJPEG, 30);
        let mut camera = Camera::new(
            CameraIndex::Index(index),
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted)),
        )
        .or_else(|_| {
            Camera::new(
                CameraIndex::Index(index),
                RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate),
            )
        })
        .map_err(|e| SourceError::Failed(e.to_string()))?;
        camera.open_stream().map_err(|e| SourceError::Failed(e.to_string()))?;
        Ok(Box::new(Device(camera)) as Box<dyn FrameSource>)
    })
}

struct Device(Camera);

impl FrameSource for Device {
    fn next_frame(&mut self) -> Result<Frame, SourceError> {
        let buffer = self.0.frame().map_err(|e| SourceError::Failed(e.to_string()))?;
        let (width, height) = (buffer.resolution().width(), buffer.resolution().height());
        let bytes = buffer.buffer().to_vec();
        let pixels = match buffer.source_frame_format() {
            FrameFormat::MJPEG => Pixels::Jpeg(bytes),
            FrameFormat::YUYV => Pixels::Yuyv(bytes),
            // NV12 starts with the full-size Y plane: the grey image as it is.
            FrameFormat::GRAY | FrameFormat::NV12 => Pixels::Luma(bytes),
            FrameFormat::RAWRGB => Pixels::Rgb(bytes),
            FrameFormat::RAWBGR => {
                Pixels::Rgb(bytes.chunks_exact(3).flat_map(|p| [p[2], p[1], p[0]]).collect())
            }
        };
        Ok(Frame { width, height, pixels })
    }
}
