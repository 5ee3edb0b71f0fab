//! Vouchers and automatic discounts against a real hub, on both backends: no code is used more
//! often than it may be — by 64 buyers at once, in a flash sale, across lapses, cancellations
//! and refunds — a code that sets tickets aside keeps them through a sell-out, every price is
//! exact to the minor unit from the shop's quote to the tickets and the report, bad terms
//! change nothing, and guessing codes stops.

mod common;

use cloud::clock::Clock;
use common::{Organizer, TestHub, event_on_sale, press_pay, start_payment};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::Timestamp;

/// A voucher of `event` with `terms`; its code.
async fn voucher(owner: &Organizer, event: i64, code: &str, terms: Value) -> String {
    let (status, made) =
        owner.post(&format!("/api/v1/events/{event}/vouchers"), &json!({"code": code, "terms": terms})).await;
    assert_eq!(status, 201, "{made}");
    made["code"].as_str().unwrap().to_owned()
}

/// A buyer orders `lines` with `code`.
async fn buy(hub: &TestHub, event: i64, lines: Value, code: Option<&str>) -> (u16, Value) {
    let response = hub
        .post(&format!("/api/v1/public/events/{event}/orders"))
        .json(&json!({"lines": lines, "email": "fan@example.org", "name": "Fan", "voucher": code}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn one(ticket_type: u16, quantity: u32) -> Value {
    json!([{"ticket_type": ticket_type, "quantity": quantity}])
}

async fn detail(owner: &Organizer, event: i64, code: &str) -> Value {
    owner.get(&format!("/api/v1/events/{event}/vouchers/{code}")).await
}

async fn pay(hub: &TestHub, order: &Value) {
    press_pay(hub, &start_payment(hub, order).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_use_code_offered_by_64_buyers_at_once_is_redeemed_once() {
    for backend in common::BACKENDS {
        let hub = Arc::new(TestHub::start(backend).await);
        let owner = Organizer::create(&hub, "gig").await;
        let event = event_on_sale(&owner, 1000, 4000).await;
        let code = voucher(&owner, event, "ONCE", json!({"price": {"mode": "percent", "percent": 50}})).await;
        let mut buyers = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let (hub, code) = (Arc::clone(&hub), code.clone());
            buyers.spawn(async move { buy(&hub, event, one(1, 1), Some(&code)).await });
        }
        let mut placed = Vec::new();
        while let Some(answer) = buyers.join_next().await {
            let (status, body) = answer.unwrap();
            match status {
                201 => placed.push(body),
                409 => assert_eq!(body["code"], "voucher_used_up", "{body}"),
                other => panic!("{backend:?}: {other} {body}"),
            }
        }
        assert_eq!(placed.len(), 1, "{backend:?}");
        assert_eq!(placed[0]["total_minor"], 2000);
        assert_eq!(placed[0]["voucher"], "ONCE");
        let v = detail(&owner, event, "once").await;
        assert_eq!(
            (v["voucher"]["held"].as_i64(), v["voucher"]["redeemed"].as_i64()),
            (Some(1), Some(0)),
            "{v}"
        );
        pay(&hub, &placed[0]).await;
        let v = detail(&owner, event, "ONCE").await;
        assert_eq!(
            (v["voucher"]["held"].as_i64(), v["voucher"]["redeemed"].as_i64()),
            (Some(0), Some(1)),
            "{v}"
        );
        assert_eq!(v["redemptions"].as_array().map(Vec::len), Some(1), "{v}");
        assert_eq!(v["redemptions"][0]["status"], "paid");
        // The refused orders took no tickets.
        let types = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(
            (types["ticket_types"][0]["sold"].as_i64(), types["ticket_types"][0]["held"].as_i64()),
            (Some(1), Some(0))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_with_100_uses_is_used_exactly_100_times_in_a_flash_sale() {
    let hub = Arc::new(TestHub::start(cloud::db::Backend::Postgres).await);
    let owner = Organizer::create(&hub, "flash").await;
    let event = event_on_sale(&owner, 10_000, 2500).await;
    let terms =
        json!({"price": {"mode": "subtract", "amount_minor": 500}, "max_uses": 100, "max_per_order": 4});
    let code = voucher(&owner, event, "FLASH-100", terms).await;
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut buyers = tokio::task::JoinSet::new();
    for _ in 0..120 {
        let (hub, code, limit) = (Arc::clone(&hub), code.clone(), Arc::clone(&limit));
        buyers.spawn(async move {
            let _slot = limit.acquire().await.unwrap();
            let (status, body) = buy(&hub, event, one(1, 1), Some(&code)).await;
            match status {
                201 => {
                    pay(&hub, &body).await;
                    body["lines"][0]["quantity"].as_i64().unwrap()
                }
                409 => {
                    assert_eq!(body["code"], "voucher_used_up", "{body}");
                    0
                }
                other => panic!("{other} {body}"),
            }
        });
    }
    let mut used = 0;
    while let Some(uses) = buyers.join_next().await {
        used += uses.unwrap();
    }
    let v = detail(&owner, event, &code).await;
    assert_eq!(v["voucher"]["redeemed"].as_i64(), Some(used), "{v}");
    assert_eq!(used, 100);
    let paid_discount: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(l.discount_minor) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'paid'",
    )
    .fetch_one(&mut *hub.inspect().await)
    .await
    .unwrap();
    assert_eq!(paid_discount, used * 500);
}

#[tokio::test]
async fn lapsed_and_cancelled_orders_give_uses_back_and_a_refund_only_when_asked() {
    for backend in common::BACKENDS {
        let hub = TestHub::start_configured(backend, Clock::manual(Timestamp::now().0), |c| {
            c.checkouts_per_minute = 1_000_000;
        })
        .await;
        let owner = Organizer::create(&hub, "club").await;
        let event = event_on_sale(&owner, 100, 3000).await;
        let code =
            voucher(&owner, event, "MEMBER", json!({"price": {"mode": "set", "price_minor": 1000}})).await;

        let (status, first) = buy(&hub, event, one(1, 1), Some(&code)).await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.0, 409, "held by the first");
        hub.clock.advance(16 * 60_000);
        assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 1);
        // Lapsed: the use is back.
        let (status, second) = buy(&hub, event, one(1, 1), Some(&code)).await;
        assert_eq!(status, 201, "{second}");
        let cancel = hub.post(&format!("/api/v1/orders/{}/cancel", second["code"].as_str().unwrap()));
        assert_eq!(owner.authorize(cancel).send().await.unwrap().status(), 204);
        // Cancelled: back again.
        let (status, third) = buy(&hub, event, one(1, 1), Some(&code)).await;
        assert_eq!(status, 201, "{third}");
        pay(&hub, &third).await;
        // A refund keeps the code used unless the organizer says otherwise.
        let refunds = format!("/api/v1/orders/{}/refunds", third["code"].as_str().unwrap());
        let (status, _) = owner.post(&refunds, &json!({"reason": "ill"})).await;
        assert_eq!(status, 201);
        assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.1["code"], "voucher_used_up");

        let code =
            voucher(&owner, event, "GIVEBACK", json!({"price": {"mode": "set", "price_minor": 1000}})).await;
        let (_, fourth) = buy(&hub, event, one(1, 1), Some(&code)).await;
        pay(&hub, &fourth).await;
        let refunds = format!("/api/v1/orders/{}/refunds", fourth["code"].as_str().unwrap());
        let (status, refund) =
            owner.post(&refunds, &json!({"reason": "moved", "give_back_voucher": true})).await;
        assert_eq!((status, refund["amount_minor"].as_i64()), (201, Some(1000)), "{refund}");
        let v = detail(&owner, event, &code).await;
        assert_eq!(
            (v["voucher"]["redeemed"].as_i64(), v["voucher"]["held"].as_i64()),
            (Some(0), Some(0)),
            "{v}"
        );
        assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.0, 201, "{backend:?}: given back");
    }
}

#[tokio::test]
async fn a_code_that_sets_tickets_aside_keeps_them_through_a_sell_out() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "arena").await;
        let event = event_on_sale(&owner, 10, 5000).await;
        let terms = json!({"price": {"mode": "set", "price_minor": 0}, "ticket_types": [1], "max_uses": 3, "reserves": true, "tag": "sponsors"});
        let code = voucher(&owner, event, "SPONSOR", terms).await;
        let shop = hub
            .get(&format!("/api/v1/public/events/{event}"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(shop["ticket_types"][0]["available"], 7, "{shop}");
        // The public sells out at 7.
        assert_eq!(buy(&hub, event, one(1, 7), None).await.0, 201);
        assert_eq!(buy(&hub, event, one(1, 1), None).await.1["code"], "sold_out");
        // The sponsor's three are still there, free.
        let (status, sponsor) = buy(&hub, event, one(1, 2), Some(&code)).await;
        assert_eq!((status, sponsor["total_minor"].as_i64()), (201, Some(0)), "{sponsor}");
        let (status, last) = buy(&hub, event, one(1, 1), Some("sponsor")).await;
        assert_eq!(status, 201, "{last}");
        assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.1["code"], "voucher_used_up");
        let types = owner.get(&format!("/api/v1/events/{event}")).await;
        let t = &types["ticket_types"][0];
        assert_eq!(
            (t["sold"].as_i64(), t["held"].as_i64(), t["reserved"].as_i64()),
            (Some(3), Some(7), Some(0)),
            "{t}: the sponsors' free orders are paid at once"
        );
        // Nothing is left to set aside for another.
        let more = json!({"code": "MORE", "terms": {"price": {"mode": "unlock"}, "ticket_types": [1], "reserves": true}});
        let (status, refused) = owner.post(&format!("/api/v1/events/{event}/vouchers"), &more).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (409, Some("not_enough_tickets")),
            "{backend:?} {refused}"
        );

        // Blocking gives what is set aside back to general sale; unblocking takes it again.
        let event = event_on_sale(&owner, 10, 5000).await;
        let terms =
            json!({"price": {"mode": "unlock"}, "ticket_types": [1], "max_uses": 4, "reserves": true});
        let code = voucher(&owner, event, "GUESTS", terms).await;
        let available = async || {
            let shop: Value = hub
                .get(&format!("/api/v1/public/events/{event}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            shop["ticket_types"][0]["available"].as_i64().unwrap()
        };
        assert_eq!(available().await, 6);
        let path = format!("/api/v1/events/{event}/vouchers/{code}");
        assert_eq!(owner.send(reqwest::Method::PATCH, &path, &json!({"blocked": true})).await.0, 204);
        assert_eq!(available().await, 10);
        assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.1["code"], "voucher_not_valid");
        assert_eq!(
            owner.send(reqwest::Method::PATCH, &path, &json!({"blocked": false, "note": "back on"})).await.0,
            204
        );
        assert_eq!(available().await, 6);
        assert_eq!(detail(&owner, event, &code).await["voucher"]["note"], "back on");
    }
}

