//! The two threads behind the camera and what they share.

use super::debounce::Debounce;
use super::{Frame, Opener, SourceError};
use crate::decode::Decoder;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the camera behaves; [`Settings::default`] is what the app uses.
#[derive(Clone, Debug)]
pub struct Settings {
    /// At most one preview frame this often (the web view shows ~12 frames a second).
    pub preview_every: Duration,
    /// Preview frames are scaled down to this width (a JPEG frame is passed through as is).
    pub preview_width: u32,
    /// A code counts as shown again after it was out of sight this long.
    pub debounce: Duration,
    /// A missing or failed camera is looked for again after this long.
    pub retry_every: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            preview_every: Duration::from_millis(80),
            preview_width: 640,
            debounce: Duration::from_millis(1500),
            retry_every: Duration::from_secs(3),
        }
    }
}

/// The newest preview frame; `seq` grows with every new one.
#[derive(Clone, Debug)]
pub struct Preview {
    /// Counts preview frames from 1.
    pub seq: u64,
    /// The frame, JPEG-encoded.
    pub jpeg: Arc<Vec<u8>>,
}

/// What the screen shows about the camera, and the counts the tests and benchmarks read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CameraStatus {
    /// `off` (none configured), `starting`, `running`, `missing` or `failed`.
    pub state: &'static str,
    /// One line for staff when the state needs one.
    pub message: Option<String>,
    /// Frames captured.
    pub frames: u64,
    /// Frames the decoder looked at.
    pub decoded: u64,
    /// Frames replaced by a newer one before the decoder got to them.
    pub dropped: u64,
    /// Codes handed on (each showing once).
    pub codes: u64,
    /// Frames that could not be used (corrupt, wrong size).
    pub bad_frames: u64,
    /// Decoder panics contained.
    pub panics: u64,
}

#[derive(Default)]
struct Counters {
    frames: AtomicU64,
    decoded: AtomicU64,
    dropped: AtomicU64,
    codes: AtomicU64,
    bad_frames: AtomicU64,
}

struct Shared {
    stop: AtomicBool,
    state: Mutex<(&'static str, Option<String>)>,
    mailbox: Mutex<Option<Frame>>,
    mail: Condvar,
    preview: Mutex<Option<Preview>>,
    counters: Counters,
    decoder: Decoder,
}

/// A running camera (or none: [`Camera::off`]).
pub struct Camera {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind: keep using it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Camera {
    /// No camera: status `off`, no preview, no threads.
    pub fn off() -> Self {
        Self { shared: shared("off", Decoder::default()), threads: Mutex::new(Vec::new()) }
    }

    /// No camera, for a reason staff are shown (status `failed`).
    pub fn refused(message: String) -> Self {
        let camera = Self::off();
        set_state(&camera.shared, "failed", Some(message));
        camera
    }

    /// Starts capturing from `opener` and decoding with `decoder`; `on_code` gets each code
    /// once per showing, on the decode thread.
    pub fn start(
        opener: Opener,
        decoder: Decoder,
        settings: Settings,
        on_code: impl Fn(String) + Send + 'static,
    ) -> std::io::Result<Self> {
        let shared = shared("starting", decoder);
        let capture = {
            let (shared, settings) = (shared.clone(), settings.clone());
            std::thread::Builder::new()
                .name("camera-capture".into())
                .spawn(move || capture(&shared, &opener, &settings))?
        };
        let decode = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("camera-decode".into())
                .spawn(move || decode(&shared, &settings, &on_code))?
        };
        Ok(Self { shared, threads: Mutex::new(vec![capture, decode]) })
    }

    /// The state and the counts.
    pub fn status(&self) -> CameraStatus {
        let (state, message) = lock(&self.shared.state).clone();
        let c = &self.shared.counters;
        CameraStatus {
            state,
            message,
            frames: c.frames.load(Ordering::Relaxed),
            decoded: c.decoded.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            codes: c.codes.load(Ordering::Relaxed),
            bad_frames: c.bad_frames.load(Ordering::Relaxed),
            panics: self.shared.decoder.panics(),
        }
    }

