//! What a buyer pays: a pure function from an order's lines, the voucher they entered and the
//! event's automatic discounts to each line's discount and its reason. The hub's checkout, the
//! shop's price preview and the box office (offline, with the voucher uses leased to it and the
//! discounts the hub published) call the same function, so the price shown is the price
//! charged, online and at the door.
//!
//! The rules, in the order they are applied:
//!
//! 1. **Hidden ticket types** are sold only with a voucher that unlocks them and covers them.
//! 2. **The voucher** covers every ticket of the types in its scope (one use per ticket); more
//!    than its per-order limit is refused, as is a voucher that covers nothing in the order.
//!    Its price mode applies to each covered ticket.
//! 3. **Automatic discounts** apply to the tickets the voucher does not cover (vouchers and
//!    automatic discounts do not stack, as in pretix). Each rule valid now is evaluated over
//!    the whole order (its minimum quantity counts the order's tickets in its scope); each line
//!    then takes, ticket by ticket, the one rule that takes the most off it (the line's reason
//!    names each rule that won a ticket). A ticket never gets two discounts.
//!    A price tier ("the first 500 at …") is a rule for the first N tickets of each type: it
//!    covers only the order's tickets whose place in the type's sales (`taken_before` + 1, …)
//!    is N or less — exact when checkout prices the order under the type's row lock, an
//!    estimate in the shop's quote.
//!
//! Amounts are integers in minor units: a percentage rounds half up per ticket, and a discount
//! never takes a price below zero. A line's discount is for the whole line; each issued ticket
//! carries its share ([`ticket_prices`]), so the tickets of a line sum to exactly what was paid.

/// How a voucher or rule changes the price of each ticket it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PriceMode {
    /// The ticket costs this (minor units); never more than its list price.
    Set(i64),
    /// This much off (minor units).
    Subtract(i64),
    /// This many percent off (0–100).
    Percent(i64),
    /// The price stays: the voucher opens hidden types or its reserved tickets.
    Unlock,
}

impl PriceMode {
    /// What it takes off one ticket of list price `price`.
    pub fn discount(self, price: i64) -> i64 {
        let off = match self {
            Self::Set(to) => price - to,
            Self::Subtract(amount) => amount,
            Self::Percent(percent) => (price * percent + 50) / 100,
            Self::Unlock => 0,
        };
        off.clamp(0, price.max(0))
    }
}

/// Which ticket types (by number) something covers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// Every type.
    All,
    /// These.
    Types(Vec<i64>),
}

impl Scope {
    /// Whether it covers type `number`.
    pub fn covers(&self, number: i64) -> bool {
        match self {
            Self::All => true,
            Self::Types(types) => types.contains(&number),
        }
    }
}

/// A voucher's terms, as pricing needs them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VoucherTerms {
    /// Its code (the reason on the lines it discounts).
    pub code: String,
    /// Its price mode.
    pub mode: PriceMode,
    /// What it covers.
    pub scope: Scope,
    /// Most tickets it covers in one order.
    pub max_per_order: Option<i64>,
    /// Whether it opens hidden ticket types.
    pub unlocks_hidden: bool,
}

/// What an automatic discount gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    /// A price mode on each ticket in scope (not [`PriceMode::Unlock`]).
    Price(PriceMode),
    /// Of every `buy + free` tickets in scope, the `free` cheapest cost nothing.
    BuyGet {
        /// Tickets paid for.
        buy: i64,
        /// Tickets given with them.
        free: i64,
    },
}

/// An automatic discount.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// Its name: the reason on the lines it discounts ("Early bird").
    pub name: String,
    /// What it gives.
    pub effect: Effect,
    /// What it covers.
    pub scope: Scope,
    /// Tickets in scope the order must have.
    pub min_quantity: i64,
    /// Valid from (Unix ms).
    pub valid_from: Option<i64>,
    /// Valid until (Unix ms, exclusive): an early-bird price ends here.
    pub valid_until: Option<i64>,
    /// Only the first this many tickets of each type in scope (a price tier).
    pub first: Option<i64>,
}

