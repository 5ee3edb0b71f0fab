//! What the buyer receives, read back with a real MIME parser (mail-parser, as a mail program
//! reads it): one confirmation per paid order, in the event's language and on the venue's
//! clock, plain text and HTML, the tickets attached as a PDF; the tickets sent again by the
//! organizer and by the buyer's own request (which tells the asker nothing); a refund notice.
//! And in whose words: the organization's wording per language and per event, refused on
//! save when it is broken, previewed with a real order, and a new member's invitation.

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

/// `PUT`s a wording at `path`; the status and the answer.
async fn word(owner: &Organizer, path: &str, subject: &str, body: &str) -> (u16, Value) {
    owner.send(reqwest::Method::PUT, path, &json!({"subject": subject, "body": body})).await
}

/// The source of `kind` in `lang` in a `GET /api/v1/message-templates` answer.
fn source_of(list: &Value, kind: &str, lang: &str) -> String {
    let t = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == kind && t["lang"] == lang)
        .unwrap();
    t["source"].as_str().unwrap().to_owned()
}

/// Broken wordings are refused with the part, the line and the reason, and change nothing.
async fn broken_wordings_are_refused(owner: &Organizer, event: i64) {
    let path = "/api/v1/message-templates/order_confirmation/en";
    let cases = [
        ("Hi", "Hello\n\n{{ odrer.code }}", "body", "line 3"),
        ("Hi {{ event.name", "Hello", "subject", "line 1"),
        ("Hi", "{% for o in order.tickets %}\n{{ o.name }}", "body", "line 2"),
        ("Hi", "{{ buyer.name|shout }}", "body", "unknown filter"),
        (
            "Hi",
            "{% for a in range(9999) %}{% for b in range(9999) %}{% endfor %}{% endfor %}",
            "body",
            "too much work",
        ),
        ("Hi", "{% include 'secrets.txt' %}", "body", "line 1"),
        ("", "Hello", "subject", "write something"),
        ("Hi\u{0}", "Hello", "subject", "control characters"),
    ];
    for (subject, body, field, says) in cases {
        let (status, problem) = word(owner, path, subject, body).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{body}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains(says), "{says} in {problem}");
    }
    let members_only = format!("/api/v1/events/{event}/message-templates/member_invitation/en");
    assert_eq!(word(owner, &members_only, "Hi", "Hello").await.0, 422, "not a message about an event");
    assert_eq!(word(owner, "/api/v1/message-templates/order_receipt/en", "Hi", "Hello").await.0, 404);
    assert_eq!(word(owner, "/api/v1/message-templates/order_confirmation/fr", "Hi", "Hello").await.0, 404);
    let list = owner.get("/api/v1/message-templates").await;
    assert_eq!(source_of(&list, "order_confirmation", "en"), "default", "nothing was saved");

    // A text message: no subject, at most three SMS.
    let text = "/api/v1/message-templates/ticket_link_text/en";
    let (status, problem) = word(owner, text, "Hi", "Tickets: {{ order.url }}").await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("subject")), "{problem}");
    let long = "{% for t in order.tickets %}{% for i in [1, 2, 3, 4, 5, 6, 7, 8, 9] %}{{ event.name }} {{ event.when }} {% endfor %}{% endfor %}";
    let (status, problem) = word(owner, text, "", long).await;
    assert!(status == 422 && problem["detail"].as_str().unwrap().contains("at most 3"), "{problem}");
    let (status, saved) = word(owner, text, "", "{{ org.name }}: {{ order.url }}").await;
    assert_eq!((status, saved["source"].as_str()), (200, Some("organization")), "{saved}");
}

