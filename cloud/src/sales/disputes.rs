//! Disputes (chargebacks): the buyer's bank takes a payment back and the provider says so
//! (Stripe's `charge.dispute.created`). The hub records it on the order, where the console
//! shows it; whether the tickets are cancelled is the organizer's call
//! (`POST /api/v1/orders/{code}/revocations`, [`super::routes`]). The money is the dispute's:
//! no refund is made for it.

use super::store::{self, DisputeView};
use crate::db::Tenant;
use crate::error::ApiError;
use crate::payments::DisputeNote;

/// What a dispute the provider reported came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderDispute {
    /// Recorded on its order now.
    Recorded,
    /// The same dispute was recorded before (in another event).
    Known,
}

/// Records dispute `note` of `payment` in `tx` (which has remembered the event):
/// `amount_minor` held back by the bank. Idempotent by the provider's dispute id.
pub async fn disputed_at_provider(
    mut tx: Tenant,
    payment: i64,
    amount_minor: i64,
    currency: &str,
    note: &DisputeNote,
) -> Result<ProviderDispute, ApiError> {
    let order = store::order_of_payment(&mut tx, payment).await?.ok_or(ApiError::NotFound)?;
    // The provider's words, kept short and printable for the console.
    let reason: String = note.reason.chars().filter(|c| !c.is_control()).take(100).collect();
    let dispute = DisputeView {
        provider_ref: note.id.clone(),
        amount_minor,
        currency: currency.to_owned(),
        reason: if reason.is_empty() { "unstated".into() } else { reason },
        created_at: tx.now(),
    };
    if !store::insert_dispute(&mut tx, order, payment, &dispute).await? {
        tx.commit().await?;
        return Ok(ProviderDispute::Known);
    }
    let details = serde_json::json!({"dispute": dispute.provider_ref, "amount_minor": amount_minor, "reason": dispute.reason});
    tx.audit("provider", "order.disputed", &format!("order_id:{order}"), details).await?;
    tx.commit().await?;
    Ok(ProviderDispute::Recorded)
}