#[tokio::test]
async fn an_organizer_changes_a_codes_uses_and_validity_but_never_below_what_is_taken() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "edits").await;
        let event = event_on_sale(&owner, 10, 5000).await;
        let terms =
            json!({"price": {"mode": "unlock"}, "ticket_types": [1], "max_uses": 4, "reserves": true});
        let code = voucher(&owner, event, "CREW", terms).await;
        let path = format!("/api/v1/events/{event}/vouchers/{code}");
        let change = async |body: Value| owner.send(reqwest::Method::PATCH, &path, &body).await;
        let counters = async || {
            let t = &owner.get(&format!("/api/v1/events/{event}")).await["ticket_types"][0];
            let v = &detail(&owner, event, &code).await["voucher"];
            (
                v["max_uses"].as_i64().unwrap(),
                v["reserved"].as_i64().unwrap(),
                t["reserved"].as_i64().unwrap(),
            )
        };
        assert_eq!(buy(&hub, event, one(1, 2), Some(&code)).await.0, 201);
        assert_eq!(counters().await, (4, 2, 2));

        // Below the two taken: refused, nothing changed.
        let (status, refused) = change(json!({"max_uses": 1, "note": "fewer"})).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("uses_taken")), "{backend:?} {refused}");
        assert_eq!(counters().await, (4, 2, 2));
        assert_eq!(detail(&owner, event, &code).await["voucher"]["note"], "", "the whole change refused");
        // More: sets more aside, as far as the type has tickets left (10 - 2 held - 2 aside).
        assert_eq!(change(json!({"max_uses": 6})).await.0, 204);
        assert_eq!(counters().await, (6, 4, 4));
        let (status, refused) = change(json!({"max_uses": 20})).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("not_enough_tickets")), "{refused}");
        assert_eq!(counters().await, (6, 4, 4));
        // Fewer: gives the rest back to general sale.
        assert_eq!(change(json!({"max_uses": 3})).await.0, 204);
        assert_eq!(counters().await, (3, 1, 1));
        assert_eq!(buy(&hub, event, one(1, 2), Some(&code)).await.1["code"], "voucher_used_up");
        assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.0, 201);

        // Validity and uses per order, changed before a buyer tries the code.
        let plain = voucher(
            &owner,
            event,
            "PLAIN",
            json!({"price": {"mode": "percent", "percent": 10}, "max_uses": 50}),
        )
        .await;
        let path = format!("/api/v1/events/{event}/vouchers/{plain}");
        let now = hub.clock.now_ms();
        let ended =
            json!({"valid_from": now - 7_200_000, "valid_until": now - 3_600_000, "max_per_order": 1});
        assert_eq!(owner.send(reqwest::Method::PATCH, &path, &ended).await.0, 204);
        assert_eq!(buy(&hub, event, one(1, 1), Some(&plain)).await.1["code"], "voucher_not_valid");
        let backwards = json!({"valid_until": now - 10_000_000});
        let (status, refused) = owner.send(reqwest::Method::PATCH, &path, &backwards).await;
        assert_eq!((status, refused["field"].as_str()), (422, Some("valid_until")), "{refused}");
        let open = json!({"valid_from": null, "valid_until": null});
        assert_eq!(owner.send(reqwest::Method::PATCH, &path, &open).await.0, 204);
        let v = &detail(&owner, event, &plain).await["voucher"];
        assert_eq!(
            (v["valid_from"].is_null(), v["valid_until"].is_null(), v["max_per_order"].as_i64()),
            (true, true, Some(1)),
            "{v}"
        );
    }
}

