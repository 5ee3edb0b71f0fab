//! Card-present payments: the card terminal behind a trait, so a real terminal's integration
//! (its SDK or local API) plugs in without touching the sale flow.
//!
//! Today's terminal is [`ManualEntry`]: the cashier runs the payment on a standalone terminal
//! and types the reference it prints. The sale is recorded only once the terminal answered
//! with a reference — that reference travels with the door sale to the hub's ledger, which is
//! what reconciles the terminal's settlement with the box office's sales.

/// A card terminal.
pub trait CardTerminal: Send + Sync {
    /// Takes `amount_minor` of `currency` by card. `typed` is what the cashier typed in the
    /// reference field (a manual terminal's printed reference; an integrated terminal may
    /// ignore it). Returns the terminal's transaction reference, or why the payment did not
    /// happen, as a sentence for the cashier.
    fn charge(&self, amount_minor: i64, currency: &str, typed: &str) -> Result<String, String>;
}

/// A standalone terminal: the cashier types the reference it printed.
#[derive(Debug, Default)]
pub struct ManualEntry;

impl CardTerminal for ManualEntry {
    fn charge(&self, _amount_minor: i64, _currency: &str, typed: &str) -> Result<String, String> {
        let reference = typed.trim();
        if reference.is_empty() {
            return Err("Run the payment on the card terminal, then type the reference it printed.".into());
        }
        Ok(reference.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_terminal_needs_the_printed_reference() {
        assert!(ManualEntry.charge(9_000, "EUR", "  ").is_err());
        assert_eq!(ManualEntry.charge(9_000, "EUR", " T-0042 ").unwrap(), "T-0042");
    }
}
