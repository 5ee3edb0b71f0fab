//! Scheduled reports: an organizer has any of an event's reports — or the organization's
//! reconciliation — mailed as CSV and PDF at a time of day on the event's clock, on chosen
//! weekdays, to the members with chosen roles. Every instance looks for due schedules in its
//! maintenance round ([`run::run_due`]); the API and the console's page share [`api`]'s views.
//!
//! Invariants:
//! 1. **A slot runs once.** A run's row, unique per schedule and slot, is the slot's claim; it
//!    is written in the transaction that computes the report and queues its mail (with the
//!    CSV and PDF beside each message). Two instances racing for a slot: the second's insert
//!    waits for the first's transaction and finds the slot taken; a hub killed before the
//!    commit leaves the slot unclaimed (it runs after the restart), after it leaves the mail
//!    queued (the outbox sends it). So no report is sent twice and none is lost.
//! 2. **None skipped.** A slot is due once its minute has passed, whenever the round comes:
//!    after an outage every slot missed since the last run (back to a month,
//!    [`slots::CATCH_UP_MS`]) is claimed at once — the latest gets the report, with the figures
//!    as they are now and the missed times named in the message; the others are recorded as
//!    caught up by it. Recipients are not sent the same figures several times.
//! 3. **Only readers receive.** A schedule names roles that may read its report (refused on
//!    save otherwise); at each run the mail goes to the members who have those roles then.
//! 4. **Changing restarts the clock.** Creating, changing or resuming a schedule counts slots
//!    from that moment: a schedule paused for a week does not send a week's catch-up.

pub mod api;
pub mod run;
pub mod slots;
pub mod store;
pub mod views;

use crate::lang::Lang;
use crate::reports::Report;
use crate::tenancy::Role;

/// Most schedules per event.
pub const MAX_PER_EVENT: i64 = 20;

/// What a schedule sends: one of the event's reports, or the organization's reconciliation
/// (the event gives it its clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduled {
    /// An event's report.
    Event(Report),
    /// The money against the payment provider's books, over the last 30 days.
    Reconciliation,
}

impl Scheduled {
    /// Every report a schedule may send, in the console's order.
    pub fn all() -> impl Iterator<Item = Self> {
        Report::ALL.into_iter().map(Self::Event).chain([Self::Reconciliation])
    }

    /// The report named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::all().find(|s| s.name() == name)
    }

    /// Its name (as in the reports' URLs).
    pub fn name(self) -> &'static str {
        match self {
            Self::Event(report) => report.name(),
            Self::Reconciliation => "reconciliation",
        }
    }

    /// Who may read it, and so receive it.
    pub fn readers(self) -> &'static [Role] {
        match self {
            Self::Event(report) => report.readers(),
            Self::Reconciliation => crate::sales::reconcile::RECONCILERS,
        }
    }

    /// Its title in `lang`.
    pub fn title(self, lang: Lang) -> &'static str {
        use Report as R;
        let Self::Event(report) = self else {
            return match lang {
                Lang::En => "Reconciliation",
                Lang::De => "Abgleich mit dem Zahlungsanbieter",
                Lang::Nl => "Afstemming met de betaalprovider",
            };
        };
        match (lang, report) {
            (Lang::En, r) => r.title(),
            (Lang::De, R::Sales) => "Verkäufe",
            (Lang::De, R::Revenue) => "Einnahmen",
            (Lang::De, R::Checkins) => "Einlass je 15 Minuten",
            (Lang::De, R::Inside) => "Jetzt anwesend",
            (Lang::De, R::DoubleAdmissions) => "Doppelte Einlässe",
            (Lang::De, R::Devices) => "Geräte",
            (Lang::De, R::Shifts) => "Kassenschichten",
            (Lang::De, R::Discounts) => "Rabatte nach Tag und Code",
            (Lang::De, R::Seats) => "Plätze nach Kategorie",
            (Lang::Nl, R::Sales) => "Verkoop",
            (Lang::Nl, R::Revenue) => "Omzet",
            (Lang::Nl, R::Checkins) => "Toegang per 15 minuten",
            (Lang::Nl, R::Inside) => "Nu binnen",
            (Lang::Nl, R::DoubleAdmissions) => "Dubbele toegang",
            (Lang::Nl, R::Devices) => "Apparaten",
            (Lang::Nl, R::Shifts) => "Kassadiensten",
            (Lang::Nl, R::Discounts) => "Kortingen per tag en code",
            (Lang::Nl, R::Seats) => "Stoelen per categorie",
        }
    }
}

/// The roles stored as "owner,admin", known ones only.
pub fn roles_of(text: &str) -> Vec<Role> {
    text.split(',').filter_map(Role::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_is_named_titled_and_read_by_someone() {
        let all: Vec<Scheduled> = Scheduled::all().collect();
        assert_eq!(all.len(), 10);
        for s in all {
            assert_eq!(Scheduled::parse(s.name()), Some(s));
            assert!(s.readers().contains(&Role::Owner));
            for lang in [Lang::En, Lang::De, Lang::Nl] {
                assert!(!s.title(lang).is_empty());
            }
        }
        assert_eq!(Scheduled::parse("everything"), None);
        assert_eq!(roles_of("owner,viewer,nobody"), [Role::Owner, Role::Viewer]);
    }
}