#[tokio::test]
async fn prices_are_shown_before_paying_kept_per_line_and_exact_to_the_minor_unit() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "theatre").await;
        let mut event = common::festival();
        event["ticket_types"] = json!([
            {"name": "Stalls", "price_minor": 3333, "currency": "EUR", "capacity": 100, "entry_policy": "single_entry"},
            {"name": "Crew", "price_minor": 2000, "currency": "EUR", "capacity": 10, "entry_policy": "single_entry", "hidden": true}
        ]);
        let event = common::put_on_sale(&owner, &event).await;
        let now = Timestamp::now().0;
        for rule in [
            json!({"name": "Early bird", "effect": {"mode": "set", "price_minor": 2500}, "ticket_types": [1], "valid_until": now + 3_600_000}),
            json!({"name": "Four or more", "effect": {"mode": "percent", "percent": 30}, "min_quantity": 4}),
            json!({"name": "Expired", "effect": {"mode": "set", "price_minor": 1}, "valid_until": now - 1}),
        ] {
            let (status, made) = owner.post(&format!("/api/v1/events/{event}/discounts"), &rule).await;
            assert_eq!(status, 201, "{made}");
        }
        // Three: the early bird; four: 30 % off beats it.
        let quote = |lines: Value, code: Option<&str>| {
            let request = hub
                .post(&format!("/api/v1/public/events/{event}/quote"))
                .json(&json!({"lines": lines, "voucher": code}));
            async move {
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.json::<Value>().await.unwrap())
            }
        };
        let (_, three) = quote(one(1, 3), None).await;
        assert_eq!(
            (three["total_minor"].as_i64(), three["lines"][0]["discount_reason"].as_str()),
            (Some(7500), Some("Early bird")),
            "{three}"
        );
        let (_, four) = quote(one(1, 4), None).await;
        // 30 % of 3333 = 999.9 → 1000 a ticket.
        assert_eq!(
            (four["total_minor"].as_i64(), four["lines"][0]["discount_minor"].as_i64()),
            (Some(9332), Some(4000)),
            "{four}"
        );
        let (status, order) = buy(&hub, event, one(1, 4), None).await;
        assert_eq!(
            (status, &order["total_minor"], &order["lines"]),
            (201, &four["total_minor"], &four["lines"])
        );

        // The hidden type: not in the shop, not for sale without its code, at its price with it.
        let shop: Value =
            hub.get(&format!("/api/v1/public/events/{event}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(shop["ticket_types"].as_array().map(Vec::len), Some(1), "{shop}");
        let (status, refused) = buy(&hub, event, one(2, 1), None).await;
        assert_eq!((status, refused["field"].as_str()), (422, Some("lines[0].ticket_type")), "{refused}");
        let terms = json!({"price": {"mode": "percent", "percent": 15}, "ticket_types": [2], "unlocks_hidden": true, "max_uses": 10, "tag": "crew"});
        let crew = voucher(&owner, event, "CREW-2026", terms).await;
        let (status, crew_order) = buy(
            &hub,
            event,
            json!([{"ticket_type": 2, "quantity": 3}, {"ticket_type": 1, "quantity": 1}]),
            Some(&crew),
        )
        .await;
        assert_eq!(status, 201, "{crew_order}");
        // Crew: 3 × 2000 − 15 % = 5100; the stalls ticket: early bird 2500 (the voucher does not cover it).
        assert_eq!(crew_order["total_minor"], 7600, "{crew_order}");
        pay(&hub, &order).await;
        pay(&hub, &crew_order).await;
        let paid = common::order(&hub, &order).await;
        let prices: Vec<i64> =
            paid["tickets"].as_array().unwrap().iter().map(|t| t["price_minor"].as_i64().unwrap()).collect();
        assert_eq!(prices, vec![2333, 2333, 2333, 2333]);
        assert_eq!(prices.iter().sum::<i64>(), 9332);
        let paid = common::order(&hub, &crew_order).await;
        let sum: i64 =
            paid["tickets"].as_array().unwrap().iter().map(|t| t["price_minor"].as_i64().unwrap()).sum();
        assert_eq!(sum, 7600);

        // A refund of one ticket pays back its share, and the report has every discount.
        let refunds = format!("/api/v1/orders/{}/refunds", order["code"].as_str().unwrap());
        let serial = common::order(&hub, &order).await["tickets"][0]["serial"].as_u64().unwrap();
        let (_, refund) = owner.post(&refunds, &json!({"reason": "one less", "serials": [serial]})).await;
        assert_eq!(refund["amount_minor"], 2333, "{refund}");
        let report = owner.get(&format!("/api/v1/events/{event}/reports/discounts")).await;
        let rows = report["rows"].as_array().unwrap();
        let row = |tag: &str, reason: &str| {
            let found = rows.iter().find(|r| r[0] == tag && r[1] == reason).and_then(Value::as_array);
            found.unwrap_or_else(|| panic!("{report}"))[3..7].to_vec()
        };
        // tag, reason, orders, tickets, list, discount, paid, currency
        assert_eq!(row("", "Four or more"), [json!(4), json!(13332), json!(4000), json!(9332)], "{report}");
        assert_eq!(
            row("crew", "Voucher CREW-2026"),
            [json!(3), json!(6000), json!(900), json!(5100)],
            "{report}"
        );
        assert_eq!(row("", "Early bird"), [json!(1), json!(3333), json!(833), json!(2500)], "{report}");
        // The sales report has the same discounts beside the list value, by ticket type.
        let sales = owner.get(&format!("/api/v1/events/{event}/reports/sales")).await;
        let column =
            |name: &str| sales["columns"].as_array().unwrap().iter().position(|c| c == name).unwrap();
        let sum = |name: &str| {
            sales["rows"].as_array().unwrap().iter().map(|r| r[column(name)].as_i64().unwrap()).sum::<i64>()
        };
        assert_eq!(
            (sum("list_minor"), sum("discount_minor"), sum("gross_minor")),
            (4 * 3333 + 3333 + 6000, 4000 + 833 + 900, 9332 + 7600),
            "{sales}"
        );
    }
}