impl Rule {
    fn valid_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|from| now >= from) && self.valid_until.is_none_or(|until| now < until)
    }
}

/// One line as pricing sees it.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    /// The ticket type's number.
    pub number: i64,
    /// How many.
    pub quantity: i64,
    /// The list price of one.
    pub list_price: i64,
    /// Sold only with a voucher that unlocks it.
    pub hidden: bool,
    /// Tickets of its type sold or held before this order (a price tier's count).
    pub taken_before: i64,
}

/// A line's price.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Priced {
    /// Taken off the whole line, in minor units.
    pub discount_minor: i64,
    /// Why ("Voucher SPRING", "Early bird"); empty without a discount or voucher.
    pub reason: String,
    /// Uses of the voucher this line takes (its tickets the voucher covers).
    pub voucher_uses: i64,
}

/// Why an order cannot have the price it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A hidden ticket type without a voucher that unlocks it.
    Hidden {
        /// Its number.
        number: i64,
    },
    /// The voucher covers more tickets than it may in one order.
    OverPerOrder {
        /// Its limit.
        max: i64,
    },
    /// The voucher covers none of the order's tickets.
    NotApplicable,
}

/// Prices `items` at `now` with `voucher` and `rules`; one [`Priced`] per item, in order.
pub fn price(
    items: &[Item],
    voucher: Option<&VoucherTerms>,
    rules: &[Rule],
    now: i64,
) -> Result<Vec<Priced>, Refusal> {
    let covered: Vec<bool> =
        items.iter().map(|i| voucher.is_some_and(|v| v.scope.covers(i.number))).collect();
    // 1. Hidden types.
    for (item, covered) in items.iter().zip(&covered) {
        if item.hidden && !(*covered && voucher.is_some_and(|v| v.unlocks_hidden)) {
            return Err(Refusal::Hidden { number: item.number });
        }
    }
    let mut priced = vec![Priced::default(); items.len()];
    // 2. The voucher.
    if let Some(v) = voucher {
        let uses: i64 = items.iter().zip(&covered).filter(|(_, c)| **c).map(|(i, _)| i.quantity).sum();
        if uses == 0 {
            return Err(Refusal::NotApplicable);
        }
        if let Some(max) = v.max_per_order
            && uses > max
        {
            return Err(Refusal::OverPerOrder { max });
        }
        for ((item, covered), p) in items.iter().zip(&covered).zip(&mut priced) {
            if *covered {
                p.discount_minor = item.quantity * v.mode.discount(item.list_price);
                p.reason = format!("Voucher {}", v.code);
                p.voucher_uses = item.quantity;
            }
        }
    }
    // 3. Automatic discounts, on what the voucher left: each ticket the best one.
    let mut best: Vec<Vec<(i64, usize)>> =
        items.iter().map(|i| vec![(0, usize::MAX); usize::try_from(i.quantity).unwrap_or(0)]).collect();
    for (r, rule) in rules.iter().enumerate().filter(|(_, r)| r.valid_at(now)) {
        let offs = rule_discounts(rule, items, &covered);
        for (line, offs) in best.iter_mut().zip(offs) {
            for (ticket, off) in line.iter_mut().zip(offs) {
                if off > ticket.0 {
                    *ticket = (off, r);
                }
            }
        }
    }
    for ((line, p), covered) in best.iter().zip(&mut priced).zip(&covered) {
        if *covered {
            continue;
        }
        p.discount_minor = line.iter().map(|(off, _)| off).sum();
        let mut reasons: Vec<usize> = line.iter().filter(|(off, _)| *off > 0).map(|(_, r)| *r).collect();
        reasons.sort_unstable();
        reasons.dedup();
        p.reason = reasons.iter().map(|r| rules[*r].name.as_str()).collect::<Vec<_>>().join(" + ");
    }
    Ok(priced)
}

