//! Scheduled reports as the members receive them (read back with a real MIME parser): a
//! report at its time on the venue's clock, as CSV and PDF, to the roles the schedule names;
//! once per slot however often the rounds come and however many instances run them; every
//! slot missed in an outage accounted for by one catch-up report; a restart neither repeating
//! nor skipping. And the schedule refused when it is wrong, changing nothing.

mod common;

use cloud::clock::Clock;
use cloud::db::Backend;
use cloud::schedules::run::{Services, run_due};
use cloud::state::AppState;
use common::{BACKENDS, Organizer, TestHub, checkout, festival, press_pay, put_on_sale, start_payment};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};

/// Unix ms of a local time in Amsterdam (the test event's zone).
fn amsterdam(local: &str) -> i64 {
    let at: jiff::civil::DateTime = local.parse().unwrap();
    at.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap()).unwrap().timestamp().as_millisecond()
}

/// One maintenance round's report step on `state`: how many reports it queued.
async fn round(state: &AppState) -> usize {
    run_due(&state.db, Services { sales: &state.sales, public_url: state.public_url.base() }).await.unwrap()
}

/// A report as a member received it.
struct Received {
    to: String,
    subject: String,
    text: String,
    csv: String,
    pdf: Vec<u8>,
}

/// The reports in the mail drop (mail with a CSV attached), once nothing is left to deliver
/// (the hub's own delivery, kicked by a commit, may hold a message for a moment).
async fn reports(hub: &TestHub) -> Vec<Received> {
    hub.deliver_all_mail().await;
    let Ok(entries) = std::fs::read_dir(&hub.mail_dir) else { return Vec::new() };
    let mut paths: Vec<_> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let raw = std::fs::read(&path).unwrap();
        let message = MessageParser::default().parse(&raw).expect("a message a mail program reads");
        let file = |suffix: &str| {
            message
                .attachments()
                .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(suffix)))
                .map(|a| a.contents().to_vec())
        };
        let Some(csv) = file(".csv") else { continue };
        out.push(Received {
            to: message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            csv: String::from_utf8(csv).unwrap(),
            pdf: file(".pdf").expect("the PDF beside the CSV"),
        });
    }
    out
}

/// An organization with an owner, an admin, a viewer and a box-office member; an event on
/// sale with one paid order of two tickets.
async fn festival_with_sales(hub: &TestHub) -> (Organizer, i64) {
    let owner = Organizer::create(hub, "reports").await;
    for (email, role) in [
        ("admin@reports.example", "admin"),
        ("viewer@reports.example", "viewer"),
        ("door@reports.example", "box_office"),
    ] {
        owner.add_member(hub, email, role).await;
    }
    // On sale now (the test's clock); the night itself is next Saturday.
    let mut night = festival();
    night["starts_at"] = json!(amsterdam("2026-12-19T20:00"));
    night["ends_at"] = json!(amsterdam("2026-12-20T02:00"));
    let event = put_on_sale(&owner, &night).await;
    let (status, placed) = checkout(hub, event, 2, None).await;
    assert_eq!(status, 201, "{placed}");
    press_pay(hub, &start_payment(hub, &placed).await).await;
    (owner, event)
}

async fn schedules(owner: &Organizer, event: i64) -> Value {
    owner.get(&format!("/api/v1/events/{event}/report-schedules")).await
}

