//! The camera: frames in, codes out, a live preview beside.
//!
//! ```text
//!  capture thread ──frame──▶ mailbox (one slot) ──▶ decode thread ──▶ debounce ──▶ on_code(text)
//!        │                                                      (decode.rs)   (once per showing)
//!        └──every ~80 ms──▶ preview JPEG ◀── the web view's <img> (camera:// protocol)
//! ```
//!
//! The capture thread never waits for the decoder: a new frame replaces an undecoded one in
//! the mailbox (counted as dropped), so a slow decode costs decoded frames, never preview
//! frames. Nothing here runs on the UI thread. A camera that is missing, unplugged or broken
//! is retried every few seconds and shown to staff as one plain line, never as an error
//! dialog: the hardware scanner and typed codes keep working without it.
//!
//! Sources: [`device`] (a real camera through nokhwa, with the `camera` feature) and
//! [`replay`] (image files from a directory, played as a camera: how the tests and demos
//! exercise this whole path on machines without a camera).

pub mod debounce;
#[cfg(feature = "camera")]
pub mod device;
pub mod frame;
pub mod pipeline;
pub mod replay;

pub use frame::{Frame, Pixels};
pub use pipeline::{Camera, CameraStatus, Preview};

use std::path::PathBuf;
use std::time::Duration;

/// Where frames come from; lives on the capture thread (camera handles are often not `Send`).
pub trait FrameSource {
    /// The next frame, waiting for it as long as the camera takes.
    fn next_frame(&mut self) -> Result<Frame, SourceError>;
}

/// Why there are no frames, in words staff can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// No camera is attached (or the replay directory does not exist).
    #[error("No camera found. Use the hand scanner or type the code.")]
    NotFound,
    /// The camera is there but does not deliver (busy, unplugged, refused a format).
    #[error("The camera stopped working ({0}). Trying again…")]
    Failed(String),
}

/// Opens the source, on the capture thread; called again after the source fails.
pub type Opener = Box<dyn Fn() -> Result<Box<dyn FrameSource>, SourceError> + Send>;

/// The environment variable that chooses the camera: unset for the first camera, `off` for
/// none, a number for another camera, `replay:DIR` to play the images in DIR as a camera.
pub const CAMERA_ENV: &str = "VOELGOED_SCANNER_CAMERA";

/// What [`CAMERA_ENV`] asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// No camera.
    Off,
    /// The camera with this number (0: the first).
    Device(u32),
    /// The images in this directory, played as a camera.
    Replay(PathBuf),
}

impl Choice {
    /// Parses the setting; `None` (unset) is the first camera.
    pub fn parse(setting: Option<&str>) -> Result<Self, String> {
        match setting.map(str::trim) {
            None | Some("") => Ok(Self::Device(0)),
            Some("off") => Ok(Self::Off),
            Some(s) if s.starts_with("replay:") => Ok(Self::Replay(PathBuf::from(&s["replay:".len()..]))),
            Some(s) => s.parse().map(Self::Device).map_err(|_| {
                format!("{CAMERA_ENV}={s} is not understood: use off, a camera number or replay:DIR")
            }),
        }
    }

    /// The opener for this choice; `None` when there is to be no camera (also when the app was
    /// built without the `camera` feature and a device is asked for).
    pub fn opener(self) -> Option<Opener> {
        match self {
            Self::Off => None,
            Self::Replay(dir) => Some(replay::opener(dir, Duration::from_millis(66))),
            #[cfg(feature = "camera")]
            Self::Device(index) => Some(device::opener(index)),
            #[cfg(not(feature = "camera"))]
            Self::Device(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_setting_is_parsed_or_refused_in_words() {
        assert_eq!(Choice::parse(None), Ok(Choice::Device(0)));
        assert_eq!(Choice::parse(Some("off")), Ok(Choice::Off));
        assert_eq!(Choice::parse(Some("2")), Ok(Choice::Device(2)));
        assert_eq!(Choice::parse(Some("replay:/tmp/frames")), Ok(Choice::Replay("/tmp/frames".into())));
        assert!(Choice::parse(Some("front")).unwrap_err().contains("not understood"));
    }
}
