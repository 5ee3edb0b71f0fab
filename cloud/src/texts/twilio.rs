//! Twilio's Programmable Messaging API: one `POST /2010-04-01/Accounts/{sid}/Messages.json`
//! (form-encoded `To`, `From`, `Body`; HTTP basic auth with the account SID and auth token)
//! per text — SMS to `+31…`, WhatsApp to `whatsapp:+31…` from the account's WhatsApp sender.
//! Configured by `twilio_account_sid`, `twilio_auth_token`, `twilio_from` (a number or an
//! alphanumeric sender id), `twilio_whatsapp_from` and `twilio_api_base` (its emulator in the
//! tests).
//!
//! Its answers: 201 with the message's `sid`; a 4xx with `{"code", "message"}` for a text it
//! will never take (an invalid or landline number, a number that opted out), which fails the
//! text at once; 401/403 (the keys), 429 and 5xx, or no answer, are tried again.

use super::{Channel, Outgoing, SendError, Via};
use crate::config::TwilioConfig;
use secrecy::ExposeSecret;
use std::time::Duration;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The Twilio channel.
#[derive(Debug)]
pub struct Twilio {
    client: reqwest::Client,
    config: TwilioConfig,
}

/// Twilio's error body.
#[derive(serde::Deserialize)]
struct Problem {
    code: Option<i64>,
    message: Option<String>,
}

/// Twilio's answer to a message created.
#[derive(serde::Deserialize)]
struct Created {
    sid: String,
}

impl Twilio {
    /// The channel the configuration sets up, if it names a Twilio account.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Option<Self>> {
        let Some(twilio) = &config.twilio else { return Ok(None) };
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Some(Self { client, config: twilio.clone() }))
    }

    fn url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.api_base.trim_end_matches('/'),
            self.config.account_sid
        )
    }
}

#[async_trait::async_trait]
impl Channel for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, text: &Outgoing) -> Result<String, SendError> {
        let (to, from) = match text.via {
            Via::Sms => (text.to.clone(), self.config.from.clone()),
            // Without a WhatsApp sender the link goes by SMS: the buyer gets it either way.
            Via::Whatsapp if self.config.whatsapp_from.is_empty() => {
                (text.to.clone(), self.config.from.clone())
            }
            Via::Whatsapp => {
                (format!("whatsapp:{}", text.to), format!("whatsapp:{}", self.config.whatsapp_from))
            }
        };
        let form = [("To", to.as_str()), ("From", from.as_str()), ("Body", text.body.as_str())];
        let form = serde_urlencoded::to_string(form).map_err(|e| SendError::Failed(e.to_string()))?;
        let answer = self
            .client
            .post(self.url())
            .basic_auth(&self.config.account_sid, Some(self.config.auth_token.expose_secret()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| SendError::Failed(format!("Twilio did not answer: {e}")))?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        if status.is_success() {
            return serde_json::from_str::<Created>(&body)
                .map(|c| c.sid)
                .map_err(|_| SendError::Failed(format!("Twilio answered {status} without a message sid")));
        }
        let problem = serde_json::from_str::<Problem>(&body).ok();
        let why = match &problem {
            Some(Problem { code, message }) => format!(
                "Twilio {status}{}: {}",
                code.map(|c| format!(" (error {c})")).unwrap_or_default(),
                message.as_deref().unwrap_or("no message")
            ),
            None => format!("Twilio {status}: {}", body.chars().take(200).collect::<String>()),
        };
        let again = status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 408 | 429);
        Err(if again { SendError::Failed(why) } else { SendError::Refused(why) })
    }
}