#[tokio::test]
async fn bad_terms_are_refused_with_a_clear_problem_and_change_nothing() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let owner = Organizer::create(&hub, "strict").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let path = format!("/api/v1/events/{event}/vouchers");
    let now = Timestamp::now().0;
    for (terms, field) in [
        (json!({"price": {"mode": "percent", "percent": 101}}), "terms.price.percent"),
        (json!({"price": {"mode": "set", "price_minor": -5}}), "terms.price"),
        (
            json!({"price": {"mode": "unlock"}, "valid_from": now, "valid_until": now - 1}),
            "terms.valid_until",
        ),
        (json!({"price": {"mode": "unlock"}, "ticket_types": [9]}), "terms.ticket_types[0]"),
        (json!({"price": {"mode": "unlock"}, "tag": "two\nlines"}), "terms.tag"),
    ] {
        let (status, problem) = owner.post(&path, &json!({"code": "BAD", "terms": terms})).await;
        assert_eq!(status, 422, "{terms}: {problem}");
        assert!(problem["field"].as_str().unwrap().starts_with(field), "{terms}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    let rules = format!("/api/v1/events/{event}/discounts");
    let (status, problem) =
        owner.post(&rules, &json!({"name": "x", "effect": {"mode": "buy_get", "buy": 3, "free": 0}})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(owner.get(&path).await["vouchers"], json!([]));
    assert_eq!(owner.get(&rules).await["discounts"], json!([]));
}

#[tokio::test]
async fn guessing_codes_through_the_shop_is_stopped_after_20_unknown_ones() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "guarded").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let code = voucher(
        &owner,
        event,
        "REALCODE",
        json!({"price": {"mode": "percent", "percent": 10}, "max_uses": 100}),
    )
    .await;
    assert_eq!(buy(&hub, event, one(1, 1), Some(&code)).await.0, 201, "valid codes do not count");
    for i in 0..20 {
        let (status, problem) = buy(&hub, event, one(1, 1), Some(&format!("GUESS{i:04}"))).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some("voucher")), "{problem}");
    }
    let response = hub
        .post(&format!("/api/v1/public/events/{event}/orders"))
        .json(&json!({"lines": one(1, 1), "email": "fan@example.org", "name": "Fan", "voucher": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "even a valid code, once out of attempts");
    assert!(response.headers().get("retry-after").is_some());
    assert_eq!(buy(&hub, event, one(1, 1), None).await.0, 201, "buying without a code still works");
}

#[tokio::test]
async fn a_batch_of_thousands_of_unique_codes_exports_as_csv_and_a_code_can_be_blocked() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let owner = Organizer::create(&hub, "campaign").await;
    let event = event_on_sale(&owner, 10_000, 1000).await;
    let batch =
        json!({"count": 3000, "terms": {"price": {"mode": "percent", "percent": 20}, "tag": "newsletter"}});
    let (status, made) = owner.post(&format!("/api/v1/events/{event}/voucher-batches"), &batch).await;
    assert_eq!(status, 201, "{made}");
    let codes: Vec<&str> = made["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let unique: std::collections::HashSet<&str> = codes.iter().copied().collect();
    assert_eq!((codes.len(), unique.len()), (3000, 3000));
    assert!(codes.iter().all(|c| c.len() == 12));
    let csv = owner
        .authorize(hub.get(&format!("/api/v1/events/{event}/vouchers?tag=newsletter&format=csv")))
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("vouchers.csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("code,mode,value"));
    let exported: std::collections::HashSet<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(exported, unique);
    // Pages of the list.
    let page = owner.get(&format!("/api/v1/events/{event}/vouchers?limit=1000")).await;
    assert_eq!(page["vouchers"].as_array().map(Vec::len), Some(1000));
    let next = page["next"].as_str().unwrap();
    let rest = owner.get(&format!("/api/v1/events/{event}/vouchers?after={next}&limit=5000")).await;
    assert_eq!((rest["vouchers"].as_array().map(Vec::len), &rest["next"]), (Some(2000), &Value::Null));

    let blocked = codes[0];
    let patch = owner
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/events/{event}/vouchers/{blocked}"),
            &json!({"blocked": true}),
        )
        .await;
    assert_eq!(patch.0, 204, "{patch:?}");
    let (status, problem) = buy(&hub, event, one(1, 1), Some(blocked)).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("voucher_not_valid")), "{problem}");
    assert_eq!(buy(&hub, event, one(1, 1), Some(codes[1])).await.0, 201);
}

