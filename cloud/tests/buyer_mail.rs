//! What the buyer receives, read back with a real MIME parser (mail-parser, as a mail program
//! reads it): one confirmation per paid order, in the event's language and on the venue's
//! clock, plain text and HTML, the tickets attached as a PDF; the tickets sent again by the
//! organizer and by the buyer's own request (which tells the asker nothing); a refund notice.

mod common;

use common::{
    BACKENDS, Organizer, TestHub, checkout, festival, order, press_pay, put_on_sale, start_payment,
};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};

/// The messages in the hub's mail drop, parsed, oldest first, once there are `expected` (the
/// hub delivers in the background; the test delivers too, and waits up to five seconds) —
/// and a moment longer, so that one too many would be seen.
async fn mailbox(hub: &TestHub, expected: usize) -> Vec<mail_parser::Message<'static>> {
    let read = || {
        let Ok(entries) = std::fs::read_dir(&hub.mail_dir) else { return Vec::new() };
        let mut names: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
    };
    for _ in 0..100 {
        cloud::mail::deliver_pending(&hub.db, &hub.state.mailer).await.unwrap();
        if read().len() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    cloud::mail::deliver_pending(&hub.db, &hub.state.mailer).await.unwrap();
    let messages: Vec<_> = read()
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).unwrap();
            MessageParser::default().parse(&raw).expect("a message a mail program can read").into_owned()
        })
        .collect();
    assert_eq!(messages.len(), expected, "messages in the mail drop");
    messages
}

/// A German-language event at a named venue, on sale.
async fn german_event(owner: &Organizer) -> i64 {
    let mut event = festival();
    event["language"] = json!("de");
    event["venue_name"] = json!("Westerpark");
    event["venue_address"] = json!("Haarlemmerweg 8, Amsterdam");
    // 12:00 UTC on Sunday 13 June 2027: 14:00 in Amsterdam.
    event["starts_at"] = json!(1_812_888_000_000_i64);
    event["ends_at"] = json!(1_812_888_000_000_i64 + 9 * 3_600_000);
    let id = put_on_sale(owner, &event).await;
    let detail = owner.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(
        (&detail["language"], &detail["venue_name"]),
        (&json!("de"), &json!("Westerpark")),
        "{detail}"
    );
    id
}

async fn paid_order(hub: &TestHub, event: i64, quantity: u32) -> Value {
    let (status, placed) = checkout(hub, event, quantity, None).await;
    assert_eq!(status, 201, "{placed}");
    press_pay(hub, &start_payment(hub, &placed).await).await;
    assert_eq!(order(hub, &placed).await["status"], "paid");
    placed
}

#[tokio::test]
async fn a_paid_order_brings_one_confirmation_with_its_tickets_in_the_events_language() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "mail").await;
        let event = german_event(&owner).await;
        let placed = paid_order(&hub, event, 2).await;
        let code = placed["code"].as_str().unwrap();
        let link = format!("{}/shop/orders/{code}/{}", hub.url, placed["secret"].as_str().unwrap());

        let mail = mailbox(&hub, 1).await;
        let m = &mail[0];
        assert_eq!(m.subject(), Some("Ihre Tickets für Summer Festival"));
        assert_eq!(m.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("fan@example.org"));
        let text = m.body_text(0).expect("a plain-text part");
        for expected in [
            "Hallo Frieda Fan",
            "So. 13. Juni 2027, 14:00–23:00",
            "Westerpark",
            "2 × Day",
            "90,00 EUR",
            &link,
        ] {
            assert!(text.contains(expected), "{backend:?}: {expected:?} in the text part:\n{text}");
        }
        let html = m.body_html(0).expect("an HTML part");
        assert!(html.contains(&link) && html.contains("lang=\"de\""), "{html}");
        let pdfs: Vec<_> = m
            .attachments()
            .filter(|a| a.content_type().is_some_and(|c| c.ctype() == "application"))
            .collect();
        assert_eq!(pdfs.len(), 1, "one PDF attached");
        assert_eq!(pdfs[0].attachment_name(), Some(format!("tickets-{code}.pdf").as_str()));
        assert!(pdfs[0].contents().starts_with(b"%PDF-"), "the tickets as a PDF");
        let downloaded =
            hub.get(&format!("{}/tickets.pdf", common::order_url(&placed))).send().await.unwrap();
        assert_eq!(
            downloaded.bytes().await.unwrap().len(),
            pdfs[0].contents().len(),
            "the same PDF as the order page's"
        );

        // The payment reported again (a webhook retried, the recovery job, another instance):
        // no second confirmation.
        cloud::maintenance::once(&hub.state).await;
        let mut tx = hub.db.tenant(owner.org_id).await.unwrap();
        let id: i64 = sqlx::query_scalar("SELECT id FROM orders").fetch_one(&mut *tx).await.unwrap();
        let again = cloud::sales::buyer_mail::tickets(
            &mut tx,
            &hub.state.public_url,
            id,
            cloud::sales::MailReason::Paid,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(!again, "the outbox keeps one confirmation per order");
        mailbox(&hub, 1).await;
    }
}