/// Wrong schedules are refused with the field and why, and nothing is stored.
async fn wrong_schedules_are_refused(owner: &Organizer, viewer: &Organizer, event: i64) {
    let path = format!("/api/v1/events/{event}/report-schedules");
    let good = json!({"report": "sales", "time": "08:00", "roles": ["owner"]});
    for (change, field) in [
        (json!({"time": "24:00"}), "time"),
        (json!({"time": "8 am"}), "time"),
        (json!({"days": []}), "days"),
        (json!({"roles": []}), "roles"),
        // Gate staff may not read the money.
        (json!({"report": "revenue", "roles": ["owner", "gate_staff"]}), "roles"),
    ] {
        let mut body = good.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let (status, problem) = owner.post(&path, &body).await;
        assert_eq!(status, 422, "{body} → {problem}");
        assert!(problem.to_string().contains(field), "{field}: {problem}");
    }
    for (key, value) in [("hour", json!(8)), ("report", json!("everything"))] {
        let mut wrong = good.clone();
        wrong[key] = value;
        let (status, problem) = owner.post(&path, &wrong).await;
        assert!((400..500).contains(&status) && problem.to_string().contains(key), "{key}: {problem}");
    }
    let (status, problem) =
        owner.post(&path, &json!({"report": "reconciliation", "time": "08:00", "roles": ["owner"]})).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("no_provider_books")), "{problem}");
    assert_eq!(viewer.post(&path, &good).await.0, 403, "a viewer reads reports but does not schedule them");
    assert_eq!(owner.post("/api/v1/events/999999/report-schedules", &good).await.0, 404);
    assert_eq!(schedules(owner, event).await["schedules"], json!([]), "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_mails_its_report_at_its_time_to_its_roles_and_catches_up_after_an_outage() {
    for backend in BACKENDS {
        // Monday 7 December 2026, a minute before eight in Amsterdam.
        let clock = Clock::manual(amsterdam("2026-12-07T07:59"));
        let hub = TestHub::start_configured(backend, clock.clone(), |_| {}).await;
        let (owner, event) = festival_with_sales(&hub).await;
        let viewer = Organizer::login(&hub, "viewer@reports.example").await;
        wrong_schedules_are_refused(&owner, &viewer, event).await;

        // Sales at eight on weekdays, to the owner and the viewers (not the admin, not the door).
        let body = json!({"report": "sales", "time": "08:00", "days": ["mon", "tue", "wed", "thu", "fri"], "roles": ["viewer", "owner"]});
        let (status, made) = owner.post(&format!("/api/v1/events/{event}/report-schedules"), &body).await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["next"], "Mon 7 December 2026, 08:00", "{made}");
        assert_eq!(made["time_zone"], "Europe/Amsterdam");
        let id = made["id"].as_i64().unwrap();

        assert_eq!(round(&hub.state).await, 0, "{backend:?}: not yet");
        clock.set(amsterdam("2026-12-07T08:00:30"));
        assert_eq!(round(&hub.state).await, 1, "{backend:?}: at its minute");
        assert_eq!(round(&hub.state).await, 0, "{backend:?}: once per slot");
        let got = reports(&hub).await;
        let mut to: Vec<&str> = got.iter().map(|r| r.to.as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["owner@reports.example", "viewer@reports.example"], "{backend:?}");
        let first = &got[0];
        assert_eq!(first.subject, "Sales: Summer Festival");
        assert!(first.text.contains("Mon 7 December 2026, 08:00"), "{}", first.text);
        let mut csv = first.csv.lines();
        assert!(csv.next().unwrap().starts_with("day,"), "{}", first.csv);
        let row = csv.next().expect("the paid order's row");
        assert!(row.contains(",Day,") && row.contains(",2,"), "two Day tickets sold: {row}");
        assert!(first.pdf.starts_with(b"%PDF-"));

        // Tuesday to Thursday the hub is down; it comes back Thursday at ten: one report,
        // naming the times it missed; each missed slot recorded as caught up by it.
        clock.set(amsterdam("2026-12-10T10:00"));
        let owner = Organizer::login(&hub, "owner@reports.example").await; // the session lapsed
        assert_eq!(round(&hub.state).await, 1);
        assert_eq!(round(&hub.state).await, 0);
        let got = reports(&hub).await;
        assert_eq!(got.len(), 4, "{backend:?}: one more report each, not three");
        let late =
            got.iter().find(|r| r.text.contains("Thu 10 December 2026, 08:00")).expect("Thursday's report");
        for missed in ["Tue 8 December 2026, 08:00", "Wed 9 December 2026, 08:00"] {
            assert!(late.text.contains(missed), "{missed} named in: {}", late.text);
        }
        let shown = owner.get(&format!("/api/v1/report-schedules/{id}")).await;
        let outcomes: Vec<(&str, i64)> = shown["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["outcome"].as_str().unwrap(), r["recipients"].as_i64().unwrap()))
            .collect();
        assert_eq!(outcomes, [("sent", 2), ("caught_up", 2), ("caught_up", 2), ("sent", 2)], "{shown}");
        assert_eq!(shown["next"], "Fri 11 December 2026, 08:00");

        // Paused over the weekend and Monday; resumed on Tuesday at noon: nothing caught up.
        let path = format!("/api/v1/report-schedules/{id}");
        assert_eq!(owner.send(reqwest::Method::PATCH, &path, &json!({"paused": true})).await.0, 200);
        clock.set(amsterdam("2026-12-15T12:00"));
        let owner = Organizer::login(&hub, "owner@reports.example").await;
        assert_eq!(round(&hub.state).await, 0, "paused");
        let (status, resumed) = owner.send(reqwest::Method::PATCH, &path, &json!({"paused": false})).await;
        assert_eq!(status, 200, "{resumed}");
        assert_eq!(resumed["next"], "Wed 16 December 2026, 08:00");
        assert_eq!(round(&hub.state).await, 0, "what passed while paused is not sent");

        // Wednesday's slot has come, its round not yet: a change of roles keeps it due.
        clock.set(amsterdam("2026-12-16T08:00:10"));
        let owner = Organizer::login(&hub, "owner@reports.example").await;
        let roles = json!({"roles": ["owner", "viewer", "admin"]});
        assert_eq!(owner.send(reqwest::Method::PATCH, &path, &roles).await.0, 200);
        assert_eq!(round(&hub.state).await, 1, "{backend:?}: the due slot kept through the change");
        assert_eq!(reports(&hub).await.len(), 4 + 3);

        // Sent by hand, to whoever has the roles now: not the viewer once moved to the door.
        let members = owner.get("/api/v1/members").await;
        let viewer_id = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == "viewer@reports.example")
            .unwrap()["user_id"]
            .clone();
        let demote = json!({"role": "box_office"});
        assert_eq!(
            owner.send(reqwest::Method::PATCH, &format!("/api/v1/members/{viewer_id}"), &demote).await.0,
            200
        );
        let (status, sent) = owner.post(&format!("{path}/send"), &json!({})).await;
        assert_eq!((status, sent["recipients"].as_i64()), (202, Some(2)), "{sent}");
        let got = reports(&hub).await;
        assert_eq!(got.len(), 9);
        assert!(got[7..].iter().all(|r| r.to != "viewer@reports.example"), "the box office does not get it");

        // The venue moves to New York: the next slot is eight o'clock there, nothing is due now.
        let moved = json!({"time_zone": "America/New_York"});
        let (status, answer) =
            owner.send(reqwest::Method::PATCH, &format!("/api/v1/events/{event}"), &moved).await;
        assert_eq!(status, 204, "{answer}");
        assert_eq!(round(&hub.state).await, 0);
        let shown = owner.get(&path).await;
        assert_eq!(
            (&shown["time_zone"], &shown["next"]),
            (&json!("America/New_York"), &json!("Wed 16 December 2026, 08:00")),
            "{shown}"
        );
        assert_eq!(shown["next_at"], json!(amsterdam("2026-12-16T14:00")), "08:00 in New York");

        assert_eq!(owner.send(reqwest::Method::DELETE, &path, &json!(null)).await.0, 204);
        assert_eq!(owner.send(reqwest::Method::GET, &path, &json!(null)).await.0, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_send_each_slot_once_and_a_restarted_hub_neither_repeats_nor_skips() {
    let clock = Clock::manual(amsterdam("2026-12-07T07:59"));
    let hub = TestHub::start_configured(Backend::Postgres, clock.clone(), |_| {}).await;
    let other = hub.another_instance().await;
    let (owner, event) = festival_with_sales(&hub).await;
    let body = json!({"report": "checkins", "time": "08:00", "roles": ["owner", "admin"]});
    assert_eq!(owner.post(&format!("/api/v1/events/{event}/report-schedules"), &body).await.0, 201);

    // Both instances' rounds at once, several times over: one report for the slot.
    clock.set(amsterdam("2026-12-07T08:01"));
    let mut queued = 0;
    for _ in 0..3 {
        let (a, b) = tokio::join!(round(&hub.state), round(&other.state));
        queued += a + b;
    }
    assert_eq!(queued, 1, "one instance ran the slot");
    assert_eq!(hub.number("SELECT COUNT(*) FROM report_runs").await, 1);
    assert_eq!(reports(&hub).await.len(), 2, "owner and admin, once each");
    drop(other);

    // A restarted hub (a new instance on the same database) finds the schedule, does not run
    // the slot again, and runs the next one.
    let restarted = hub.another_instance().await;
    assert_eq!(round(&restarted.state).await, 0);
    clock.set(amsterdam("2026-12-08T08:00"));
    assert_eq!(round(&restarted.state).await, 1);
    assert_eq!(round(&hub.state).await, 0);
    assert_eq!(reports(&hub).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_console_an_organizer_schedules_a_report_is_told_who_may_not_read_it_and_sends_it_now() {
    use common::browser::{ChromeDriver, click, eventually, log_in, screenshot, text};
    use fantoccini::Locator;
    let hub = TestHub::start(Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "console").await;
    owner.add_member(&hub, "gate@console.example", "gate_staff").await;
    let event = common::event_on_sale(&owner, 100, 4500).await;
    let driver = ChromeDriver::start();
    let b = driver.browser().await;
    log_in(&b, &hub.url, "owner@console.example").await;
    b.goto(&format!("{}/events/{event}/reports", hub.url)).await.unwrap();
    click(&b, "#schedules-link").await;
    eventually(10, "the schedules page", || async { text(&b, "h1").await == "Scheduled reports" }).await;

    // The money to the gate: refused, said beside the roles.
    let choose = |value: &'static str| {
        let b = b.clone();
        async move {
            let select = b.find(Locator::Css("#schedule-report")).await.unwrap();
            select.select_by_value(value).await.unwrap();
        }
    };
    choose("revenue").await;
    click(&b, "input[name='roles[]'][value=gate_staff]").await;
    click(&b, "#schedule-submit").await;
    eventually(10, "the refusal beside the roles", || async {
        text(&b, "#schedule-form .field-error").await.contains("gate_staff may not read the revenue report")
    })
    .await;
    assert_eq!(owner.get(&format!("/api/v1/events/{event}/report-schedules")).await["schedules"], json!([]));

    // The check-ins to the owner and the gate.
    choose("checkins").await;
    click(&b, "#schedule-submit").await;
    eventually(10, "the schedule listed", || async {
        text(&b, "#schedules").await.contains("Check-ins per 15 minutes")
    })
    .await;
    let row = text(&b, "#schedules tbody tr").await;
    assert!(row.contains("08:00") && row.contains("Every day") && row.contains("Owner, Gate staff"), "{row}");
    click(&b, "#schedules tbody tr form[data-api$='/send'] button").await;
    eventually(10, "the run shown", || async { text(&b, "#schedules").await.contains("sent by hand to 2") })
        .await;
    screenshot(&b, "report-schedules").await;
    let got = reports(&hub).await;
    assert_eq!(got.len(), 2, "the owner and the gate");
    assert!(got.iter().all(|r| r.subject == "Check-ins per 15 minutes: Summer Festival"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_fails_waits_before_trying_again_and_its_slot_is_not_lost() {
    let clock = Clock::manual(amsterdam("2026-12-07T07:59"));
    let hub = TestHub::start_configured(Backend::Sqlite, clock.clone(), |_| {}).await;
    let (owner, event) = festival_with_sales(&hub).await;
    let body = json!({"report": "sales", "time": "08:00", "roles": ["owner"]});
    let (_, made) = owner.post(&format!("/api/v1/events/{event}/report-schedules"), &body).await;
    let path = format!("/api/v1/report-schedules/{}", made["id"]);
    // The report cannot be made (here: a name the hub no longer knows, as after a downgrade).
    let set_report = async |name: &str| {
        let mut tx = hub.inspect().await;
        sqlx::query("UPDATE report_schedules SET report = $1").bind(name).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    };
    set_report("retired").await;
    clock.set(amsterdam("2026-12-07T08:00:30"));
    assert_eq!(round(&hub.state).await, 0);
    let shown = owner.get(&path).await;
    assert!(shown["problem"].as_str().unwrap().contains("retired"), "{shown}");
    assert_eq!(shown["next_at"], json!(amsterdam("2026-12-07T08:01:30")), "tried again in a minute");
    clock.set(amsterdam("2026-12-07T08:01"));
    assert_eq!(round(&hub.state).await, 0, "not before then");
    assert_eq!(hub.number("SELECT failures FROM report_schedules").await, 1, "so not failed again");

    set_report("sales").await;
    clock.set(amsterdam("2026-12-07T08:01:30"));
    assert_eq!(round(&hub.state).await, 1, "the slot still due");
    let got = reports(&hub).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].text.contains("Mon 7 December 2026, 08:00"), "{}", got[0].text);
    let shown = owner.get(&path).await;
    assert_eq!(
        (&shown["problem"], &shown["next"]),
        (&json!(""), &json!("Tue 8 December 2026, 08:00")),
        "{shown}"
    );
}
