//! Image files played as a camera: every file in a directory (PNG, JPEG, WebP), in name order,
//! one per frame, over and over, at a fixed frame rate. The directory is read again for every
//! frame, so what the "camera" sees changes when files are added or removed: a test holds a
//! ticket up to the camera by writing its picture into the directory. An empty directory is
//! a grey frame (a camera pointed at nothing).

use super::{Frame, FrameSource, Opener, Pixels, SourceError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Opens `dir` as a camera delivering one frame every `interval`.
pub fn opener(dir: PathBuf, interval: Duration) -> Opener {
    Box::new(move || {
        if !dir.is_dir() {
            return Err(SourceError::NotFound);
        }
        Ok(Box::new(Replay {
            dir: dir.clone(),
            interval,
            next: 0,
            due: Instant::now(),
            cache: HashMap::new(),
        }))
    })
}

struct Replay {
    dir: PathBuf,
    interval: Duration,
    next: usize,
    due: Instant,
    /// Decoded files by path and modification time (decoding a PNG per frame would be the
    /// bottleneck of a test, not the pipeline).
    cache: HashMap<PathBuf, (SystemTime, Frame)>,
}

impl FrameSource for Replay {
    fn next_frame(&mut self) -> Result<Frame, SourceError> {
        std::thread::sleep(self.due.saturating_duration_since(Instant::now()));
        self.due = Instant::now() + self.interval;
        let files = images(&self.dir).map_err(|e| SourceError::Failed(e.to_string()))?;
        let Some(path) = files.get(self.next % files.len().max(1)) else {
            return Ok(Frame { width: 640, height: 360, pixels: Pixels::Luma(vec![128; 640 * 360]) });
        };
        self.next = self.next.wrapping_add(1);
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some((at, frame)) = self.cache.get(path)
            && *at == modified
        {
            return Ok(frame.clone());
        }
        let image = image::open(path).map_err(|e| SourceError::Failed(format!("{}: {e}", path.display())))?;
        let frame = Frame {
            width: image.width(),
            height: image.height(),
            pixels: Pixels::Rgb(image.into_rgb8().into_raw()),
        };
        self.cache.insert(path.clone(), (modified, frame.clone()));
        Ok(frame)
    }
}

fn images(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            ["png", "jpg", "jpeg", "webp"].contains(&ext.as_str())
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_the_files_in_name_order_and_sees_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let save = |name: &str, level: u8| {
            image::GrayImage::from_pixel(8, 4, image::Luma([level])).save(dir.path().join(name)).unwrap();
        };
        save("b.png", 200);
        save("a.png", 100);
        let mut source = opener(dir.path().into(), Duration::ZERO)().ok().unwrap();
        let mut level = || source.next_frame().unwrap().luma().unwrap().get_pixel(0, 0).0[0];
        assert_eq!([level(), level(), level()], [100, 200, 100]);
        save("c.png", 50);
        assert_eq!([level(), level(), level()], [100, 200, 50]);
    }

    #[test]
    fn an_empty_directory_is_a_grey_frame_and_a_missing_one_no_camera() {
        let dir = tempfile::tempdir().unwrap();
        let mut source = opener(dir.path().into(), Duration::ZERO)().ok().unwrap();
        assert_eq!(source.next_frame().unwrap().luma().unwrap().dimensions(), (640, 360));
        assert_eq!(opener(dir.path().join("nope"), Duration::ZERO)().err(), Some(SourceError::NotFound));
    }
}