#[tokio::test]
async fn an_organizer_words_messages_per_language_and_event_and_buyers_read_those_words() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "words").await;
        let german = german_event(&owner).await;
        let english = put_on_sale(&owner, &festival()).await;
        let list = owner.get("/api/v1/message-templates").await;
        assert_eq!(
            (list["kinds"].as_array().unwrap().len(), list["templates"].as_array().unwrap().len()),
            (10, 30)
        );
        broken_wordings_are_refused(&owner, english).await;

        // The organization's German confirmation, and the English event's own.
        let (status, saved) = word(
            &owner,
            "/api/v1/message-templates/order_confirmation/de",
            "Karten für {{ event.name }}",
            "Moin {{ buyer.name }}!\n\n**{{ order.code }}**: {{ order.tickets_text }}\n\n[Zur Bestellung]({{ order.url }})",
        )
        .await;
        assert_eq!((status, saved["source"].as_str()), (200, Some("organization")), "{saved}");
        let event_path = format!("/api/v1/events/{english}/message-templates/order_confirmation/en");
        let (status, saved) =
            word(&owner, &event_path, "Welcome to {{ event.name }}", "See you, {{ buyer.name }}.").await;
        assert_eq!((status, saved["source"].as_str()), (200, Some("event")), "{saved}");

        // The preview of the English event's wording shows its real order once there is one.
        let ordered = paid_order(&hub, english, 1).await;
        let preview = json!({"kind": "order_confirmation", "lang": "en", "subject": "For {{ buyer.name }}",
            "body": "Order {{ order.code }} at {{ event.name }}", "event_id": english});
        let (status, shown) = owner.post("/api/v1/message-templates/preview", &preview).await;
        assert_eq!(status, 200, "{shown}");
        let code = ordered["code"].as_str().unwrap();
        assert_eq!(shown["facts"], format!("order {code}"));
        assert_eq!(shown["subject"], "For Frieda Fan");
        assert!(
            shown["text"].as_str().unwrap().contains(&format!("Order {code} at Summer Festival")),
            "{shown}"
        );

        let in_german = paid_order(&hub, german, 2).await;
        let mail = mailbox(&hub, 2).await;
        assert_eq!(mail[0].subject(), Some("Welcome to Summer Festival"), "{backend:?}");
        assert!(mail[0].body_text(0).unwrap().starts_with("See you, Frieda Fan."));
        assert_eq!(mail[0].attachments().count(), 1, "the tickets still go with it");
        assert_eq!(mail[1].subject(), Some("Karten für Summer Festival"));
        let german_code = in_german["code"].as_str().unwrap();
        let html = mail[1].body_html(0).unwrap();
        assert!(html.contains(&format!("<strong>{german_code}</strong>: 2 × Day")), "{html}");
        assert!(mail[1].body_text(0).unwrap().contains("Zur Bestellung <http"), "links read as text too");

        // Back to the organization's wording (here: the default) for the English event.
        let reset = owner.send(reqwest::Method::DELETE, &event_path, &Value::Null).await;
        assert_eq!(reset.0, 204, "{reset:?}");
        assert_eq!(owner.send(reqwest::Method::DELETE, &event_path, &Value::Null).await.0, 404);
        let list = owner.get(&format!("/api/v1/message-templates?event={english}")).await;
        assert_eq!(source_of(&list, "order_confirmation", "en"), "default");
        assert_eq!(source_of(&list, "order_confirmation", "de"), "organization");

        // A wording that renders with every sample but not with this buyer's facts: saved, and
        // the buyer still gets the confirmation — in the default wording.
        let trap = "{% if buyer.name == 'Frieda Fan' %}{{ nobody.knows }}{% endif %}Hello";
        let (status, saved) =
            word(&owner, "/api/v1/message-templates/order_confirmation/en", "Hi", trap).await;
        assert_eq!(status, 200, "{saved}");
        paid_order(&hub, english, 1).await;
        let mail = mailbox(&hub, 3).await;
        assert_eq!(mail[2].subject(), Some("Your tickets for Summer Festival"));
        assert_eq!(mail[2].attachments().count(), 1);
    }
}

#[tokio::test]
async fn a_new_member_is_told_by_email_in_the_organizations_language_never_with_the_password() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "dutch").await;
    let other = Organizer::create(&hub, "english").await;
    let changed =
        owner.send(reqwest::Method::PATCH, "/api/v1/organization", &json!({"language": "nl"})).await;
    assert_eq!(changed.0, 204, "{changed:?}");
    assert_eq!(owner.get("/api/v1/organization").await["language"], "nl");
    let password = "a-secret-password-42";
    let added = json!({"email": "Grace@Example.org", "name": "Grace", "role": "gate_staff", "initial_password": password});
    assert_eq!(owner.post("/api/v1/members", &added).await.0, 201);
    // Someone with an account already, added to another organization (in English).
    let again = json!({"email": "grace@example.org", "name": "Grace", "role": "viewer"});
    assert_eq!(other.post("/api/v1/members", &again).await.0, 201);

    let mail = mailbox(&hub, 2).await;
    assert_eq!(mail[0].subject(), Some("Owner heeft je toegevoegd aan Org dutch"));
    let text = mail[0].body_text(0).unwrap();
    assert!(
        text.contains("toegangscontrole") && text.contains("grace@example.org") && text.contains("/login"),
        "{text}"
    );
    assert!(
        !text.contains(password) && !mail[0].body_html(0).unwrap().contains(password),
        "never the password"
    );
    assert_eq!(mail[1].subject(), Some("Owner added you to Org english"));
    assert!(
        mail[1].body_text(0).unwrap().contains("Sign in with your usual login"),
        "the existing-account wording"
    );
}