/// What `rule` alone takes off each ticket of each line (0 for lines outside it or covered by
/// the voucher). A line's tickets are in the order they are sold: a tier prices its first ones.
fn rule_discounts(rule: &Rule, items: &[Item], covered: &[bool]) -> Vec<Vec<i64>> {
    let applies: Vec<bool> =
        items.iter().zip(covered).map(|(i, c)| !c && rule.scope.covers(i.number)).collect();
    let count: i64 = items.iter().zip(&applies).filter(|(_, a)| **a).map(|(i, _)| i.quantity).sum();
    let mut offs: Vec<Vec<i64>> =
        items.iter().map(|i| vec![0; usize::try_from(i.quantity).unwrap_or(0)]).collect();
    if count == 0 || count < rule.min_quantity {
        return offs;
    }
    // The tickets of each line the rule may price: all, or those within a tier's first N.
    let eligible: Vec<usize> = items
        .iter()
        .zip(&applies)
        .map(|(item, applies)| match (applies, rule.first) {
            (false, _) => 0,
            (true, None) => item.quantity,
            (true, Some(first)) => (first - item.taken_before).clamp(0, item.quantity),
        })
        .map(|n| usize::try_from(n).unwrap_or(0))
        .collect();
    match rule.effect {
        Effect::Price(mode) => {
            for ((item, eligible), offs) in items.iter().zip(&eligible).zip(&mut offs) {
                offs[..*eligible].fill(mode.discount(item.list_price));
            }
        }
        Effect::BuyGet { buy, free } => {
            let group = usize::try_from(buy + free).unwrap_or(0);
            let free = usize::try_from(free).unwrap_or(0);
            let mut left = eligible.iter().sum::<usize>().checked_div(group).unwrap_or(0) * free;
            // The cheapest tickets are the free ones (a line's last: its first may be in a tier).
            let mut cheapest: Vec<usize> = (0..items.len()).filter(|i| eligible[*i] > 0).collect();
            cheapest.sort_by_key(|i| (items[*i].list_price, *i));
            for i in cheapest {
                let n = left.min(eligible[i]);
                let from = eligible[i] - n;
                offs[i][from..eligible[i]].fill(items[i].list_price);
                left -= n;
            }
        }
    }
    offs
}

