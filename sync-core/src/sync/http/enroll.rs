//! Joining a hub: a device turns a single-use enrollment code into its place in the fleet.
//!
//! An admin creates the code in the console, which shows it as text and as a QR code holding
//! `VGENROLL:<hub url>#<code>`. Staff paste or scan either that whole text, or type the code
//! and the hub's address separately. The device makes its key, sends the public half with the
//! code, and gets back its device id, its events and the hub's key — which it trusts from then
//! on for every signed sync response.
//!
//! Errors are written for the person holding the device: what went wrong and what to do.

use super::client::http_client;
use crate::ids::{DeviceId, EventId};
use crate::journal::HUB;
use crate::keys::DeviceKey;
use crate::replica::{Replica, ReplicaConfig, ReplicaError};
use serde::Deserialize;
use std::path::Path;

/// The prefix of an enrollment QR code.
pub const ENROLL_PREFIX: &str = "VGENROLL:";

/// Why enrolling failed, in words for staff.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnrollError {
    /// What was pasted or scanned is not an enrollment code.
    #[error("{0}")]
    Invalid(String),
    /// The hub did not answer.
    #[error("The hub at {0} can't be reached. Check the network and the address, then try again.")]
    Unreachable(String),
    /// The hub answered with a refusal (unknown, used or expired code, …); its own words.
    #[error("The hub refused the code: {0}")]
    Refused(String),
    /// The hub is enrolling too many devices from this network right now; the code is still
    /// good.
    #[error("The hub is busy enrolling other devices. Try again in {0} seconds (the code is still good).")]
    Busy(u64),
    /// The hub answered something that is not an enrollment.
    #[error("The hub's answer was not understood ({0}). Is this the right address?")]
    BadAnswer(String),
}

/// An enrollment code and the hub it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The hub's base URL, without a trailing slash.
    pub hub_url: String,
    /// The code, as the hub wants it (lower case, no spaces).
    pub code: String,
}

impl Invitation {
    /// Reads `VGENROLL:<hub url>#<code>`, or a bare code with `hub_url` given separately (a
    /// hub URL inside the text wins: it came from the hub itself).
    pub fn parse(text: &str, hub_url: Option<&str>) -> Result<Self, EnrollError> {
        let text = text.trim();
        let (url, code) = if let Some(rest) = text.strip_prefix(ENROLL_PREFIX) {
            let (url, code) = rest.rsplit_once('#').ok_or_else(|| {
                EnrollError::Invalid("This enrollment QR code is incomplete: it has no code.".into())
            })?;
            (url.to_owned(), code)
        } else {
            let url = hub_url
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| EnrollError::Invalid("Enter the hub's address as well as the code.".into()))?;
            (url.to_owned(), text)
        };
        let url = url.trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
            return Err(EnrollError::Invalid(format!(
                "\"{url}\" is not a hub address: it starts with https:// (or http:// on a venue network)."
            )));
        }
        let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(EnrollError::Invalid(
                "That is not an enrollment code: it is letters and digits, as the console shows it.".into(),
            ));
        }
        Ok(Self { hub_url: url, code: code.to_ascii_lowercase() })
    }
}

/// What the hub answered: the device's place in the fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrollment {
    /// The hub the device enrolled with.
    pub hub_url: String,
    /// The device's id, from now on its journal origin.
    pub device: DeviceId,
    /// "gate" or "box_office".
    pub role: String,
    /// The events the device works for.
    pub events: Vec<EventId>,
    /// The hub's public key, trusted for every sync response.
    pub hub_key: [u8; 32],
}

#[derive(Deserialize)]
struct Enrolled {
    device_id: u32,
    role: String,
    events: Vec<u32>,
    hub_public_key: String,
}

/// Presents `invitation` with this device's public key; `app_version` shows in the fleet list.
pub async fn enroll(
    invitation: &Invitation,
    key: &DeviceKey,
    app_version: &str,
) -> Result<Enrollment, EnrollError> {
    let unreachable = || EnrollError::Unreachable(invitation.hub_url.clone());
    let client = http_client().map_err(|_| unreachable())?;
    let body = serde_json::json!({
        "code": invitation.code,
        "public_key": hex::encode(key.public_key()),
        "app_version": app_version,
    });
    let response = client
        .post(format!("{}/api/v1/devices/enroll", invitation.hub_url))
        .timeout(std::time::Duration::from_secs(20))
        .json(&body)
        .send()
        .await
        .map_err(|_| unreachable())?;
    let status = response.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let wait = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
        return Err(EnrollError::Busy(wait.unwrap_or(5)));
    }
    let bytes = response.bytes().await.map_err(|_| unreachable())?;
    if !status.is_success() {
        // Problem details (RFC 9457): the hub's `detail` is written for people.
        let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {status}"));
        return Err(EnrollError::Refused(detail));
    }
    let enrolled: Enrolled =
        serde_json::from_slice(&bytes).map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    let mut hub_key = [0u8; 32];
    hex::decode_to_slice(&enrolled.hub_public_key, &mut hub_key)
        .map_err(|e| EnrollError::BadAnswer(format!("hub key: {e}")))?;
    Ok(Enrollment {
        hub_url: invitation.hub_url.clone(),
        device: DeviceId(enrolled.device_id),
        role: enrolled.role,
        events: enrolled.events.into_iter().map(EventId).collect(),
        hub_key,
    })
}

/// Creates the device's replica at `path` for `enrollment`, holding `key` and trusting the hub.
pub fn create_replica(path: &Path, enrollment: &Enrollment, key: DeviceKey) -> Result<Replica, ReplicaError> {
    let replica = Replica::create(path, ReplicaConfig::new(enrollment.device), key)?;
    replica.trust(HUB, &enrollment.hub_key)?;
    Ok(replica)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_qr_text_and_a_typed_code() {
        let from_qr = Invitation::parse(" VGENROLL:https://hub.example/#AB12-CD34\n", None).unwrap();
        assert_eq!(from_qr, Invitation { hub_url: "https://hub.example".into(), code: "ab12cd34".into() });
        let typed = Invitation::parse("ab12 cd34", Some("http://10.0.0.5:8080/")).unwrap();
        assert_eq!(typed, Invitation { hub_url: "http://10.0.0.5:8080".into(), code: "ab12cd34".into() });
    }

    #[test]
    fn refuses_what_is_not_an_invitation_with_a_plain_sentence() {
        let cases = [
            ("ab12", None, "hub's address"),
            ("VGENROLL:https://hub.example", None, "no code"),
            ("VGENROLL:ftp://hub.example#ab12", None, "not a hub address"),
            ("<script>", Some("https://hub.example"), "not an enrollment code"),
            ("", Some("https://hub.example"), "not an enrollment code"),
        ];
        for (text, url, expected) in cases {
            let e = Invitation::parse(text, url).unwrap_err();
            assert!(e.to_string().contains(expected), "{text}: {e}");
        }
    }
}