/// In a real browser: the organizer rewords the German confirmation in the console, sees a
/// mistake refused beside the text with its line, previews the wording with the real order,
/// and saves it.
#[tokio::test]
async fn in_the_console_an_organizer_previews_a_wording_is_shown_a_mistake_by_its_line_and_saves() {
    use common::browser::{ChromeDriver, click, eventually, fill, log_in, screenshot, text};
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "console").await;
    let event = german_event(&owner).await;
    let placed = paid_order(&hub, event, 1).await;
    let code = placed["code"].as_str().unwrap();
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub.url, "owner@console.example").await;
    b.goto(&format!("{}/messages", hub.url)).await.unwrap();
    click(&b, "#edit-order_confirmation-de").await;
    eventually(10, "the editor", || async { text(&b, "#message-source").await == "Default" }).await;

    fill(&b, "#message-form textarea[name=body]", "Moin {{ buyer.name }}!\n\nBestellung {{ order.cod }}")
        .await;
    click(&b, "#message-preview").await;
    eventually(10, "the mistake shown beside the text", || async {
        let shown = text(&b, "#message-form .field-error").await;
        shown.contains("line 3") && shown.contains("no such name")
    })
    .await;
    fill(
        &b,
        "#message-form textarea[name=body]",
        "Moin {{ buyer.name }}!\n\nBestellung **{{ order.code }}**",
    )
    .await;
    fill(&b, "#message-form input[name=subject]", "Karten für {{ event.name }}").await;
    click(&b, "#message-preview").await;
    eventually(10, "the preview with the real order", || async {
        text(&b, "#preview-html").await.contains(&format!("Bestellung {code}"))
    })
    .await;
    assert_eq!(text(&b, "#preview-subject").await, "Karten für Summer Festival");
    assert!(text(&b, "#preview-html").await.contains("Moin Frieda Fan!"));
    screenshot(&b, "message-preview").await;
    assert_eq!(text(&b, "#message-source").await, "Default", "a preview saves nothing");

    click(&b, "#message-save").await;
    eventually(10, "saved", || async { text(&b, "#message-source").await == "Organization's" }).await;
    let list = owner.get("/api/v1/message-templates").await;
    assert_eq!(source_of(&list, "order_confirmation", "de"), "organization");
    assert_eq!(source_of(&list, "order_confirmation", "en"), "default");
}

