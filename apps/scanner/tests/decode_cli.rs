//! `scanner-decode`: one JSON line per file, names as given, text exactly as decoded, exit 0
//! whatever was read.

use serde_json::Value;

#[test]
fn prints_one_line_per_file_and_exits_zero_whatever_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let ticket = "VG1:6BFOXN*TS0BI$ZD4N9:9S6RCVSDU+94E";
    let code = dir.path().join("ticket code.png");
    scanner_app::decode::render(ticket, 5).save(&code).unwrap();
    let blank = dir.path().join("blank.jpg");
    image::GrayImage::from_pixel(320, 240, image::Luma([200])).save(&blank).unwrap();
    let broken = dir.path().join("broken.webp");
    std::fs::write(&broken, b"not an image").unwrap();
    let names = [code.display().to_string(), blank.display().to_string(), broken.display().to_string()];

    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_scanner-decode")).args(&names).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0]["file"].as_str(), lines[0]["text"].as_str()),
        (Some(names[0].as_str()), Some(ticket))
    );
    assert_eq!(lines[0]["decoder"], "rxing");
    assert!(lines[0]["ms"].as_f64().unwrap() >= 0.0);
    assert_eq!((lines[1]["text"].is_null(), lines[1]["decoder"].is_null()), (true, true));
    assert!(lines[2]["text"].is_null() && lines[2]["error"].is_string(), "{}", lines[2]);
}
