//! Rate limits that hold across hub instances: login attempts, enrollments, and each API
//! token's request quota.
//!
//! Behind a load balancer a burst split over two instances must meet one limit, so the
//! buckets live in the database (`rate_limits`), one row per bucket, updated by a single
//! conditional upsert: the generic cell rate algorithm (GCRA), which keeps one number per
//! bucket — the "theoretical arrival time" of the next request — instead of a window of
//! timestamps. A request is allowed when that time is at most `burst − 1` intervals ahead of
//! now, and moves it one interval on. (governor implements the same algorithm in memory; the
//! database version is the few lines below because the state must be shared.)
//!
//! Checkout's per-address limit stays in each instance's memory (`sales`): it guards the
//! hottest path, where a database write per attempt would cost more than the flood it stops.

use crate::db::{Db, DbError};
use crate::error::ApiError;

/// A quota: `burst` requests at once, then one every `every_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Requests allowed at once.
    pub burst: u32,
    /// Then one per this many milliseconds.
    pub every_ms: i64,
}

/// Login attempts per e-mail address: 5 at once, then one every 12 s (guessing a password
/// takes years at that pace).
pub const LOGIN_PER_EMAIL: Quota = Quota { burst: 5, every_ms: 12_000 };
/// Login attempts per client address: 20 at once, then one every 3 s.
pub const LOGIN_PER_ADDRESS: Quota = Quota { burst: 20, every_ms: 3_000 };
/// Enrollments per client address: 200 at once, then ten a second. Enrollment codes (12 of 31
/// characters, 59 bits) cannot be guessed anyway: the limit only stops floods, and a whole
/// venue enrolling its devices from behind one address must not wait (the fleet simulator
/// found 100 gates taking five minutes under the login limit this once shared).
pub const ENROLL_PER_ADDRESS: Quota = Quota { burst: 200, every_ms: 100 };

/// The shared limiter.
#[derive(Clone, Debug)]
pub struct Limits {
    db: Db,
    /// Each API token's quota.
    pub token_quota: Quota,
}

impl Limits {
    /// Limits kept in `db`, with `token_per_minute` requests a minute (and as many at once)
    /// for each API token.
    pub fn new(db: Db, token_per_minute: u32) -> Self {
        let per_minute = token_per_minute.max(1);
        Self {
            db,
            token_quota: Quota { burst: per_minute, every_ms: (60_000 / i64::from(per_minute)).max(1) },
        }
    }

    /// Counts one request against `bucket` (e.g. `login:email:ann@example.org`) under `quota`;
    /// refuses with 429 and the seconds to wait once it is spent.
    pub async fn check(&self, bucket: &str, quota: Quota) -> Result<(), ApiError> {
        let now = self.db.clock().now_ms();
        match take(&self.db, bucket, quota, now).await? {
            None => Ok(()),
            Some(wait_ms) => Err(ApiError::RateLimited { retry_after: wait_secs(wait_ms) }),
        }
    }

    /// Forgets buckets that are full again (their next request would be allowed anyway).
    pub async fn prune(&self) -> Result<u64, DbError> {
        let now = self.db.clock().now_ms();
        let done =
            sqlx::query("DELETE FROM rate_limits WHERE tat < $1").bind(now).execute(self.db.pool()).await?;
        Ok(done.rows_affected())
    }
}

/// Whole seconds to wait, at least one (`Retry-After` counts in seconds).
fn wait_secs(wait_ms: i64) -> u64 {
    u64::try_from((wait_ms.max(1) + 999) / 1000).unwrap_or(1).max(1)
}

/// One GCRA step for `bucket` at `now`: `None` if allowed (and counted), `Some(ms)` to wait.
async fn take(db: &Db, bucket: &str, quota: Quota, now: i64) -> Result<Option<i64>, DbError> {
    let interval = quota.every_ms.max(1);
    // How far ahead of now the arrival time may run: burst − 1 intervals.
    let tolerance = interval * i64::from(quota.burst.max(1) - 1);
    let taken: Option<i64> = sqlx::query_scalar(
        "INSERT INTO rate_limits (bucket, tat) VALUES ($1, $2 + $3) \
         ON CONFLICT (bucket) DO UPDATE SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
         WHERE rate_limits.tat <= $2 + $4 RETURNING tat",
    )
    .bind(bucket)
    .bind(now)
    .bind(interval)
    .bind(tolerance)
    .fetch_optional(db.pool())
    .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let tat: Option<i64> = sqlx::query_scalar("SELECT tat FROM rate_limits WHERE bucket = $1")
        .bind(bucket)
        .fetch_optional(db.pool())
        .await?;
    Ok(Some(tat.map_or(interval, |tat| tat - tolerance - now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    async fn limits() -> (Limits, Clock, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(1_000_000);
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let db = Db::open_with_clock(&url, clock.clone()).await.unwrap();
        (Limits::new(db, 60), clock, dir)
    }

    #[tokio::test]
    async fn a_burst_then_one_per_interval_and_buckets_apart() {
        let (limits, clock, _dir) = limits().await;
        let quota = Quota { burst: 3, every_ms: 10_000 };
        for _ in 0..3 {
            limits.check("a", quota).await.unwrap();
        }
        let Err(ApiError::RateLimited { retry_after }) = limits.check("a", quota).await else {
            panic!("the fourth at once is refused")
        };
        assert_eq!(retry_after, 10);
        limits.check("b", quota).await.expect("another bucket is not affected");
        clock.advance(9_999);
        assert!(limits.check("a", quota).await.is_err(), "not before the interval");
        clock.advance(1);
        limits.check("a", quota).await.expect("one more after the interval");
        assert!(limits.check("a", quota).await.is_err());
        clock.advance(60_000);
        assert_eq!(limits.prune().await.unwrap(), 2, "both buckets are full again");
        for _ in 0..3 {
            limits.check("a", quota).await.unwrap();
        }
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(wait_secs(1), 1);
        assert_eq!(wait_secs(1_001), 2);
        assert_eq!(wait_secs(-5), 1);
    }
}
