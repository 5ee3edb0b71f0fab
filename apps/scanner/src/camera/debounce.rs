//! A code held in front of the camera is read in frame after frame; the gate must handle it
//! once. A code counts as presented again only after it has been out of sight for `gap`
//! (a frame or two where the decoder misses a code it still sees must not re-trigger it).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Which codes read from frames are new presentations.
pub struct Debounce {
    gap: Duration,
    /// Every code read within the last `gap`, with when it was last read. Several, not one: a
    /// phone showing two tickets can alternate between them frame by frame.
    seen: HashMap<String, Instant>,
}

impl Debounce {
    /// A code is shown again once it was out of sight for `gap`.
    pub fn new(gap: Duration) -> Self {
        Self { gap, seen: HashMap::new() }
    }

    /// `text` was read in a frame at `now`: true when it is a new presentation to handle.
    pub fn admit(&mut self, text: &str, now: Instant) -> bool {
        let gap = self.gap;
        self.seen.retain(|_, last| now.saturating_duration_since(*last) < gap);
        self.seen.insert(text.to_owned(), now).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAP: Duration = Duration::from_millis(1500);

    #[test]
    fn a_code_held_in_view_for_ten_seconds_is_handled_once() {
        let (mut debounce, start) = (Debounce::new(GAP), Instant::now());
        let handled =
            (0..300) // 30 frames a second
                .filter(|i| debounce.admit("TICKET", start + Duration::from_millis(i * 33)))
                .count();
        assert_eq!(handled, 1);
    }

    #[test]
    fn a_code_shown_again_after_it_left_the_view_is_handled_again() {
        let (mut debounce, start) = (Debounce::new(GAP), Instant::now());
        assert!(debounce.admit("TICKET", start));
        assert!(!debounce.admit("TICKET", start + Duration::from_millis(1400)));
        assert!(debounce.admit("TICKET", start + Duration::from_millis(1400 + 1500)));
    }

    #[test]
    fn two_codes_alternating_in_view_are_each_handled_once() {
        let (mut debounce, start) = (Debounce::new(GAP), Instant::now());
        let handled: Vec<_> = (0..60)
            .map(|i| if i % 2 == 0 { "A" } else { "B" })
            .enumerate()
            .filter(|&(i, code)| debounce.admit(code, start + Duration::from_millis(i as u64 * 33)))
            .map(|(_, code)| code)
            .collect();
        assert_eq!(handled, ["A", "B"]);
    }
}
