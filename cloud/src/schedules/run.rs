//! Running schedules: the due ones, in every instance's maintenance round, and one by hand
//! ("send now"). See the module's invariants: the claim, the report, its files and its mail
//! are one transaction.

use super::{Scheduled, roles_of, slots, store};
use crate::db::{Db, Tenant};
use crate::lang::Lang;
use crate::mail::{File, Letter};
use crate::messages::context::{EventFacts, Org, ReportFacts};
use crate::messages::{self, Context, Kind};
use crate::reports::Table;
use crate::sales::Sales;
use crate::sales::reconcile::Reconciliation;
use crate::tenancy::Role;

/// What a run needs besides the database.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    /// The payment provider, for the reconciliation.
    pub sales: &'a Sales,
    /// The hub's address, for the links in the message.
    pub public_url: &'a str,
}

/// Runs every schedule whose slot has come (all organizations); how many reports were
/// queued. A schedule that fails (the provider cannot be asked) is tried again next round.
pub async fn run_due(db: &Db, with: Services<'_>) -> anyhow::Result<usize> {
    let mut system = db.system().await?;
    let now = system.now();
    let due = store::due(&mut system, now).await?;
    system.commit().await?;
    let mut queued = 0;
    for (id, org) in due {
        match run_slots(db, with, org, id).await {
            Ok(n) => queued += n,
            Err(e) => {
                tracing::warn!(schedule = id, error = %e, "scheduled report not sent; tried again later");
                // Its slots stay due (nothing was claimed); the schedule waits before the next
                // try, so a provider that is down is not asked every round and a failing
                // schedule does not hold the rounds of every other.
                let mut tx = db.tenant(org).await?;
                if let Some(schedule) = store::schedule(&mut tx, id).await? {
                    let retry_at = tx.now() + retry_after_ms(schedule.failures);
                    store::failed(&mut tx, id, retry_at, &format!("{e:#}")).await?;
                }
                tx.commit().await?;
            }
        }
    }
    Ok(queued)
}

/// The wait after `failures` failed runs before the next: a minute, doubling, at most an hour.
fn retry_after_ms(failures: i64) -> i64 {
    let doublings = u32::try_from(failures.clamp(0, 6)).unwrap_or(0);
    (60_000_i64 << doublings).min(3_600_000)
}

/// Runs schedule `id`'s due slots: 1 if it queued a report, 0 if another instance had (or
/// nothing was due).
async fn run_slots(db: &Db, with: Services<'_>, org: i64, id: i64) -> anyhow::Result<usize> {
    // The reconciliation is asked for before the transaction: a provider's answer may take
    // seconds, and holding the schedule's lock that long would hold the other instances too.
    let reconciliation = match load(db, org, id).await? {
        Some((before, scheduled, zone)) => {
            let due = !slots::due(rule_of(&before)?, &zone, before.since, db.clock().now_ms()).is_empty();
            reconciliation_if(db, with, org, scheduled, due).await?
        }
        None => return Ok(0),
    };
    let mut tx = db.tenant(org).await?;
    let Some(schedule) = store::schedule_for_run(&mut tx, id).await? else { return Ok(0) };
    let scheduled = Scheduled::parse(&schedule.report)
        .ok_or_else(|| anyhow::anyhow!("schedule {id} names an unknown report {:?}", schedule.report))?;
    if schedule.paused == 1 || (scheduled == Scheduled::Reconciliation && reconciliation.is_none()) {
        return Ok(0); // paused, or changed to the reconciliation meanwhile: the next round
    }
    let zone = crate::reports::event_zone(&mut tx, schedule.event_id).await?;
    let now = tx.now();
    let rule = rule_of(&schedule)?;
    let slots = slots::due(rule, &zone, schedule.since, now);
    let mut claimed = Vec::new();
    for slot in &slots {
        if let Some(run) = store::claim(&mut tx, id, *slot).await? {
            claimed.push((run, *slot));
        }
    }
    let next = slots::next(rule, &zone, now.max(slots.last().copied().unwrap_or(now))).unwrap_or(i64::MAX);
    store::advance(&mut tx, id, slots.last().copied().unwrap_or(schedule.since), next).await?;
    let Some((&(run, slot), missed)) = claimed.split_last() else {
        tx.commit().await?; // nothing due, or another instance ran it
        return Ok(0);
    };
    let missed_at: Vec<i64> = missed.iter().map(|(_, slot)| *slot).collect();
    let recipients =
        send(&mut tx, with, &schedule, scheduled, reconciliation.as_ref(), slot, &missed_at).await?;
    store::finish(&mut tx, run, if recipients == 0 { "nobody" } else { "sent" }, recipients, None).await?;
    for (earlier, _) in missed {
        store::finish(&mut tx, *earlier, "caught_up", recipients, Some(run)).await?;
    }
    tx.commit().await?;
    Ok(1)
}