/// In a real browser: the organizer makes a batch of single-use codes on the vouchers page,
/// finds its export, and blocks one; a buyer follows a link with another code, sees the
/// discount before paying (after a mistyped code is refused in words), and pays the
/// discounted price.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_makes_and_exports_a_batch_and_a_buyer_redeems_a_code_in_the_shop() {
    use common::browser::{
        ChromeDriver, buy_and_pay, click, eventually, fill, log_in, path, screenshot, text,
    };
    use fantoccini::Locator;
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 100, 4000).await;
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub.url, "owner@festival.example").await;

    b.goto(&format!("{}/events/{event}", hub.url)).await.unwrap();
    click(&b, "#vouchers-link").await;
    eventually(10, "the vouchers page", || async { path(&b).await == format!("/events/{event}/vouchers") })
        .await;
    b.execute("document.querySelectorAll('details').forEach((d) => d.open = true)", vec![]).await.unwrap();
    fill(&b, "#batch-form [name=count]", "25").await;
    fill(&b, "#batch-form [name='terms.price.percent']", "25").await;
    fill(&b, "#batch-form [name='terms.tag']", "newsletter").await;
    click(&b, "#batch-submit").await;
    eventually(10, "the batch listed", || async {
        b.find_all(Locator::Css("#vouchers tbody tr")).await.unwrap().len() == 25
    })
    .await;
    assert!(text(&b, "#vouchers tbody tr").await.contains("25 % off"));
    screenshot(&b, "vouchers-batch").await;
    let export = b.find(Locator::Css("#export")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert!(export.ends_with("format=csv&tag=newsletter"), "{export}");
    let csv = owner.authorize(hub.get(&export)).send().await.unwrap().text().await.unwrap();
    let codes: Vec<String> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 25, "{csv}");

    // Block the first.
    b.goto(&format!("{}/events/{event}/vouchers/{}", hub.url, codes[0])).await.unwrap();
    click(&b, "#voucher-block-button").await;
    eventually(10, "blocked", || async { text(&b, "#voucher-status").await == "Blocked" }).await;
    // Give the third code three uses, two at most per order.
    b.goto(&format!("{}/events/{event}/vouchers/{}", hub.url, codes[2])).await.unwrap();
    fill(&b, "#voucher-limits input[name=max_uses]", "3").await;
    fill(&b, "#voucher-limits input[name=max_per_order]", "2").await;
    click(&b, "#voucher-limits button").await;
    eventually(10, "three uses", || async { text(&b, "#voucher-used").await.ends_with("of 3") }).await;
    let v = detail(&owner, event, &codes[2]).await;
    assert_eq!(
        (v["voucher"]["max_uses"].as_i64(), v["voucher"]["max_per_order"].as_i64()),
        (Some(3), Some(2))
    );

    // A buyer with a link carrying the second code, who first mistypes it.
    b.goto(&format!("{}/shop/{event}?voucher={}", hub.url, codes[1])).await.unwrap();
    fill(&b, "#quantity-1", "1").await;
    fill(&b, "#voucher", "NOT-A-CODE").await;
    click(&b, "#voucher-apply").await;
    eventually(10, "the refusal", || async { text(&b, "#voucher-answer").await.contains("no such code") })
        .await;
    fill(&b, "#voucher", &codes[1].to_lowercase()).await;
    click(&b, "#voucher-apply").await;
    eventually(10, "the discounted total", || async { text(&b, "#shop-total").await.contains("30.00") })
        .await;
    assert!(text(&b, "#shop-discounts").await.contains(&format!("Voucher {}", codes[1])));
    screenshot(&b, "shop-voucher").await;
    buy_and_pay(&b, "Vera Voucher", "vera@example.org").await;
    let v = detail(&owner, event, &codes[1]).await;
    assert_eq!(v["voucher"]["redeemed"], 1, "{v}");
    assert_eq!(v["redemptions"][0]["discount_minor"], 1000, "{v}");
    // The blocked one is refused at checkout too.
    assert_eq!(buy(&hub, event, one(1, 1), Some(&codes[0])).await.1["code"], "voucher_not_valid");
    b.close().await.unwrap();
}

