//! Mail to customers, through an outbox: a message is a row written in the transaction that
//! decides to send it (so it is sent if and only if that decision committed), and every
//! instance delivers what is pending with the periodic maintenance — and at once after
//! enqueueing, through its one mail worker ([`run`], rung by [`kick`]). A row is claimed with a conditional UPDATE before it is sent, so two instances
//! never send one message at the same moment; a failed delivery keeps its claim, dated so that
//! it ages out after a growing wait (15 s, doubling, at most 30 min), up to [`MAX_ATTEMPTS`].
//!
//! A message is plain text, or a [`Letter`] (plain text and HTML, multipart/alternative); a
//! letter about an order carries its valid tickets as a PDF, made when it is sent, and a
//! letter may carry files made when it was queued (a scheduled report's CSV and PDF, as the
//! report stood at its slot) — either makes it multipart/mixed. A message queued with a `once` key is queued at most once, ever: that
//! is how a buyer gets one confirmation per order however often the payment is reported.
//!
//! Delivery is over SMTP when `smtp_url` is set (lettre: STARTTLS or implicit TLS with rustls,
//! or plain for a relay on the same host); otherwise a mail drop: each message is written as
//! an RFC 5322 file (`.eml`) into `<data_dir>/mail-outbox`, which a local MTA, a relay script
//! or a person can pick up — the embedded default needs no mail server.

pub mod letter;
pub mod store;

pub use letter::Letter;

use crate::db::{Db, Tenant};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// Delivery attempts before a message is left for a person to look at.
pub const MAX_ATTEMPTS: i64 = 10;
/// A claim older than this is taken to be from an instance that died mid-delivery — longer
/// than an SMTP exchange may take, so a slow send is never claimed twice.
const CLAIM_MS: i64 = 5 * 60_000;

/// The wait before attempt `attempts + 1` after `attempts` failed: 15 s, doubling, at most
/// half an hour — ten attempts span about an hour and a half, so a mail server's short outage does not
/// use them up, and every commit's immediate delivery does not hurry a retry.
fn retry_after_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (15_000_i64 << doublings).min(30 * 60_000)
}

/// How messages leave the hub.
#[derive(Clone, Debug)]
pub enum Mailer {
    /// Written as `.eml` files into this directory.
    Drop(PathBuf),
    /// Sent to an SMTP server, from this sender.
    Smtp {
        /// The connection (boxed: it is much larger than a path).
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// The sender.
        from: Mailbox,
    },
}

/// The default sender of a mail drop's messages.
const FROM: &str = "Voelgoed <tickets@voelgoed.invalid>";

impl Mailer {
    /// The mailer the configuration asks for: SMTP if `smtp_url` is set, else the mail drop.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let url = config.smtp_url.expose_secret();
        if url.is_empty() {
            return Ok(Self::Drop(config.data_dir.join("mail-outbox")));
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
            .build();
        let from: Mailbox = config.mail_from.parse().map_err(|e| anyhow::anyhow!("mail_from: {e}"))?;
        Ok(Self::Smtp { transport: Box::new(transport), from })
    }
}

/// Why an address was refused.
pub fn check_address(address: &str) -> Result<(), &'static str> {
    let valid = address.chars().count() <= 254
        && !address.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if valid { Ok(()) } else { Err("an e-mail address like name@example.org") }
}

/// Queues a message inside `tx`: it is sent once `tx` commits.
pub async fn enqueue(tx: &mut Tenant, to: &str, subject: &str, body: &str) -> Result<i64, sqlx::Error> {
    store::enqueue(tx, to, subject, body).await
}

/// A file that goes with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Its name ("sales-2026-06-13.csv").
    pub name: String,
    /// Its media type ("text/csv; charset=utf-8").
    pub content_type: String,
    /// Its bytes.
    pub body: Vec<u8>,
}

/// Queues `letter` to `to` inside `tx` with `files` beside it; its id.
pub async fn enqueue_letter_with_files(
    tx: &mut Tenant,
    to: &str,
    letter: &Letter,
    files: &[File],
) -> Result<i64, sqlx::Error> {
    let id = store::enqueue_letter(tx, to, &letter.subject, &letter.text(), &letter.html(), None, None)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?; // only a `once` key can make it return none
    for file in files {
        store::attach(tx, id, file).await?;
    }
    Ok(id)
}