#[tokio::test]
async fn tickets_are_sent_again_on_request_without_telling_who_has_orders_and_a_refund_is_announced() {
    let clock = cloud::clock::Clock::manual(sync_core::ids::Timestamp::now().0);
    let hub = TestHub::start_configured(cloud::db::Backend::Sqlite, clock.clone(), |c| {
        c.checkouts_per_minute = 1000;
    })
    .await;
    let owner = Organizer::create(&hub, "again").await;
    let event = german_event(&owner).await;
    let placed = paid_order(&hub, event, 2).await;
    let code = placed["code"].as_str().unwrap();
    mailbox(&hub, 1).await;

    // The organizer resends; a double click sends one.
    let (status, body) = owner.post(&format!("/api/v1/orders/{code}/confirmation"), &json!({})).await;
    assert_eq!((status, body["queued"].as_bool()), (202, Some(true)), "{body}");
    let (status, body) = owner.post(&format!("/api/v1/orders/{code}/confirmation"), &json!({})).await;
    assert_eq!((status, body["queued"].as_bool()), (202, Some(false)), "{body}");
    let mail = mailbox(&hub, 2).await;
    assert_eq!(mail[1].subject(), Some("Ihre Tickets für Summer Festival (erneut gesendet)"));
    assert_eq!(mail[1].attachments().count(), 1);

    // The buyer asks in the shop: the answer is the same for an address with orders and one
    // without, and only the buyer's address receives anything, once an hour per order.
    let ask = |email: &'static str| {
        hub.post(&format!("/api/v1/public/events/{event}/tickets-again"))
            .json(&json!({"email": email}))
            .send()
    };
    let known = ask("fan@example.ORG").await.unwrap();
    assert_eq!(known.status(), 202);
    let known: Value = known.json().await.unwrap();
    let unknown = ask("nobody@example.org").await.unwrap();
    assert_eq!(unknown.status(), 202);
    assert_eq!(unknown.json::<Value>().await.unwrap(), known, "no difference an asker could see");
    assert_eq!(ask("fan@example.org").await.unwrap().status(), 202);
    let mail = mailbox(&hub, 3).await; // one more message, to the buyer, whatever was asked
    assert_eq!(mail[2].to().and_then(|a| a.first()).and_then(|a| a.address()), Some("fan@example.org"));
    assert_eq!(ask("not an address").await.unwrap().status(), 422);

    // A refund of one ticket: the notice says what was paid back and what no longer admits.
    let serial = order(&hub, &placed).await["tickets"][0]["serial"].as_i64().unwrap();
    let (status, refund) = owner
        .post(
            &format!("/api/v1/orders/{code}/refunds"),
            &json!({"serials": [serial], "reason": "cannot come"}),
        )
        .await;
    assert_eq!(status, 201, "{refund}");
    let mail = mailbox(&hub, 4).await;
    assert_eq!(mail[3].subject(), Some(format!("Erstattung für Ihre Bestellung {code}").as_str()));
    let text = mail[3].body_text(0).unwrap();
    assert!(
        text.contains("45,00 EUR") && text.contains("1 Ticket dieser Bestellung ist storniert"),
        "{text}"
    );
    assert!(mail[3].body_html(0).is_some());

    // Sent again a minute later, the tickets are the one still valid.
    clock.advance(60_000);
    let (status, body) = owner.post(&format!("/api/v1/orders/{code}/confirmation"), &json!({})).await;
    assert_eq!((status, body["queued"].as_bool()), (202, Some(true)), "{body}");
    let mail = mailbox(&hub, 5).await;
    let pdf = mail[4].attachments().next().unwrap().contents().to_vec();
    assert!(pdf.len() < mail[0].attachments().next().unwrap().contents().len(), "one page fewer");
}
