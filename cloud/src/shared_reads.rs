//! One read shared by every stream that wants the same figures at the same moment: the live
//! dashboards of an event, the shop's seat maps of an event.
//!
//! Thousands of streams wake on one change (the notifier rings for every open stream at once).
//! The first to find the last read stale reads; the others wait for its answer and take it —
//! all woken together when it lands (a [`watch`] channel), not handed a lock one after another.
//! A lock handed down a queue of 5,000 streams cost a task switch each, a quarter of a second
//! per change on this machine's two cores (docs/benchmarks.md, "Open connections"); a
//! single-flight cache keyed by the change count has no queue.
//!
//! Written here rather than taken from a crate: the reuse rule (the change count and how recent
//! a read must have started) is the point, and the whole of it is the function below.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

/// What a stream asks for.
#[derive(Clone, Copy, Debug)]
pub struct Wanted {
    /// The change count the stream has seen: a read made at this count or later will do.
    pub count: u64,
    /// A read that began at or after this moment (`None`: any, however old). A heartbeat asks
    /// for a recent one: it heals a missed change and moves time-based figures on.
    pub since: Option<Instant>,
}

/// A read made: the change count it was made at, when it began, what it found.
struct Made<V> {
    count: u64,
    began: Instant,
    value: Arc<V>,
}

struct Slot<V> {
    last: watch::Sender<Option<Made<V>>>,
    reading: AtomicBool,
}

/// The last read of each key, shared (one per hub instance).
pub struct SharedReads<K, V> {
    slots: Mutex<HashMap<K, Arc<Slot<V>>>>,
}

impl<K, V> Default for SharedReads<K, V> {
    fn default() -> Self {
        Self { slots: Mutex::new(HashMap::new()) }
    }
}

/// Ends a read however it ends (done, failed, or its stream gone mid-read): the next caller
/// may read, and the waiters look again.
struct Reading<'a, V>(&'a Slot<V>);

impl<V> Drop for Reading<'_, V> {
    fn drop(&mut self) {
        self.0.reading.store(false, Ordering::Release);
        self.0.last.send_modify(|_| {});
    }
}

impl<K: Eq + Hash + Clone, V> SharedReads<K, V> {
    fn slot(&self, key: &K) -> Arc<Slot<V>> {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = slots.entry(key.clone()).or_insert_with(|| {
            Arc::new(Slot { last: watch::channel(None).0, reading: AtomicBool::new(false) })
        });
        Arc::clone(slot)
    }

    /// `key`'s value as `wanted` says: the last read if it will do, else one `read` — made by
    /// this caller, or by another caller that was already reading, whose answer is shared.
    /// A failed read fails its own caller; the waiters try again (one of them reads).
    ///
    /// # Errors
    /// The error of this caller's own `read`.
    pub async fn get<E, F, Fut>(&self, key: &K, wanted: Wanted, read: F) -> Result<Arc<V>, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = self.slot(key);
        let mut updates = slot.last.subscribe();
        loop {
            {
                let last = updates.borrow_and_update();
                if let Some(made) = &*last
                    && made.count >= wanted.count
                    && wanted.since.is_none_or(|since| made.began >= since)
                {
                    return Ok(Arc::clone(&made.value));
                }
            }
            if slot.reading.swap(true, Ordering::AcqRel) {
                // Another caller is reading: its answer (or its end) wakes every waiter.
                if updates.changed().await.is_err() {
                    unreachable!("the slot holds the sender");
                }
                continue;
            }
            let reading = Reading(&slot);
            // Stored at the caller's count, which it took before this read began: a change
            // during the read moves the notifier past it, so the streams it wakes read again.
            let began = Instant::now();
            let value = Arc::new(read().await?);
            slot.last.send_replace(Some(Made { count: wanted.count, began, value: Arc::clone(&value) }));
            drop(reading);
            return Ok(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    type Reads = Arc<SharedReads<i64, String>>;
    type Read = std::pin::Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

    /// A read that takes 20 ms and counts itself.
    fn counted(reads: &Arc<AtomicUsize>) -> impl Fn() -> Read + Send + use<> {
        let reads = Arc::clone(reads);
        move || {
            let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(format!("read {n}"))
            })
        }
    }

    fn at(count: u64) -> Wanted {
        Wanted { count, since: None }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_streams_waking_on_one_change_share_one_read() {
        let shared: Reads = Arc::default();
        let reads = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let (shared, read) = (Arc::clone(&shared), counted(&reads));
                tokio::spawn(async move { shared.get(&7, at(1), read).await.unwrap() })
            })
            .collect();
        let mut values = Vec::new();
        for task in tasks {
            values.push(task.await.unwrap());
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert!(values.iter().all(|v| Arc::ptr_eq(v, &values[0])), "one answer, shared");
        // The same count again: no read. Another key: its own.
        shared.get(&7, at(1), counted(&reads)).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(*shared.get(&8, at(1), counted(&reads)).await.unwrap(), "read 2");
    }

    #[tokio::test]
    async fn a_newer_change_or_a_heartbeat_reads_again_and_an_older_count_takes_the_newer_read() {
        let shared: Reads = Arc::default();
        let reads = Arc::new(AtomicUsize::new(0));
        assert_eq!(*shared.get(&1, at(1), counted(&reads)).await.unwrap(), "read 1");
        assert_eq!(*shared.get(&1, at(2), counted(&reads)).await.unwrap(), "read 2");
        assert_eq!(*shared.get(&1, at(1), counted(&reads)).await.unwrap(), "read 2");
        let recent = Wanted { count: 2, since: Some(Instant::now()) };
        assert_eq!(*shared.get(&1, recent, counted(&reads)).await.unwrap(), "read 3");
        let older = Wanted { count: 2, since: Instant::now().checked_sub(Duration::from_secs(5)) };
        assert_eq!(*shared.get(&1, older, counted(&reads)).await.unwrap(), "read 3");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_gone_mid_read_or_failing_does_not_leave_the_others_waiting() {
        let shared: Reads = Arc::default();
        // The first reader's stream closes in the middle of its read.
        let stuck = tokio::time::timeout(
            Duration::from_millis(5),
            shared.get(&1, at(1), || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, String>("never".to_owned())
            }),
        )
        .await;
        assert!(stuck.is_err());
        let reads = Arc::new(AtomicUsize::new(0));
        let next = tokio::time::timeout(Duration::from_secs(5), shared.get(&1, at(1), counted(&reads))).await;
        assert_eq!(*next.expect("not left waiting").unwrap(), "read 1");

        // A read fails while another stream waits on it: the failure is the reader's; the
        // waiter reads for itself.
        let failing = {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                shared
                    .get(&1, at(2), || async {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        Err::<String, _>("the database is gone".to_owned())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let waiter = shared.get(&1, at(2), counted(&reads)).await;
        assert_eq!(failing.await.unwrap().unwrap_err(), "the database is gone");
        assert_eq!(*waiter.unwrap(), "read 2");
    }
}