/// Queues `letter` to `to` inside `tx`, with the valid tickets of order `tickets_of` attached
/// when it is sent; with a `once` key, only if no message with that key was ever queued. Its
/// id, or `None` if it was queued before.
pub async fn enqueue_letter(
    tx: &mut Tenant,
    to: &str,
    letter: &Letter,
    tickets_of: Option<i64>,
    once: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    store::enqueue_letter(tx, to, &letter.subject, &letter.text(), &letter.html(), tickets_of, once).await
}

/// Asks this instance's mail worker ([`run`]) to deliver what is pending now (after a commit
/// that queued mail): the buyer need not wait for the next maintenance round, which retries a
/// failure. Rings coalesce: however many commits ring while a round runs, one more round
/// follows — one round at a time per instance. (Each ring used to start a round of its own;
/// in a flash sale a hundred rounds at once each tried to claim every pending message, twelve
/// thousand transactions a second for a hundred paid orders: docs/benchmarks.md, issue 24.)
pub fn kick(db: &Db) {
    db.mail_bell().notify_one();
}

/// Runs until the process ends: a round when rung ([`kick`]) or every 15 s.
pub async fn run(db: Db, mailer: std::sync::Arc<Mailer>) {
    let bell = std::sync::Arc::clone(db.mail_bell());
    loop {
        if let Err(e) = deliver_pending(&db, &mailer).await {
            tracing::warn!(error = %e, "mail delivery failed; the next round retries");
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), bell.notified()).await;
    }
}

/// A message on its way out.
struct Outgoing {
    id: i64,
    to: String,
    subject: String,
    text: String,
    html: Option<String>,
    /// The files that go with it.
    attachments: Vec<File>,
}

/// Sends every pending message (all organizations) through `mailer`; returns how many were
/// sent.
pub async fn deliver_pending(db: &Db, mailer: &Mailer) -> anyhow::Result<usize> {
    // The outbox holds every organization's mail: system transactions, one step each, so a
    // claim is visible to other instances before the (slow) sending starts.
    let mut system = db.system().await?;
    let now = system.now();
    let pending = store::due(&mut system, MAX_ATTEMPTS, now - CLAIM_MS).await?;
    system.commit().await?;
    let mut sent = 0;
    for id in pending {
        let mut system = db.system().await?;
        // Each claim dated now: a long batch must not make its later claims look stale.
        let now = system.now();
        let claimed = store::claim(&mut system, id, now, now - CLAIM_MS).await?;
        system.commit().await?;
        let Some(message) = claimed else { continue }; // another instance has it
        let attempts = message.attempts;
        let outcome = match outgoing(db, id, message).await {
            Ok(out) => mailer.send(&out, db.clock().now_ms()).await,
            Err(e) => Err(e),
        };
        let mut system = db.system().await?;
        match outcome {
            Ok(()) => {
                let at = system.now();
                store::sent(&mut system, id, at).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "mail not delivered; will try again");
                // Dated so that the claim ages out after the retry wait, not after CLAIM_MS.
                let claim_at = system.now() - CLAIM_MS + retry_after_ms(attempts);
                store::failed(&mut system, id, &format!("{e:#}"), claim_at).await?;
            }
        }
        system.commit().await?;
    }
    Ok(sent)
}

/// Message `id` as it will leave: with its order's tickets, if it carries them, as they are
/// now (a ticket refunded since the message was queued is not in it), and the files queued
/// with it.
async fn outgoing(db: &Db, id: i64, message: store::Claimed) -> anyhow::Result<Outgoing> {
    // A read of every organization's outbox (the claim's kind of transaction), read-only: on
    // SQLite it does not take the write lock for the many messages that carry no file.
    let mut lookup = db.lookup().await?;
    let mut attachments = store::attachments(&mut lookup, id).await?;
    lookup.commit().await?;
    if let Some(order) = message.order_id {
        let mut tx = db.tenant(message.org_id).await?;
        if let Some((name, body)) = crate::printing::tickets_pdf(&mut tx, order).await? {
            attachments.insert(0, File { name, content_type: "application/pdf".into(), body });
        }
        tx.commit().await?;
    }
    Ok(Outgoing {
        id,
        to: message.recipient,
        subject: message.subject,
        text: message.body,
        html: message.html,
        attachments,
    })
}