/// Sends schedule `id`'s report now, as a run of its own (the slot is now); how many members
/// it went to.
pub async fn send_now(db: &Db, with: Services<'_>, org: i64, id: i64) -> anyhow::Result<Option<i64>> {
    let Some((schedule, scheduled, _)) = load(db, org, id).await? else { return Ok(None) };
    let reconciliation = reconciliation_if(db, with, org, scheduled, true).await?;
    let mut tx = db.tenant(org).await?;
    let now = tx.now();
    let Some(run) = store::claim(&mut tx, id, now).await? else {
        return Ok(Some(0)); // sent this very millisecond already
    };
    let recipients = send(&mut tx, with, &schedule, scheduled, reconciliation.as_ref(), now, &[]).await?;
    store::finish(&mut tx, run, "sent_now", recipients, None).await?;
    tx.commit().await?;
    Ok(Some(recipients))
}

/// Schedule `id` of `org` with what it sends and its event's clock; `None` if it is gone.
async fn load(
    db: &Db,
    org: i64,
    id: i64,
) -> anyhow::Result<Option<(store::ScheduleRow, Scheduled, jiff::tz::TimeZone)>> {
    let mut tx = db.tenant(org).await?;
    let Some(schedule) = store::schedule(&mut tx, id).await? else { return Ok(None) };
    let zone = crate::reports::event_zone(&mut tx, schedule.event_id).await?;
    tx.commit().await?;
    let scheduled = Scheduled::parse(&schedule.report)
        .ok_or_else(|| anyhow::anyhow!("schedule {id} names an unknown report {:?}", schedule.report))?;
    Ok(Some((schedule, scheduled, zone)))
}

/// The schedule's rule, as stored.
pub fn rule_of(schedule: &store::ScheduleRow) -> anyhow::Result<slots::Rule> {
    let days = slots::parse_days(schedule.days.split(','));
    let minute = u16::try_from(schedule.minute).ok();
    minute
        .zip(days)
        .and_then(|(m, d)| slots::Rule::new(m, d))
        .ok_or_else(|| anyhow::anyhow!("schedule {} has no valid time or days", schedule.id))
}

async fn reconciliation_if(
    db: &Db,
    with: Services<'_>,
    org: i64,
    scheduled: Scheduled,
    needed: bool,
) -> anyhow::Result<Option<Reconciliation>> {
    if !needed || scheduled != Scheduled::Reconciliation {
        return Ok(None);
    }
    let found = crate::sales::reconcile::compute_for(db, with.sales, org, None).await;
    Ok(Some(found.map_err(|e| anyhow::anyhow!("the reconciliation could not be made: {e}"))?))
}