/// One step a property run takes.
#[derive(Clone, Debug)]
enum Step {
    /// A buyer orders `tickets`, with the voucher or without.
    Place { tickets: u32, voucher: bool },
    /// The `n`th order placed (modulo those placed) is paid (if it can be).
    Pay(usize),
    /// The `n`th is cancelled (if pending).
    Cancel(usize),
    /// The `n`th is refunded (if paid), giving the voucher's uses back or not.
    Refund(usize, bool),
    /// Holds lapse.
    Lapse,
    /// The voucher is blocked or unblocked.
    Block(bool),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (1u32..4, proptest::bool::weighted(0.7)).prop_map(|(tickets, voucher)| Step::Place { tickets, voucher }),
        4 => (0usize..12).prop_map(Step::Pay),
        1 => (0usize..12).prop_map(Step::Cancel),
        2 => (0usize..12, any::<bool>()).prop_map(|(n, back)| Step::Refund(n, back)),
        1 => Just(Step::Lapse),
        1 => any::<bool>().prop_map(Step::Block),
    ]
}

/// Whatever buyers and the organizer do, in any order — orders with and without a voucher that
/// sets 5 of 12 tickets aside, paid, cancelled, lapsed, refunded with or without giving the
/// use back, the voucher blocked and unblocked — the counters agree with the orders: uses never
/// exceed 5, held and redeemed uses are exactly those of pending and paid orders, what is set
/// aside is exactly what the voucher has left (none while blocked), and the type never sells
/// more than its capacity.
#[test]
fn voucher_counters_always_agree_with_the_orders() {
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let hub = rt.block_on(TestHub::start_configured(
        cloud::db::Backend::Sqlite,
        Clock::manual(Timestamp::now().0),
        |c| c.checkouts_per_minute = 1_000_000,
    ));
    rt.block_on(Organizer::create(&hub, "property"));
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&proptest::collection::vec(step(), 1..24), |steps| {
            rt.block_on(run_steps(&hub, &steps));
            Ok(())
        })
        .unwrap();
}

