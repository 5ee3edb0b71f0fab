//! Reading server-sent events in the benches that time them (the dashboard's, the seat map's).
#![allow(dead_code)] // each bench uses what it needs

use serde_json::Value;
use std::time::Duration;

/// Reads server-sent events from a streaming response: the `data:` of each, as JSON.
pub(crate) struct Events {
    pub(crate) response: reqwest::Response,
    pub(crate) buffer: String,
}

impl Events {
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim()).unwrap();
                }
                continue; // a keep-alive comment
            }
            let chunk = self.response.chunk().await.unwrap().expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// The `per_mille`-th of `sorted`, in milliseconds (nearest rank).
pub(crate) fn percentile(sorted: &[Duration], per_mille: usize) -> f64 {
    let i = ((sorted.len() - 1) * per_mille + 500) / 1000;
    sorted[i].as_secs_f64() * 1000.0
}
