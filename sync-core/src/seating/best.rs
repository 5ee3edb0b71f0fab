//! Best available: `n` free seats side by side in one row, as close to the stage as the hall
//! allows — what a box office clerk does by eye, and what a buyer asks for with "4 seats in
//! stalls".
//!
//! The rules:
//! 1. the seats are in one row and stand next to each other (consecutive in the row's order,
//!    no seat between them, taken or of another price level);
//! 2. of all such blocks, the one whose middle is closest to the focus wins;
//! 3. a block that would leave a single free seat stranded beside it (between it and a taken
//!    seat or the row's end) counts as [`ORPHAN_PENALTY`] units further away: lone seats are
//!    the ones that never sell;
//! 4. ties go to the earlier row, then the earlier seat: the answer is deterministic.
//!
//! If no row has `n` free seats together there is no answer: the buyer picks seats on the map
//! rather than being split up unasked.

use super::plan::Point;

/// How much worse a block that strands one free seat is (plan units: about two rows).
pub const ORPHAN_PENALTY: f64 = 60.0;

/// A seat as best available sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spot {
    /// Its row (any number unique to the row).
    pub row: u32,
    /// Its place in the row: neighbours differ by one.
    pub pos: u32,
    /// Where it is.
    pub x: f64,
    /// Where it is.
    pub y: f64,
    /// Free to sell in this order's price level.
    pub free: bool,
}

/// The best `n` seats of `spots` (sorted by row, then place), as indexes into `spots`; `None`
/// if no row has `n` free seats together.
pub fn choose(spots: &[Spot], n: usize, focus: Point) -> Option<Vec<usize>> {
    if n == 0 {
        return None;
    }
    let mut best: Option<(f64, usize)> = None;
    let mut run_start = 0;
    for i in 0..spots.len() {
        let joined = i > 0
            && spots[i].row == spots[i - 1].row
            && spots[i].pos == spots[i - 1].pos + 1
            && spots[i].free
            && spots[i - 1].free;
        if !joined {
            run_start = i;
        }
        if !spots[i].free || i + 1 - run_start < n {
            continue;
        }
        let start = i + 1 - n;
        let score = distance(&spots[start..=i], focus) + strands(spots, start, i);
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, start));
        }
    }
    best.map(|(_, start)| (start..start + n).collect())
}

fn distance(block: &[Spot], focus: Point) -> f64 {
    #[allow(clippy::cast_precision_loss)] // n ≤ 50
    let n = block.len() as f64;
    let (x, y) = block.iter().fold((0.0, 0.0), |(x, y), s| (x + s.x, y + s.y));
    ((x / n - focus.x).powi(2) + (y / n - focus.y).powi(2)).sqrt()
}

/// The penalty if the block `start..=end` leaves exactly one free seat on either side.
fn strands(spots: &[Spot], start: usize, end: usize) -> f64 {
    let adjacent = |a: usize, b: usize| spots[a].row == spots[b].row && spots[b].pos == spots[a].pos + 1;
    let free_run = |mut i: usize, forward: bool| {
        let mut n = 0;
        loop {
            let next = if forward { i.checked_add(1).filter(|j| *j < spots.len()) } else { i.checked_sub(1) };
            let Some(j) = next else { break };
            let (a, b) = if forward { (i, j) } else { (j, i) };
            if !adjacent(a, b) || !spots[j].free || n == 2 {
                break;
            }
            n += 1;
            i = j;
        }
        n
    };
    let lone = [free_run(start, false), free_run(end, true)].iter().filter(|n| **n == 1).count();
    #[allow(clippy::cast_precision_loss)]
    let lone = lone as f64;
    lone * ORPHAN_PENALTY
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `rows` rows of `per_row` seats 30 apart, row 0 nearest the stage at (x_mid, 0).
    fn hall(rows: u32, per_row: u32, taken: &[(u32, u32)]) -> Vec<Spot> {
        (0..rows)
            .flat_map(|row| {
                (0..per_row).map(move |pos| Spot {
                    row,
                    pos,
                    x: 30.0 * f64::from(pos),
                    y: 50.0 + 30.0 * f64::from(row),
                    free: true,
                })
            })
            .map(|mut s| {
                s.free = !taken.contains(&(s.row, s.pos));
                s
            })
            .collect()
    }

    fn stage(per_row: u32) -> Point {
        Point { x: 15.0 * f64::from(per_row - 1), y: 0.0 }
    }

    #[test]
    fn an_empty_hall_gives_the_middle_of_the_front_row() {
        let spots = hall(5, 10, &[]);
        let got = choose(&spots, 2, stage(10)).unwrap();
        assert_eq!(got.iter().map(|i| (spots[*i].row, spots[*i].pos)).collect::<Vec<_>>(), [(0, 4), (0, 5)]);
    }

    #[test]
    fn seats_are_kept_together_even_a_row_further_back() {
        // Row 0 has free seats but never 3 together.
        let taken: Vec<(u32, u32)> = (0..10).filter(|p| p % 3 == 2).map(|p| (0, p)).collect();
        let spots = hall(3, 10, &taken);
        let got = choose(&spots, 3, stage(10)).unwrap();
        assert!(got.iter().all(|i| spots[*i].row == 1), "{got:?}");
        assert!(choose(&spots, 11, stage(10)).is_none(), "no row has 11");
    }

    #[test]
    fn a_block_that_strands_a_lone_seat_loses_to_one_that_does_not() {
        let spots = hall(1, 5, &[(0, 4)]);
        // Free 0..=3, the stage in front of 1-2: that block would strand seats 0 and 3, so
        // 0-1 (as near as 2-3, earlier) wins.
        let got = choose(&spots, 2, Point { x: 45.0, y: 0.0 }).unwrap();
        assert_eq!(got, [0, 1]);
    }

    proptest! {
        /// Whatever is taken, an answer is n free seats side by side in one row, and there is
        /// an answer whenever some row has n free seats together.
        #[test]
        fn an_answer_is_always_n_free_seats_side_by_side(
            taken in proptest::collection::vec((0u32..4, 0u32..12), 0..40),
            n in 1u32..6,
        ) {
            let spots = hall(4, 12, &taken);
            let exists = (0..4).any(|row| {
                (0..=12 - n).any(|p| (p..p + n).all(|q| !taken.contains(&(row, q))))
            });
            match choose(&spots, n as usize, stage(12)) {
                Some(got) => {
                    prop_assert_eq!(got.len(), n as usize);
                    prop_assert!(got.iter().all(|i| spots[*i].free));
                    prop_assert!(got.windows(2).all(|w| spots[w[0]].row == spots[w[1]].row && spots[w[1]].pos == spots[w[0]].pos + 1));
                }
                None => prop_assert!(!exists, "a block existed"),
            }
        }
    }
}