/// The report, made in `tx` (as the slot's run sees the data), mailed with its CSV and PDF to
/// the members with the schedule's roles; how many.
async fn send(
    tx: &mut Tenant,
    with: Services<'_>,
    schedule: &store::ScheduleRow,
    scheduled: Scheduled,
    reconciliation: Option<&Reconciliation>,
    slot: i64,
    missed: &[i64],
) -> anyhow::Result<i64> {
    let roles: Vec<Role> =
        roles_of(&schedule.roles).into_iter().filter(|r| scheduled.readers().contains(r)).collect();
    let members = crate::tenancy::store::members_in(tx, &roles).await?;
    if members.is_empty() {
        return Ok(0);
    }
    let table = match (scheduled, reconciliation) {
        (Scheduled::Event(report), _) => crate::reports::compute(tx, schedule.event_id, report).await?,
        (Scheduled::Reconciliation, Some(r)) => crate::sales::reconcile::to_table(r),
        (Scheduled::Reconciliation, None) => anyhow::bail!("the reconciliation was not made"),
    };
    let lang = messages::store::org_language(tx).await?;
    let event = store::event_facts(tx, schedule.event_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the event is gone"))?;
    let facts = EventFacts::new(
        lang,
        &event.name,
        event.starts_at,
        event.ends_at,
        &event.time_zone,
        &event.venue_name,
        &event.venue_address,
    );
    let title = scheduled.title(lang);
    let base = with.public_url;
    let report = ReportFacts {
        title: title.to_owned(),
        due: lang.date_time(slot, &event.time_zone),
        missed: missed.iter().map(|at| lang.date_time(*at, &event.time_zone)).collect(),
        rows: table.rows.len(),
        page_url: format!("{base}/events/{}/reports", schedule.event_id),
        schedule_url: format!("{base}/events/{}/report-schedules", schedule.event_id),
    };
    let files = files(&table, scheduled, &facts, &report, slot, &event.time_zone)?;
    let context =
        Context::Report { org: Org { name: messages::store::org_name(tx).await? }, event: facts, report };
    let letter = match messages::letter(tx, Kind::ScheduledReport, lang, None, &context).await {
        Ok(letter) => letter,
        // Even the default did not fit (an event name of a kilobyte): a plainer letter, so the
        // report still goes.
        Err(e) if e.is::<messages::Unrenderable>() => plain_letter(lang, title, &event.name),
        Err(e) => return Err(e),
    };
    for member in &members {
        crate::mail::enqueue_letter_with_files(tx, &member.email, &letter, &files).await?;
    }
    Ok(i64::try_from(members.len()).unwrap_or(i64::MAX))
}

fn plain_letter(lang: Lang, title: &str, event: &str) -> Letter {
    let event: String = event.chars().take(100).collect();
    Letter {
        lang: lang.code(),
        subject: format!("{title}: {event}"),
        sender: "Voelgoed".into(),
        markdown: format!("{title} (CSV, PDF)"),
    }
}

/// The report's CSV and PDF, named for the report and the slot's local day.
fn files(
    table: &Table,
    scheduled: Scheduled,
    event: &EventFacts,
    report: &ReportFacts,
    slot: i64,
    zone: &str,
) -> anyhow::Result<Vec<File>> {
    let day = jiff::Timestamp::from_millisecond(slot)
        .ok()
        .zip(jiff::tz::TimeZone::get(zone).ok())
        .map(|(t, z)| t.to_zoned(z).strftime("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let name = format!("{}-{day}", scheduled.name());
    let (columns, rows) = table.as_text();
    let mut notes = vec![format!("{} · {}", event.name, event.when), format!("Due {}", report.due)];
    if !report.missed.is_empty() {
        notes.push(format!("Also due (the hub was down): {}", report.missed.join("; ")));
    }
    notes.push(format!("Times are the venue's ({zone}). Values cut short here are whole in the CSV."));
    let pdf = print::table(&print::Table { title: report.title.clone(), notes, columns, rows })?;
    Ok(vec![
        File {
            name: format!("{name}.csv"),
            content_type: "text/csv; charset=utf-8".into(),
            body: table.to_csv()?,
        },
        File { name: format!("{name}.pdf"), content_type: "application/pdf".into(), body: pdf },
    ])
}
