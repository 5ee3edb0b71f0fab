//! The shop as a buyer meets it, in a real browser at phone width (390 × 844, a common phone),
//! asking for Dutch: the event's description, venue and time range on the venue's clock, each
//! type's availability, the organizer's terms, a running total — all in Dutch, with nothing
//! wider than the screen; then bought with the keyboard alone (Tab, typing, Enter), paid, and
//! the order page saying what happens next. The language chooser switches to German.

mod common;

use common::browser::{ChromeDriver, eventually, screenshot, text};
use common::{Organizer, TestHub, festival, put_on_sale};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

/// The id of the element that has the keyboard focus.
async fn focused(b: &Client) -> String {
    b.execute("return document.activeElement && document.activeElement.id", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Presses Tab until the element with `id` has the focus (at most 30 times), as a keyboard
/// user moves through the page.
async fn tab_to(b: &Client, id: &str) {
    for _ in 0..30 {
        if focused(b).await == id {
            return;
        }
        b.active_element().await.unwrap().send_keys(&char::from(Key::Tab).to_string()).await.unwrap();
    }
    panic!("Tab never reached #{id}");
}

/// Types `keys` into whatever has the focus.
async fn type_keys(b: &Client, keys: &str) {
    b.active_element().await.unwrap().send_keys(keys).await.unwrap();
}

async fn html_lang(b: &Client) -> String {
    b.execute("return document.documentElement.lang", vec![]).await.unwrap().as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_on_a_phone_buys_in_their_language_with_the_keyboard_alone() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "paradiso").await;
    let (status, _) = owner
        .send(
            reqwest::Method::PATCH,
            "/api/v1/organization",
            &json!({"name": "Paradiso Live", "terms_url": "https://paradiso.example/voorwaarden", "privacy_url": "https://paradiso.example/privacy"}),
        )
        .await;
    assert_eq!(status, 204);
    let mut event = festival();
    // 12:00 UTC on Sunday 13 June 2027: 14:00 in Amsterdam; until 23:00.
    event["starts_at"] = json!(1_812_888_000_000_i64);
    event["ends_at"] = json!(1_812_888_000_000_i64 + 9 * 3_600_000);
    event["description"] = json!("Een avond vol nieuwe namen.\n\nDeuren open om 14:00.");
    event["venue_name"] = json!("Paradiso");
    event["venue_address"] = json!("Weteringschans 6, Amsterdam");
    event["ticket_types"] = json!([
        {"name": "Staanplaats", "price_minor": 4500, "currency": "EUR", "capacity": 100, "entry_policy": "single_entry",
         "description": "Beneden in de zaal"},
        {"name": "Balkon", "price_minor": 6000, "currency": "EUR", "capacity": 3, "entry_policy": "single_entry"},
        {"name": "Meet & greet", "price_minor": 9000, "currency": "EUR", "capacity": 0, "entry_policy": "single_entry"}
    ]);
    let id = put_on_sale(&owner, &event).await;

    // The organizer's event page offers the same to change.
    let console =
        owner.authorize(hub.get(&format!("/events/{id}"))).send().await.unwrap().text().await.unwrap();
    for field in
        [r#"name="venue_name" value="Paradiso""#, r#"<option value="en" selected>"#, "Deuren open om 14:00."]
    {
        assert!(console.contains(field), "{field} on the event page");
    }

    let driver = ChromeDriver::start();
    let b = driver.browser_as(390, 844, "nl-NL,nl;q=0.9,en;q=0.5").await;
    b.goto(&format!("{}/shop/{id}", hub.url)).await.unwrap();
    assert_eq!(html_lang(&b).await, "nl", "the browser's language");
    screenshot(&b, "shop-phone-nl").await;
    let page = text(&b, "main").await;
    for expected in [
        "zo 13 juni 2027, 14:00–23:00",
        "Paradiso, Weteringschans 6, Amsterdam",
        "Een avond vol nieuwe namen.",
        "Deuren open om 14:00.",
        "Beneden in de zaal",
        "45,00 EUR",
        "Nog maar 3",
        "Uitverkocht",
        "Geen boekingskosten",
        "Paradiso Live",
    ] {
        assert!(page.contains(expected), "{expected:?} on the shop page:\n{page}");
    }
    let terms = b.find(Locator::Css("#shop-terms a")).await.unwrap().attr("href").await.unwrap();
    assert_eq!(terms.as_deref(), Some("https://paradiso.example/voorwaarden"));
    let overflow: Value =
        b.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    assert!(overflow.as_i64().unwrap() <= 0, "nothing wider than the phone: {overflow}");

    // The keyboard alone: Tab to each field, type, Enter on the button.
    tab_to(&b, "quantity-1").await;
    type_keys(&b, &format!("{}2", char::from(Key::Backspace))).await;
    tab_to(&b, "quantity-2").await;
    type_keys(&b, &format!("{}1", char::from(Key::Backspace))).await;
    eventually(5, "the running total", || async { text(&b, "#shop-total").await.contains("150,00") }).await;
    tab_to(&b, "buyer-name").await;
    type_keys(&b, "Anna de Vries").await;
    tab_to(&b, "buyer-email").await;
    type_keys(&b, "anna@example.nl").await;
    tab_to(&b, "buy").await;
    type_keys(&b, &char::from(Key::Enter).to_string()).await;
    eventually(10, "the payment page", || async {
        text(&b, "body").await.contains("Simulated payment provider")
    })
    .await;
    tab_to(&b, "pay").await;
    type_keys(&b, &char::from(Key::Enter).to_string()).await;
    eventually(10, "the paid order", || async { text(&b, "#order-status").await.starts_with("Betaald.") })
        .await;
    assert_eq!(html_lang(&b).await, "nl");
    screenshot(&b, "shop-phone-order-nl").await;
    let mailed = text(&b, "#order-mailed").await;
    assert!(mailed.contains("anna@example.nl"), "what happens next: {mailed}");
    assert_eq!(b.find_all(Locator::Css(".ticket img")).await.unwrap().len(), 3, "three tickets on screen");

    // The language chooser.
    b.goto(&format!("{}/shop/{id}", hub.url)).await.unwrap();
    b.find(Locator::Css("nav.languages a[lang=de]")).await.unwrap().click().await.unwrap();
    eventually(5, "the German shop", || async { html_lang(&b).await == "de" }).await;
    assert!(text(&b, "#buy").await.contains("Weiter zur Zahlung"));
    assert!(text(&b, "main").await.contains("So. 13. Juni 2027"));
    b.close().await.unwrap();
}