async fn run_steps(hub: &TestHub, steps: &[Step]) {
    // A fresh session each run: the runs' lapses move the hub's clock past a session's life.
    // Its clock moves past the login limit's interval first (one login per e-mail every 12 s
    // after a burst of 5): runs without a lapse would otherwise exhaust it (a 429, seen in CI).
    hub.clock.advance(cloud::limits::LOGIN_PER_EMAIL.every_ms);
    let owner = &Organizer::login(hub, "owner@property.example").await;
    let event = event_on_sale(owner, 12, 1000).await;
    let terms = json!({"price": {"mode": "subtract", "amount_minor": 400}, "ticket_types": [1], "max_uses": 5, "reserves": true});
    let code = voucher(owner, event, "PROP", terms).await;
    let voucher_path = format!("/api/v1/events/{event}/vouchers/{code}");
    let mut orders: Vec<Value> = Vec::new();
    for step in steps {
        match step {
            Step::Place { tickets, voucher } => {
                let (status, placed) =
                    buy(hub, event, one(1, *tickets), voucher.then_some(code.as_str())).await;
                assert!([201, 409].contains(&status), "{step:?}: {status} {placed}");
                if status == 201 {
                    orders.push(placed);
                }
            }
            Step::Pay(n) => {
                if let Some(order) = orders.get(n.checked_rem(orders.len()).unwrap_or(0)) {
                    let response =
                        hub.post(&format!("{}/payments", common::order_url(order))).send().await.unwrap();
                    if response.status() == 201 {
                        let started: Value = response.json().await.unwrap();
                        press_pay(hub, started["checkout_url"].as_str().unwrap()).await;
                    }
                }
            }
            Step::Cancel(n) => {
                if let Some(order) = orders.get(n.checked_rem(orders.len()).unwrap_or(0)) {
                    let cancel =
                        hub.post(&format!("/api/v1/orders/{}/cancel", order["code"].as_str().unwrap()));
                    owner.authorize(cancel).send().await.unwrap();
                }
            }
            Step::Refund(n, give_back) => {
                if let Some(order) = orders.get(n.checked_rem(orders.len()).unwrap_or(0)) {
                    let path = format!("/api/v1/orders/{}/refunds", order["code"].as_str().unwrap());
                    owner.post(&path, &json!({"reason": "property", "give_back_voucher": give_back})).await;
                }
            }
            Step::Lapse => {
                hub.clock.advance(16 * 60_000);
                cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap();
            }
            Step::Block(blocked) => {
                owner.send(reqwest::Method::PATCH, &voucher_path, &json!({"blocked": blocked})).await;
            }
        }
        check_counters(hub, owner, event, &code).await;
    }
}

async fn check_counters(hub: &TestHub, owner: &Organizer, event: i64, code: &str) {
    let v = detail(owner, event, code).await["voucher"].clone();
    let (redeemed, held, reserved) =
        (v["redeemed"].as_i64().unwrap(), v["held"].as_i64().unwrap(), v["reserved"].as_i64().unwrap());
    let uses = |status: &'static str| {
        let sql = "SELECT CAST(COALESCE(SUM(l.voucher_uses), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id \
                   WHERE o.event_id = $1 AND o.status = $2";
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(event)
                .bind(status)
                .fetch_one(&mut *hub.inspect().await)
                .await
                .unwrap()
        }
    };
    assert!(redeemed + held <= 5, "{v}");
    assert_eq!(held, uses("pending").await, "{v}");
    assert_eq!(redeemed, uses("paid").await, "{v}");
    let blocked = !v["blocked_at"].is_null();
    assert_eq!(reserved, if blocked { 0 } else { 5 - redeemed - held }, "{v}");
    let t = owner.get(&format!("/api/v1/events/{event}")).await["ticket_types"][0].clone();
    let (sold, t_held, t_reserved) =
        (t["sold"].as_i64().unwrap(), t["held"].as_i64().unwrap(), t["reserved"].as_i64().unwrap());
    assert_eq!(t_reserved, reserved, "{t} {v}");
    assert!(sold + t_held + t_reserved <= 12, "{t}");
    let valid: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND status = 'valid'")
            .bind(event)
            .fetch_one(&mut *hub.inspect().await)
            .await
            .unwrap();
    assert_eq!(valid, sold, "{t}");
}