impl Mailer {
    /// Sends `out` (dated `now`, Unix ms).
    async fn send(&self, out: &Outgoing, now: i64) -> anyhow::Result<()> {
        let from = match self {
            Self::Smtp { from, .. } => from.clone(),
            Self::Drop(_) => FROM.parse()?,
        };
        let message = out.message(from, now)?;
        match self {
            Self::Smtp { transport, .. } => {
                transport.send(message).await?;
                Ok(())
            }
            Self::Drop(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                // Written whole, then renamed: a pick-up script never sees half a message. The
                // name is the message's id, so a message sent again (an instance died before
                // recording it sent) replaces itself rather than arriving twice.
                let id = out.id;
                let path = dir.join(format!("{id:010}.eml"));
                let partial = dir.join(format!(".{id:010}.eml.partial"));
                tokio::fs::write(&partial, message.formatted()).await?;
                tokio::fs::rename(&partial, &path).await?;
                Ok(())
            }
        }
    }
}

impl Outgoing {
    /// The RFC 5322 message: plain text; or text and HTML as alternatives; either with the
    /// tickets beside it (multipart/mixed). Its Message-ID is fixed by its outbox id, so a
    /// message delivered twice over SMTP (an instance died between the server's "queued" and
    /// recording it) is recognisably the same one to the recipient's mail program.
    fn message(&self, from: Mailbox, now: i64) -> anyhow::Result<Message> {
        let date = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(now).unwrap_or(0));
        let builder = Message::builder()
            .from(from)
            .to(self.to.parse::<Mailbox>()?)
            .subject(&self.subject)
            .date(date)
            .message_id(Some(format!("<outbox-{}@voelgoed.invalid>", self.id)));
        let Some(html) = &self.html else {
            return Ok(builder.header(ContentType::TEXT_PLAIN).body(self.text.clone())?);
        };
        let alternative = MultiPart::alternative()
            .singlepart(SinglePart::plain(self.text.clone()))
            .singlepart(SinglePart::html(html.clone()));
        if self.attachments.is_empty() {
            return Ok(builder.multipart(alternative)?);
        }
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for file in &self.attachments {
            let kind = ContentType::parse(&file.content_type)?;
            mixed = mixed.singlepart(Attachment::new(file.name.clone()).body(file.body.clone(), kind));
        }
        Ok(builder.multipart(mixed)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// Just enough of an SMTP server to receive one message: what a relay sees.
    async fn smtp_server(listener: tokio::net::TcpListener) -> String {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let (mut data, mut in_data) = (String::new(), false);
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 test\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 OK\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        data
    }

    #[tokio::test]
    async fn smtp_delivers_the_message_with_its_headers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(smtp_server(listener));
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&format!("smtp://127.0.0.1:{port}"))
            .unwrap()
            .build();
        let from = "Voelgoed <tickets@example.org>".parse().unwrap();
        let mailer = Mailer::Smtp { transport: Box::new(transport), from };
        let out = Outgoing {
            id: 7,
            to: "fan@example.org".into(),
            subject: "Your tickets".into(),
            text: "Line one\nhttps://hub/t.pdf".into(),
            html: None,
            attachments: Vec::new(),
        };
        mailer.send(&out, 0).await.unwrap();
        drop(mailer);
        let data = tokio::time::timeout(std::time::Duration::from_secs(10), server).await.unwrap().unwrap();
        for expected in [
            "To: fan@example.org",
            "Subject: Your tickets",
            "Message-ID: <outbox-7@voelgoed.invalid>",
            "https://hub/t.pdf",
        ] {
            assert!(data.contains(expected), "{expected} in {data}");
        }
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_half_an_hour() {
        let waits: Vec<i64> = (1..=10).map(super::retry_after_ms).collect();
        assert_eq!(&waits[..4], [15_000, 30_000, 60_000, 120_000]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]) && waits[9] == 1_800_000, "{waits:?}");
    }

    #[test]
    fn addresses_are_checked_before_they_reach_a_header() {
        for good in ["fan@example.org", "a.b+c@sub.example.co.za"] {
            assert!(super::check_address(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "fan",
            "@example.org",
            "fan@",
            "fan@localhost",
            "fan@example.org\r\nBcc: x@y.z",
            "a b@c.d",
            "<a@b.c>",
        ] {
            assert!(super::check_address(bad).is_err(), "{bad:?}");
        }
    }
}
