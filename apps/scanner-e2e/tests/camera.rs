//! The camera path end to end: frames → decode thread → `camera-code` event → the screen. The
//! machine has no camera, so the app plays image files as one (`VOELGOED_SCANNER_CAMERA=
//! replay:DIR`); the test "holds a code up to the camera" by putting its picture in DIR.
//!
//! What staff would notice: the live view shows on the enrollment and scan screens; the
//! console's enrollment QR code fills in the enrollment; a ticket held in view for seconds is
//! one scan, not one per frame; shown again after it left the view, it is scanned again.

use fantoccini::{Client, Locator};
use image::{GrayImage, Luma};
use scanner_app::decode::render;
use scanner_e2e::{Driver, Hub, Xvfb, attr, binary, eventually, screenshot, shown};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Puts `text` as a QR code (5 px per module, off-centre on a 1280×720 grey-white frame) in
/// front of the "camera"; written beside and renamed, so the camera never sees half a file.
fn hold_up(frames: &Path, text: &str) {
    let code = render(text, 5);
    let mut frame = GrayImage::from_pixel(1280, 720, Luma([235]));
    image::imageops::overlay(&mut frame, &code, 400, 120);
    let staging = frames.with_extension("staging.png");
    frame.save(&staging).unwrap();
    std::fs::rename(&staging, frames.join("held.png")).unwrap();
}

fn take_away(frames: &Path) {
    std::fs::remove_file(frames.join("held.png")).unwrap();
}

async fn js(app: &Client, script: &str) -> serde_json::Value {
    app.execute(script, vec![]).await.unwrap()
}

async fn preview_is_live(app: &Client, id: &str) -> bool {
    let script =
        format!("const i = document.getElementById('{id}'); return !i.hidden && i.naturalWidth > 0;");
    js(app, &script).await == json!(true)
}

async fn recent_scans(app: &Client) -> usize {
    app.find_all(Locator::Css("#recent li")).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_held_up_to_the_camera_enroll_the_device_and_are_scanned_once_per_showing() {
    let hub_data = tempfile::tempdir().unwrap();
    let app_data = tempfile::tempdir().unwrap();
    let frames = tempfile::tempdir().unwrap();
    let hub = Hub::start(hub_data.path());
    let x = Xvfb::start();
    let camera = format!("replay:{}", frames.path().display());
    let driver = Driver::start_with(&x.display, app_data.path(), &[("VOELGOED_SCANNER_CAMERA", &camera)]);
    let app = driver.launch(&binary("scanner")).await;

    // Enrollment by showing the console's QR code to the camera; the PIN is still typed.
    eventually(10, "the camera's view on the enrollment screen", || preview_is_live(&app, "enroll-preview"))
        .await;
    let invitation = format!("VGENROLL:{}#{}", hub.url, hub.code);
    hold_up(frames.path(), &invitation);
    eventually(10, "the enrollment code read by the camera", || async {
        js(&app, "return document.getElementById('enroll-text').value;").await == json!(invitation)
    })
    .await;
    screenshot(&app, "scanner-camera-enrollment").await;
    take_away(frames.path());
    app.find(Locator::Id("enroll-pin")).await.unwrap().send_keys("1357").await.unwrap();
    app.find(Locator::Id("enroll-submit")).await.unwrap().click().await.unwrap();
    eventually(15, "the gates of the event", || async {
        shown(&app, "settings-form").await && !shown(&app, "settings-wait").await
    })
    .await;
    app.find(Locator::Id("settings-save")).await.unwrap().click().await.unwrap();
    eventually(5, "the scan screen", || shown(&app, "scan-screen")).await;
    eventually(10, "the camera's view behind Ready", || preview_is_live(&app, "scan-preview")).await;
    screenshot(&app, "scanner-camera-ready").await;

    // A ticket held in view for 4 s (about 60 frames): admitted once.
    let (_, _, ticket) = hub.buy_ticket("Ada").await;
    hold_up(frames.path(), &ticket);
    eventually(10, "a verdict from the camera", || async {
        attr(&app, "verdict", "class").await.as_deref() == Some("green")
    })
    .await;
    screenshot(&app, "scanner-camera-admitted").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(recent_scans(&app).await, 1, "one showing, one scan");

    // Taken away and shown again: scanned again, and refused as already inside.
    take_away(frames.path());
    tokio::time::sleep(Duration::from_secs(3)).await;
    hold_up(frames.path(), &ticket);
    eventually(10, "the second showing's verdict", || async {
        attr(&app, "verdict", "data-code").await.as_deref() == Some("already_inside")
    })
    .await;
    assert_eq!(recent_scans(&app).await, 2);
    app.close().await.unwrap();
}