/// Price tiers: the first 5 at 20.00, the next 5 at 25.00, then the list price — by the
/// tickets' exact places in the sale, also when an order spans a boundary; and with 64 buyers
/// at once, exactly the first 20 tickets of a tier get its price.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_tiers_go_by_each_tickets_place_in_the_sale_even_under_load() {
    for backend in common::BACKENDS {
        let hub = Arc::new(TestHub::start(backend).await);
        let owner = Organizer::create(&hub, "tiers").await;
        let event = event_on_sale(&owner, 1000, 3000).await;
        for (name, price, first) in [("First 5", 2000, 5), ("Next 5", 2500, 10)] {
            let rule = json!({"name": name, "effect": {"mode": "set", "price_minor": price}, "first_tickets": first});
            assert_eq!(owner.post(&format!("/api/v1/events/{event}/discounts"), &rule).await.0, 201);
        }
        let (_, a) = buy(&hub, event, one(1, 3), None).await;
        assert_eq!(a["total_minor"], 6000, "{a}");
        let (_, b) = buy(&hub, event, one(1, 4), None).await;
        assert_eq!(
            (&b["total_minor"], &b["lines"][0]["discount_reason"]),
            (&json!(9000), &json!("First 5 + Next 5")),
            "{b}"
        );
        let (_, c) = buy(&hub, event, one(1, 4), None).await;
        assert_eq!(c["total_minor"], 3 * 2500 + 3000, "{c}");
        // Refusing the middle order's hold gives its places back to the next buyer.
        let cancel = hub.post(&format!("/api/v1/orders/{}/cancel", b["code"].as_str().unwrap()));
        assert_eq!(owner.authorize(cancel).send().await.unwrap().status(), 204);
        let (_, d) = buy(&hub, event, one(1, 1), None).await;
        assert_eq!(d["total_minor"], 2500, "place 8: {d}");
        pay(&hub, &c).await;
        let paid = common::order(&hub, &c).await;
        let sum: i64 =
            paid["tickets"].as_array().unwrap().iter().map(|t| t["price_minor"].as_i64().unwrap()).sum();
        assert_eq!(sum, 10_500);

        let event = event_on_sale(&owner, 1000, 2000).await;
        let rule =
            json!({"name": "First 20", "effect": {"mode": "set", "price_minor": 1000}, "first_tickets": 20});
        assert_eq!(owner.post(&format!("/api/v1/events/{event}/discounts"), &rule).await.0, 201);
        let mut buyers = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let hub = Arc::clone(&hub);
            buyers.spawn(async move { buy(&hub, event, one(1, 1), None).await });
        }
        let mut totals = Vec::new();
        while let Some(answer) = buyers.join_next().await {
            let (status, body) = answer.unwrap();
            assert_eq!(status, 201, "{body}");
            totals.push(body["total_minor"].as_i64().unwrap());
        }
        let cheap = totals.iter().filter(|t| **t == 1000).count();
        assert_eq!((cheap, totals.len() - cheap), (20, 44), "{backend:?}: {totals:?}");
        let stored: i64 =
            sqlx::query_scalar("SELECT CAST(SUM(total_minor) AS BIGINT) FROM orders WHERE event_id = $1")
                .bind(event)
                .fetch_one(&mut *hub.inspect().await)
                .await
                .unwrap();
        assert_eq!(stored, 20 * 1000 + 44 * 2000);
    }
}

/// An add-on (parking) has its own capacity and its own signed ticket, and is sold only with a
/// ticket.
#[tokio::test]
async fn an_add_on_is_sold_only_with_a_ticket_from_its_own_capacity() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "parking").await;
    let mut event = common::festival();
    event["ticket_types"] = json!([
        {"name": "Day", "price_minor": 4000, "currency": "EUR", "capacity": 100, "entry_policy": "single_entry"},
        {"name": "Parking", "price_minor": 1000, "currency": "EUR", "capacity": 2, "entry_policy": "single_entry", "addon": true}
    ]);
    let event = common::put_on_sale(&owner, &event).await;
    let (status, refused) = buy(&hub, event, one(2, 1), None).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("lines[0].ticket_type")), "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("only with a ticket"), "{refused}");
    let both = json!([{"ticket_type": 1, "quantity": 2}, {"ticket_type": 2, "quantity": 2}]);
    let (status, order) = buy(&hub, event, both.clone(), None).await;
    assert_eq!((status, order["total_minor"].as_i64()), (201, Some(10_000)), "{order}");
    assert_eq!(buy(&hub, event, both, None).await.1["code"], "sold_out", "two parking places in all");
    pay(&hub, &order).await;
    let paid = common::order(&hub, &order).await;
    let types: Vec<i64> =
        paid["tickets"].as_array().unwrap().iter().map(|t| t["ticket_type"].as_i64().unwrap()).collect();
    assert_eq!(types, vec![1, 1, 2, 2], "each admission its own ticket");
    let shop = hub.get(&format!("/shop/{event}")).send().await.unwrap().text().await.unwrap();
    assert!(shop.contains("Add-on: only with a ticket"), "{shop}");
}