/// The texts the simulated channel wrote, oldest first.
fn texts_sent(hub: &TestHub) -> Vec<Value> {
    let path = hub.config.data_dir.join("text-outbox.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A paid order of one ticket for `phone` (sent by `via`).
async fn paid_order_texting(hub: &TestHub, event: i64, phone: &str, via: &str) -> Value {
    let body = json!({"lines": [{"ticket_type": 1, "quantity": 1}], "email": "fan@example.org", "name": "Frieda Fan",
        "phone": phone, "text_via": via});
    let response =
        hub.post(&format!("/api/v1/public/events/{event}/orders")).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let placed: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{placed}");
    press_pay(hub, &start_payment(hub, &placed).await).await;
    placed
}

/// The texts of an order as staff see them.
async fn order_texts(owner: &Organizer, placed: &Value) -> Vec<Value> {
    let code = placed["code"].as_str().unwrap();
    owner.get(&format!("/api/v1/orders/{code}")).await["texts"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_buyer_who_gives_a_phone_gets_the_ticket_link_by_text_within_the_limits() {
    let clock = cloud::clock::Clock::manual(sync_core::ids::Timestamp::now().0);
    let hub = TestHub::start_configured(cloud::db::Backend::Sqlite, clock.clone(), |c| {
        c.checkouts_per_minute = 1000;
        c.texts_per_hour = 8;
    })
    .await;
    let owner = Organizer::create(&hub, "texts").await;
    let event = german_event(&owner).await;

    // A number that is not one: refused before anything is placed.
    let bad = json!({"lines": [{"ticket_type": 1, "quantity": 1}], "email": "fan@example.org", "name": "F", "phone": "06 1234 5678"});
    let response =
        hub.post(&format!("/api/v1/public/events/{event}/orders")).json(&bad).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["field"], "phone");

    let first = paid_order_texting(&hub, event, "+31 6 1234 5678", "sms").await;
    hub.state.texts.deliver_pending().await.unwrap();
    let sent = texts_sent(&hub);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let code = first["code"].as_str().unwrap();
    assert_eq!((sent[0]["to"].as_str(), sent[0]["via"].as_str()), (Some("+31612345678"), Some("sms")));
    let body = sent[0]["body"].as_str().unwrap();
    assert!(
        body.contains(code) && body.contains("/shop/orders/") && body.starts_with("Org texts: Ihre Tickets"),
        "{body}"
    );
    assert_eq!(order_texts(&owner, &first).await[0]["state"], "sent");
    let page = owner.authorize(hub.client.get(format!("{}/orders/{code}", hub.url))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("+31612345678 by sms · sent"), "the order page shows the text");

    // The same phone, six more orders: five texts an hour reach it, the rest are suppressed.
    let mut more = Vec::new();
    for _ in 0..6 {
        more.push(paid_order_texting(&hub, event, "+31612345678", "sms").await);
    }
    hub.state.texts.deliver_pending().await.unwrap();
    assert_eq!(texts_sent(&hub).len(), 5, "five to one phone at once");
    let last = order_texts(&owner, more.last().unwrap()).await;
    assert_eq!(last[0]["state"], "suppressed", "{last:?}");

    // Other phones: the organization's eight an hour (seven taken: the organization's bucket is
    // asked first, the two suppressed took theirs) are spent after one more; the rest wait.
    let mut others = Vec::new();
    for n in 0..5 {
        others.push(paid_order_texting(&hub, event, &format!("+3161234570{n}"), "sms").await);
    }
    hub.state.texts.deliver_pending().await.unwrap();
    assert_eq!(texts_sent(&hub).len(), 6, "the organization's hour is spent");
    let waiting = order_texts(&owner, others.last().unwrap()).await;
    assert_eq!(waiting[0]["state"], "pending", "{waiting:?}");
    assert!(waiting[0]["last_error"].as_str().unwrap().contains("hourly limit"), "{waiting:?}");
    clock.advance(3_600_000);
    hub.state.texts.deliver_pending().await.unwrap();
    assert_eq!(texts_sent(&hub).len(), 10, "an hour later the waiting ones go; none was lost");
}

#[tokio::test]
async fn texts_go_out_through_twilio_by_sms_and_whatsapp_as_its_emulator_takes_them() {
    let twilio = common::twilio::Twilio::start();
    let api = twilio.url.clone();
    let hub = TestHub::start_configured(cloud::db::Backend::Sqlite, cloud::clock::Clock::wall(), move |c| {
        c.checkouts_per_minute = 1000;
        c.twilio = Some(cloud::config::TwilioConfig {
            account_sid: common::twilio::ACCOUNT_SID.into(),
            auth_token: common::twilio::AUTH_TOKEN.to_owned().into(),
            from: common::twilio::FROM.into(),
            whatsapp_from: "+14155238886".into(),
            api_base: api.clone(),
        });
    })
    .await;
    let owner = Organizer::create(&hub, "twilio").await;
    let event = put_on_sale(&owner, &festival()).await;

    let by_sms = paid_order_texting(&hub, event, "+31612345678", "sms").await;
    // WhatsApp before the account has a WhatsApp sender: Twilio refuses, for good.
    let refused = paid_order_texting(&hub, event, "+31612345679", "whatsapp").await;
    hub.state.texts.deliver_pending().await.unwrap();
    let got = twilio.messages_to("+31612345678").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["from"], common::twilio::FROM);
    let body = got[0]["body"].as_str().unwrap();
    assert!(
        body.contains(by_sms["code"].as_str().unwrap()) && body.starts_with("Org twilio: your tickets"),
        "{body}"
    );
    let texts = order_texts(&owner, &by_sms).await;
    assert_eq!(texts[0]["state"], "sent", "{texts:?}");
    let failed = order_texts(&owner, &refused).await;
    assert_eq!(failed[0]["state"], "failed", "{failed:?}");
    assert!(failed[0]["last_error"].as_str().unwrap().contains("Twilio 400"), "{failed:?}");

    twilio.add_number("whatsapp:+14155238886").await;
    let by_whatsapp = paid_order_texting(&hub, event, "+31612345680", "whatsapp").await;
    hub.state.texts.deliver_pending().await.unwrap();
    let got = twilio.messages_to("whatsapp:+31612345680").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["from"], "whatsapp:+14155238886");
    assert!(got[0]["body"].as_str().unwrap().contains(by_whatsapp["code"].as_str().unwrap()));
}
