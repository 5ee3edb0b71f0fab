//! The periodic work every hub instance does: lapsed holds give their tickets back, payments
//! whose webhook never came are asked after at the provider, refunds the provider has not
//! confirmed are sent again, scheduled reports whose time has come are made and queued,
//! pending mail is delivered, expired console
//! sessions, spent rate limits and old request nonces are deleted; every minute the query planner's
//! statistics are refreshed where stale (SQLite).
//!
//! Each step is one idempotent statement or a retry keyed by the row it retries, so any number
//! of instances can run it at once (the hub is stateless; there is no leader to elect).

use crate::state::AppState;
use std::time::Duration;

/// How often [`run`] runs.
pub const PERIOD: Duration = Duration::from_secs(15);

/// A refund whose provider call has been pending this long is sent again.
const REFUND_RETRY_AFTER_MS: i64 = 60_000;

/// Rounds between refreshes of the query planner's statistics ([`crate::db::Db::optimize`]):
/// every minute, from the first round (a table analyzed while empty is analyzed again once it
/// has rows; otherwise only a table whose size changed much is).
const OPTIMIZE_EVERY: u64 = 4;

/// Runs forever; a failed step is logged and tried again next period.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 0u64.. {
        tick.tick().await;
        once(&state).await;
        if round % OPTIMIZE_EVERY == 0
            && let Err(e) = state.db.optimize().await
        {
            tracing::warn!(error = %e, "could not refresh the query planner's statistics");
        }
    }
}

/// One round of every step.
pub async fn once(state: &AppState) {
    match crate::sales::fulfil::expire_holds(&state.db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(orders = n, "holds lapsed; their tickets are on sale again"),
        Err(e) => tracing::warn!(error = %e, "could not expire holds"),
    }
    let missed = crate::sales::fulfil::recover_missed_payments(
        &state.db,
        &state.master,
        &state.sales,
        i64::try_from(state.sales.options.missed_payment_after.as_millis()).unwrap_or(i64::MAX),
    );
    if let Err(e) = missed.await {
        tracing::warn!(error = %e, "could not ask the provider about pending payments");
    }
    if let Err(e) = crate::sales::refunds::retry_pending(&state.db, &state.sales, REFUND_RETRY_AFTER_MS).await
    {
        tracing::warn!(error = %e, "could not retry pending refunds");
    }
    match crate::mail::deliver_pending(&state.db, &state.mailer).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(messages = n, "mail delivered"),
        Err(e) => tracing::warn!(error = %e, "could not deliver mail"),
    }
    // After the mail: a report that takes its time holds up no buyer's confirmation.
    let with = crate::schedules::run::Services { sales: &state.sales, public_url: state.public_url.base() };
    match crate::schedules::run::run_due(&state.db, with).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(reports = n, "scheduled reports queued");
            crate::mail::kick(&state.db);
        }
        Err(e) => tracing::warn!(error = %e, "could not run report schedules"),
    }
    match crate::auth::end_expired_sessions(&state.db).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(sessions = n, "expired sessions deleted"),
        Err(e) => tracing::warn!(error = %e, "could not delete expired sessions"),
    }
    if let Err(e) = state.limits.prune().await {
        tracing::warn!(error = %e, "could not prune rate limits");
    }
    if let Err(e) = crate::auth::device::prune_nonces(&state.db).await {
        tracing::warn!(error = %e, "could not prune request nonces");
    }
}
