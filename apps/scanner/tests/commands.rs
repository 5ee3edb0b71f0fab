//! The Tauri commands through `tauri::test::mock_builder()`: what the front end gets back,
//! without a window or a hub.

use scanner_app::camera::Camera;
use scanner_app::station::Station;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindowBuilder};

fn app(
    dir: &std::path::Path,
) -> (tauri::App<tauri::test::MockRuntime>, tauri::WebviewWindow<tauri::test::MockRuntime>) {
    let app = scanner_app::app(mock_builder()).build(mock_context(noop_assets())).unwrap();
    let runtime = tauri::async_runtime::handle().inner().clone();
    app.manage(Station::open(dir.to_path_buf(), "test", runtime).unwrap());
    app.manage(Camera::off());
    let window = WebviewWindowBuilder::new(&app, "main", tauri::WebviewUrl::default()).build().unwrap();
    (app, window)
}

fn call(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, String> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: tauri::http::HeaderMap::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request)
        .map(|body| body.deserialize::<Value>().unwrap())
        .map_err(|e| e.as_str().unwrap_or_default().to_owned())
}

#[test]
fn a_new_device_asks_for_enrollment_and_refuses_to_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let status = call(&window, "status", json!({"offset": 60})).unwrap();
    assert_eq!((status["enrolled"].as_bool(), status["ready"].as_bool()), (Some(false), Some(false)));
    let refused = call(&window, "scan", json!({"text": "VG1:ABC", "offset": 60})).unwrap_err();
    assert!(refused.contains("not enrolled yet"), "{refused}");
    let unlock = call(&window, "unlock", json!({"pin": "1234"})).unwrap_err();
    assert!(unlock.contains("not enrolled yet"), "{unlock}");
}

#[test]
fn enrollment_mistakes_come_back_as_sentences_and_leave_the_device_unenrolled() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    // A port nobody listens on: the hub "can't be reached", not a socket error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cases = [
        (json!({"text": "ab12", "hubUrl": null, "pin": "1234", "offset": 0}), "hub's address"),
        (
            json!({"text": "ab12", "hubUrl": "https://h.example", "pin": "12", "offset": 0}),
            "PIN is 4 to 8 digits",
        ),
        (
            json!({"text": "VGENROLL:gopher://x#ab", "hubUrl": null, "pin": "1234", "offset": 0}),
            "not a hub address",
        ),
        (
            json!({"text": format!("VGENROLL:http://{closed}#ab12"), "hubUrl": null, "pin": "1234", "offset": 0}),
            "can't be reached",
        ),
    ];
    for (args, expected) in cases {
        let e = call(&window, "enroll", args.clone()).unwrap_err();
        assert!(e.contains(expected), "{args}: {e}");
    }
    assert_eq!(call(&window, "status", json!({"offset": 0})).unwrap()["enrolled"], false);
    assert!(!dir.path().join(scanner_app::settings::FILE).exists());
    let bad_shape = call(&window, "configure", json!({"pin": "1234", "choice": {"event": "x"}, "offset": 0}));
    assert!(bad_shape.is_err());
}

#[test]
fn a_scanner_without_a_camera_says_so_without_a_message_to_staff() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let camera = call(&window, "camera", json!({})).unwrap();
    assert_eq!((camera["state"].as_str(), &camera["message"]), (Some("off"), &Value::Null));
    assert_eq!(camera["frames"], 0);
}