    /// The newest preview frame, if the camera has produced one.
    pub fn preview(&self) -> Option<Preview> {
        lock(&self.shared.preview).clone()
    }

    /// Stops both threads and waits for them (at most one frame's wait).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.mail.notify_all();
        for thread in lock(&self.threads).drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.stop();
    }
}

fn shared(state: &'static str, decoder: Decoder) -> Arc<Shared> {
    Arc::new(Shared {
        stop: AtomicBool::new(false),
        state: Mutex::new((state, None)),
        mailbox: Mutex::new(None),
        mail: Condvar::new(),
        preview: Mutex::new(None),
        counters: Counters::default(),
        decoder,
    })
}

fn set_state(shared: &Shared, state: &'static str, message: Option<String>) {
    *lock(&shared.state) = (state, message);
}

/// Sleeps `total` in short steps so that stopping is never held up by a retry wait.
fn pause(shared: &Shared, total: Duration) {
    let until = Instant::now() + total;
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}

fn capture(shared: &Shared, opener: &Opener, settings: &Settings) {
    let mut last_preview: Option<Instant> = None;
    let mut seq = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        let mut source = match opener() {
            Ok(source) => source,
            Err(error) => {
                let state = if error == SourceError::NotFound { "missing" } else { "failed" };
                set_state(shared, state, Some(error.to_string()));
                pause(shared, settings.retry_every);
                continue;
            }
        };
        set_state(shared, "running", None);
        while !shared.stop.load(Ordering::SeqCst) {
            let frame = match source.next_frame() {
                Ok(frame) => frame,
                Err(error) => {
                    tracing::warn!(%error, "the camera stopped delivering frames");
                    set_state(shared, "failed", Some(error.to_string()));
                    break;
                }
            };
            shared.counters.frames.fetch_add(1, Ordering::Relaxed);
            if last_preview.is_none_or(|at| at.elapsed() >= settings.preview_every) {
                last_preview = Some(Instant::now());
                match frame.preview_jpeg(settings.preview_width) {
                    Ok(jpeg) => {
                        seq += 1;
                        *lock(&shared.preview) = Some(Preview { seq, jpeg: Arc::new(jpeg) });
                    }
                    Err(_) => {
                        shared.counters.bad_frames.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            // Never wait for the decoder: the newest frame replaces one it has not taken yet.
            if lock(&shared.mailbox).replace(frame).is_some() {
                shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            shared.mail.notify_one();
        }
        pause(shared, settings.retry_every);
    }
}

fn decode(shared: &Shared, settings: &Settings, on_code: &dyn Fn(String)) {
    let mut debounce = Debounce::new(settings.debounce);
    loop {
        let frame = {
            let mut mailbox = lock(&shared.mailbox);
            loop {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(frame) = mailbox.take() {
                    break frame;
                }
                mailbox = shared
                    .mail
                    .wait_timeout(mailbox, Duration::from_millis(200))
                    .map_or_else(|poisoned| poisoned.into_inner().0, |(guard, _)| guard);
            }
        };
        let Ok(grey) = frame.luma() else {
            shared.counters.bad_frames.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let read = shared.decoder.decode(&grey);
        shared.counters.decoded.fetch_add(1, Ordering::Relaxed);
        if let Some(read) = read
            && debounce.admit(&read.text, Instant::now())
        {
            shared.counters.codes.fetch_add(1, Ordering::Relaxed);
            on_code(read.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::{FrameSource, Pixels};
    use crate::decode::{STEPS, render};
    use std::sync::mpsc;

    const TICKET: &str = "VG1:6BFOXN*TS0BI$ZD4N9:9S6RCVSDU+94E";

    /// Plays `frame` forever at about 100 frames a second.
    struct Still(Frame);
    impl FrameSource for Still {
        fn next_frame(&mut self) -> Result<Frame, SourceError> {
            std::thread::sleep(Duration::from_millis(10));
            Ok(self.0.clone())
        }
    }

    fn ticket_frame() -> Frame {
        let code = render(TICKET, 6);
        Frame { width: code.width(), height: code.height(), pixels: Pixels::Luma(code.into_raw()) }
    }

    fn settings() -> Settings {
        Settings {
            preview_every: Duration::from_millis(20),
            retry_every: Duration::from_millis(50),
            ..Settings::default()
        }
    }

    fn still(frame: Frame) -> Opener {
        Box::new(move || Ok(Box::new(Still(frame.clone())) as Box<dyn FrameSource>))
    }

    fn wait_for(camera: &Camera, what: impl Fn(&CameraStatus) -> bool) -> CameraStatus {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let status = camera.status();
            if what(&status) || Instant::now() > until {
                return status;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_code_held_in_front_of_the_camera_is_handed_on_once() {
        let (codes, received) = mpsc::channel();
        let camera = Camera::start(still(ticket_frame()), Decoder::default(), settings(), move |text| {
            codes.send(text).unwrap();
        })
        .unwrap();
        let status = wait_for(&camera, |s| s.decoded >= 20);
        camera.stop();
        assert!(status.decoded >= 20, "{status:?}");
        assert_eq!(received.try_iter().collect::<Vec<_>>(), [TICKET]);
        assert_eq!((status.state, status.codes), ("running", 1));
    }

    fn slow(frame: &image::GrayImage) -> Option<String> {
        std::thread::sleep(Duration::from_millis(300));
        STEPS[0].1(frame)
    }

    #[test]
    fn a_slow_decoder_never_holds_up_the_preview() {
        let camera = Camera::start(
            still(ticket_frame()),
            Decoder::with_steps(vec![("slow", slow)]),
            settings(),
            |_| {},
        )
        .unwrap();
        // A frame is counted a moment before its preview is published: wait for the preview.
        let deadline = Instant::now() + Duration::from_secs(5);
        let first = loop {
            if let Some(preview) = camera.preview() {
                break preview.seq;
            }
            assert!(Instant::now() < deadline, "no preview within 5 s");
            std::thread::sleep(Duration::from_millis(5));
        };
        std::thread::sleep(Duration::from_millis(600));
        let later = camera.preview().unwrap().seq;
        let status = camera.status();
        camera.stop();
        // 600 ms at one preview per 20 ms is ~30 previews; the decoder finished at most 3 frames.
        assert!(later - first >= 10, "preview advanced only {} frames", later - first);
        assert!(status.decoded <= 3 && status.dropped >= 10, "{status:?}");
    }

    #[test]
    fn a_panicking_decoder_is_counted_and_the_camera_keeps_going() {
        let steps = vec![("boom", (|_| panic!("decoder bug")) as fn(&image::GrayImage) -> Option<String>)];
        let camera =
            Camera::start(still(ticket_frame()), Decoder::with_steps(steps), settings(), |_| {}).unwrap();
        let status = wait_for(&camera, |s| s.panics >= 5);
        camera.stop();
        assert!(status.panics >= 5 && status.state == "running", "{status:?}");
    }

    #[test]
    fn no_camera_is_one_plain_line_and_is_looked_for_again() {
        let tries = Arc::new(AtomicU64::new(0));
        let counted = tries.clone();
        let opener: Opener = Box::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Err(SourceError::NotFound)
        });
        let camera = Camera::start(opener, Decoder::default(), settings(), |_| {}).unwrap();
        let status = wait_for(&camera, |_| tries.load(Ordering::SeqCst) >= 3);
        camera.stop();
        assert_eq!(status.state, "missing");
        assert_eq!(
            status.message.as_deref(),
            Some("No camera found. Use the hand scanner or type the code.")
        );
        assert!(camera.preview().is_none());
    }

    #[test]
    fn unusable_frames_are_skipped_and_counted() {
        let broken = Frame { width: 100, height: 100, pixels: Pixels::Luma(vec![0; 3]) };
        let camera = Camera::start(still(broken), Decoder::default(), settings(), |_| {}).unwrap();
        let status = wait_for(&camera, |s| s.bad_frames >= 5);
        camera.stop();
        assert!(status.bad_frames >= 5 && status.codes == 0, "{status:?}");
    }
}