/// The price of each of a line's `quantity` tickets when the line costs `quantity × list_price
/// − discount`: equal shares, the first ones a minor unit more where it does not divide, so
/// that a refund of any of them is exact and all of them sum to the line.
pub fn ticket_prices(quantity: i64, list_price: i64, discount: i64) -> Vec<i64> {
    if quantity <= 0 {
        return Vec::new();
    }
    let total = quantity * list_price - discount;
    let (share, extra) = (total / quantity, total % quantity);
    (0..quantity).map(|i| share + i64::from(i < extra)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(number: i64, quantity: i64, list_price: i64) -> Item {
        Item { number, quantity, list_price, hidden: false, taken_before: 0 }
    }

    fn voucher(mode: PriceMode, scope: Scope) -> VoucherTerms {
        VoucherTerms { code: "SPRING".into(), mode, scope, max_per_order: None, unlocks_hidden: false }
    }

    fn rule(name: &str, effect: Effect, min_quantity: i64) -> Rule {
        Rule {
            name: name.into(),
            effect,
            scope: Scope::All,
            min_quantity,
            valid_from: None,
            valid_until: None,
            first: None,
        }
    }

    #[test]
    fn price_modes_take_off_what_they_say_and_never_below_zero() {
        assert_eq!(PriceMode::Set(1500).discount(2500), 1000);
        assert_eq!(PriceMode::Set(3000).discount(2500), 0);
        assert_eq!(PriceMode::Subtract(500).discount(2500), 500);
        assert_eq!(PriceMode::Subtract(5000).discount(2500), 2500);
        assert_eq!(PriceMode::Percent(15).discount(1999), 300); // 299.85 rounds to 300
        assert_eq!(PriceMode::Percent(100).discount(1999), 1999);
        assert_eq!(PriceMode::Unlock.discount(1999), 0);
    }

    #[test]
    fn a_voucher_discounts_only_its_scope_and_counts_one_use_per_ticket() {
        let v = voucher(PriceMode::Percent(50), Scope::Types(vec![1]));
        let priced = price(&[item(1, 2, 2000), item(2, 1, 5000)], Some(&v), &[], 0).unwrap();
        assert_eq!(
            priced[0],
            Priced { discount_minor: 2000, reason: "Voucher SPRING".into(), voucher_uses: 2 }
        );
        assert_eq!(priced[1], Priced::default());
    }

    #[test]
    fn a_voucher_is_refused_over_its_per_order_limit_or_when_it_covers_nothing() {
        let mut v = voucher(PriceMode::Subtract(100), Scope::Types(vec![1]));
        v.max_per_order = Some(2);
        assert_eq!(price(&[item(1, 3, 2000)], Some(&v), &[], 0), Err(Refusal::OverPerOrder { max: 2 }));
        assert_eq!(price(&[item(2, 1, 2000)], Some(&v), &[], 0), Err(Refusal::NotApplicable));
    }

    #[test]
    fn hidden_types_need_a_voucher_that_unlocks_and_covers_them() {
        let hidden = Item { hidden: true, ..item(3, 1, 0) };
        assert_eq!(price(&[hidden], None, &[], 0), Err(Refusal::Hidden { number: 3 }));
        let mut v = voucher(PriceMode::Unlock, Scope::Types(vec![3]));
        assert_eq!(price(&[hidden], Some(&v), &[], 0), Err(Refusal::Hidden { number: 3 }));
        v.unlocks_hidden = true;
        assert_eq!(price(&[hidden], Some(&v), &[], 0).unwrap()[0].voucher_uses, 1);
    }

    #[test]
    fn early_bird_ends_at_its_date() {
        let mut early = rule("Early bird", Effect::Price(PriceMode::Set(1500)), 1);
        early.valid_until = Some(1000);
        assert_eq!(
            price(&[item(1, 2, 2500)], None, std::slice::from_ref(&early), 999).unwrap()[0].discount_minor,
            2000
        );
        assert_eq!(price(&[item(1, 2, 2500)], None, &[early], 1000).unwrap()[0].discount_minor, 0);
    }

    #[test]
    fn quantity_discounts_start_at_their_minimum_across_lines() {
        let four = rule("4 or more", Effect::Price(PriceMode::Percent(10)), 4);
        let three =
            price(&[item(1, 2, 1000), item(2, 1, 1000)], None, std::slice::from_ref(&four), 0).unwrap();
        assert!(three.iter().all(|p| p.discount_minor == 0));
        let priced = price(&[item(1, 2, 1000), item(2, 2, 3000)], None, &[four], 0).unwrap();
        assert_eq!((priced[0].discount_minor, priced[1].discount_minor), (200, 600));
        assert_eq!(priced[1].reason, "4 or more");
    }

    #[test]
    fn buy_three_get_one_gives_the_cheapest_tickets() {
        let b3g1 = rule("Buy 3 get 1", Effect::BuyGet { buy: 3, free: 1 }, 1);
        let priced = price(&[item(1, 6, 3000), item(2, 2, 1000)], None, &[b3g1], 0).unwrap();
        // 8 tickets: two groups of four, two free — the two cheapest.
        assert_eq!((priced[0].discount_minor, priced[1].discount_minor), (0, 2000));
    }

    #[test]
    fn each_line_takes_the_best_single_rule_and_vouchered_lines_take_none() {
        let early = rule("Early bird", Effect::Price(PriceMode::Subtract(300)), 1);
        let bulk = rule("4 or more", Effect::Price(PriceMode::Percent(20)), 4);
        let priced = price(&[item(1, 4, 1000)], None, &[early.clone(), bulk.clone()], 0).unwrap();
        assert_eq!((priced[0].discount_minor, priced[0].reason.as_str()), (1200, "Early bird"));
        let v = voucher(PriceMode::Subtract(100), Scope::Types(vec![1]));
        let priced = price(&[item(1, 4, 1000), item(2, 1, 1000)], Some(&v), &[early, bulk], 0).unwrap();
        assert_eq!((priced[0].discount_minor, priced[0].reason.as_str()), (400, "Voucher SPRING"));
        assert_eq!((priced[1].discount_minor, priced[1].reason.as_str()), (300, "Early bird"));
    }

    #[test]
    fn tickets_across_a_tier_boundary_get_each_tiers_price() {
        let mut first = rule("First 500", Effect::Price(PriceMode::Set(2000)), 1);
        first.first = Some(500);
        let mut next = rule("Next 500", Effect::Price(PriceMode::Set(2500)), 1);
        next.first = Some(1000);
        let line = Item { taken_before: 498, ..item(1, 4, 3000) };
        let priced = price(&[line], None, &[first, next], 0).unwrap();
        // Two at 20.00 (1000 off each), two at 25.00 (500 off each).
        assert_eq!((priced[0].discount_minor, priced[0].reason.as_str()), (3000, "First 500 + Next 500"));
    }

    #[test]
    fn a_tier_prices_only_the_tickets_within_its_first_n() {
        let mut tier = rule("First 500", Effect::Price(PriceMode::Set(2000)), 1);
        tier.first = Some(500);
        let at = |taken_before: i64, quantity: i64| {
            let item = Item { taken_before, ..item(1, quantity, 2500) };
            price(&[item], None, std::slice::from_ref(&tier), 0).unwrap()[0].discount_minor
        };
        assert_eq!(at(0, 4), 2000);
        assert_eq!(at(498, 4), 1000, "two of four within the first 500");
        assert_eq!(at(500, 4), 0);
        assert_eq!(at(600, 1), 0);
    }

    fn mode() -> impl Strategy<Value = PriceMode> {
        prop_oneof![
            (0i64..20_000).prop_map(PriceMode::Set),
            (0i64..20_000).prop_map(PriceMode::Subtract),
            (0i64..=100).prop_map(PriceMode::Percent),
            Just(PriceMode::Unlock),
        ]
    }

    proptest! {
        /// Whatever the voucher and rules, no line costs less than nothing or more than its
        /// list price, the voucher's uses are exactly the tickets it covers, and the tickets'
        /// prices sum to the line to the minor unit.
        #[test]
        fn every_line_stays_between_zero_and_its_list_price(
            lines in prop::collection::vec((1i64..5, 1i64..10, 0i64..20_000), 1..5),
            voucher_mode in prop::option::of(mode()),
            rule_mode in mode(),
            buy in 1i64..5, free in 0i64..3, min in 1i64..6,
        ) {
            let items: Vec<Item> = lines.iter().enumerate()
                .map(|(i, (_, q, p))| item(i64::try_from(i).unwrap() + 1, *q, *p)).collect();
            let v = voucher_mode.map(|m| voucher(m, Scope::Types(vec![1])));
            let rules = [rule("a", Effect::Price(rule_mode), min), rule("b", Effect::BuyGet { buy, free }, min)];
            let priced = price(&items, v.as_ref(), &rules, 0).unwrap();
            for (item, p) in items.iter().zip(&priced) {
                prop_assert!(p.discount_minor >= 0 && p.discount_minor <= item.quantity * item.list_price);
                let expected_uses = if v.is_some() && item.number == 1 { item.quantity } else { 0 };
                prop_assert_eq!(p.voucher_uses, expected_uses);
                let tickets = ticket_prices(item.quantity, item.list_price, p.discount_minor);
                prop_assert_eq!(tickets.iter().sum::<i64>(), item.quantity * item.list_price - p.discount_minor);
                prop_assert!(tickets.iter().max().unwrap() - tickets.iter().min().unwrap() <= 1);
            }
        }
    }
}
