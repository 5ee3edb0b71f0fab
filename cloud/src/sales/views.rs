//! What the API answers and the console and the shop show about orders.

use serde::Serialize;
use utoipa::ToSchema;

/// An order's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, its tickets held until `hold_expires_at`, not paid yet.
    Pending,
    /// Paid; its tickets issued.
    Paid,
    /// Not enough tickets were left.
    Rejected,
    /// Its hold lapsed unpaid.
    Expired,
    /// Cancelled by staff before payment.
    Cancelled,
}

impl OrderStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

impl TryFrom<String> for OrderStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        [Self::Pending, Self::Paid, Self::Rejected, Self::Expired, Self::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown order status {s:?}"))
    }
}

/// Where an order was sold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// In the shop.
    Online,
    /// At a box office (a door sale).
    BoxOffice,
}

impl Channel {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Online => "Online",
            Self::BoxOffice => "Box office",
        }
    }
}

impl TryFrom<String> for Channel {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "online" => Ok(Self::Online),
            "box_office" => Ok(Self::BoxOffice),
            _ => Err(format!("unknown channel {s:?}")),
        }
    }
}

/// An order, with its lines and tickets.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrderView {
    /// Its code (8 characters; case does not matter).
    pub code: String,
    /// The buyer's secret (answers to the buyer only: it opens the order's page and tickets).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(skip)]
    pub secret: Option<String>,
    /// Where it is in its life.
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    /// The event.
    pub event_id: i64,
    /// The event's name.
    pub event_name: String,
    /// The buyer's e-mail (empty for a door sale nobody asked to e-mail).
    pub email: String,
    /// The buyer's name.
    pub name: String,
    /// ISO 4217 code.
    pub currency: String,
    /// What it costs, in minor units.
    pub total_minor: i64,
    /// What was refunded, in minor units.
    pub refunded_minor: i64,
    /// When its hold lapses unpaid (Unix ms; pending orders).
    pub hold_expires_at: Option<i64>,
    /// When it was placed (Unix ms).
    pub created_at: i64,
    /// When it was paid (Unix ms).
    pub paid_at: Option<i64>,
    /// Online or at the door.
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    /// The voucher code it used, if any.
    pub voucher: Option<String>,
    /// By ticket type.
    #[sqlx(skip)]
    pub lines: Vec<LineView>,
    /// Once paid, by serial.
    #[sqlx(skip)]
    pub tickets: Vec<TicketView>,
    /// The seats it chose (held while pending), "Stalls · Row F · Seat 12", in plan order.
    #[sqlx(skip)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<String>,
}

/// One ticket type of an order.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct LineView {
    /// The ticket type's number.
    pub ticket_type: i64,
    /// Its name.
    pub name: String,
    /// How many.
    pub quantity: i64,
    /// The list price of one, in minor units.
    pub unit_price_minor: i64,
    /// Taken off the whole line (a voucher or an automatic discount), in minor units: the
    /// line costs `quantity × unit_price_minor − discount_minor`.
    pub discount_minor: i64,
    /// Why ("Voucher SPRING", "Early bird"); "" without a discount.
    pub discount_reason: String,
}

/// A ticket of an order.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct TicketView {
    /// Its serial within the event.
    pub serial: i64,
    /// Its ticket type's number.
    pub ticket_type: i64,
    /// That type's name.
    pub ticket_type_name: String,
    /// `valid`, or `revoked` once refunded or voided.
    #[schema(pattern = "^(valid|revoked)$")]
    pub status: String,
    /// The signed ticket, as its QR code holds it (empty for a door sale: the box office
    /// signed it and handed it over).
    pub text: String,
    /// What it cost, in minor units.
    pub price_minor: i64,
    /// The serial of the bundle ticket it came with (a VIP package's parking ticket): refunded
    /// with that ticket, not alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_of: Option<i64>,
    /// Its seat, "Stalls · Row F · Seat 12" (a ticket type sold by seat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat: Option<String>,
}

/// An order as staff see it: with its payments, refunds and check-ins.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffOrderView {
    /// The order.
    #[serde(flatten)]
    pub order: OrderView,
    /// The venue's time zone (for showing times).
    pub time_zone: String,
    /// Payments, oldest first.
    pub payments: Vec<PaymentView>,
    /// Refunds (and cancellations without money back), oldest first.
    pub refunds: Vec<RefundView>,
    /// Disputes (chargebacks) of its payment, oldest first.
    pub disputes: Vec<super::store::DisputeView>,
    /// Scans of its tickets, by time.
    pub checkins: Vec<CheckinView>,
    /// Texts to the buyer's phone (the ticket link) and what became of each, oldest first.
    pub texts: Vec<crate::texts::store::TextRow>,
}

/// A payment of an order.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PaymentView {
    /// Its id.
    pub id: i64,
    /// `online`, `cash`, `card_present` or `comp`.
    #[schema(pattern = "^(online|cash|card_present|comp)$")]
    pub method: String,
    /// `created`, `pending`, `succeeded` or `failed`.
    #[schema(pattern = "^(created|pending|succeeded|failed)$")]
    pub status: String,
    /// How much, in minor units.
    pub amount_minor: i64,
    /// The provider's (or the card terminal's) reference.
    pub provider_ref: Option<String>,
    /// When it was started (Unix ms).
    pub created_at: i64,
    /// When it succeeded (Unix ms).
    pub settled_at: Option<i64>,
}

/// A refund of an order.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RefundView {
    /// Its id.
    pub id: i64,
    /// How much, in minor units.
    pub amount_minor: i64,
    /// The tickets it revoked.
    #[sqlx(try_from = "String")]
    #[schema(value_type = Vec<u32>)]
    pub serials: Serials,
    /// Why.
    pub reason: String,
    /// `pending` (the provider has not confirmed), `succeeded` or `failed`.
    #[schema(pattern = "^(pending|succeeded|failed)$")]
    pub status: String,
    /// Who: `user:<id>` or `system`.
    pub created_by: String,
    /// When (Unix ms).
    pub created_at: i64,
}

/// Serials, stored comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Serials(pub Vec<u32>);

impl TryFrom<String> for Serials {
    type Error = std::num::ParseIntError;
    fn try_from(stored: String) -> Result<Self, Self::Error> {
        stored.split(',').filter(|s| !s.is_empty()).map(str::parse).collect::<Result<_, _>>().map(Self)
    }
}

impl std::fmt::Display for Serials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&list.join(", "))
    }
}

/// A scan of one of an order's tickets.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CheckinView {
    /// The ticket.
    pub serial: i64,
    /// When the device scanned it (its clock, Unix ms).
    pub at: i64,
    /// The verdict's code (`admitted`, `already_inside`, …).
    pub verdict: String,
    /// `entry` or `exit`.
    #[schema(pattern = "^(entry|exit)$")]
    pub direction: String,
    /// The gate's name.
    pub gate: String,
    /// The device's name.
    pub device: String,
}

/// An order in a list.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrderSummary {
    /// Its code.
    pub code: String,
    /// Where it is in its life.
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    /// The buyer's e-mail.
    pub email: String,
    /// The buyer's name.
    pub name: String,
    /// What it cost, in minor units.
    pub total_minor: i64,
    /// What was refunded, in minor units.
    pub refunded_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// When it was placed (Unix ms).
    pub created_at: i64,
    /// Online or at the door.
    #[sqlx(try_from = "String")]
    pub channel: Channel,
}

/// The event's orders.
#[derive(Serialize, ToSchema)]
pub struct Orders {
    /// Oldest first, a page of them.
    pub orders: Vec<OrderSummary>,
    /// More orders follow: ask again with `starting_after` set to the last one's code.
    pub has_more: bool,
}

/// A payment started at the provider.
#[derive(Serialize, ToSchema)]
pub struct PaymentStarted {
    /// The hub's payment.
    pub payment_id: i64,
    /// `pending` (the customer pays at `checkout_url`), or as a retry found it.
    #[schema(pattern = "^(created|pending|succeeded|failed)$")]
    pub status: String,
    /// Where the customer pays.
    pub checkout_url: Option<String>,
    /// For a provider whose card form runs in the page (Stripe): what Stripe.js confirms the
    /// payment with (a PaymentIntent's client secret). Absent for the simulated provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A refund made.
#[derive(Serialize, ToSchema)]
pub struct RefundMade {
    /// The refund.
    pub id: i64,
    /// How much, in minor units.
    pub amount_minor: i64,
    /// The tickets revoked.
    pub serials: Vec<u32>,
    /// `succeeded`, or `pending` until the provider confirms.
    #[schema(pattern = "^(pending|succeeded|failed)$")]
    pub status: String,
}

/// An event's shop: what a buyer sees before buying.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShopEvent {
    /// The event.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether tickets are sold now.
    pub on_sale: bool,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's time zone.
    pub time_zone: String,
    /// The shop's language unless the buyer's browser prefers another of en, de, nl.
    pub language: crate::lang::Lang,
    /// What the organizer says of it (plain text).
    pub description: String,
    /// Where ("" if not said).
    pub venue_name: String,
    /// The venue's address ("" if not said).
    pub venue_address: String,
    /// Who sells the tickets.
    pub organizer: String,
    /// The organizer's terms and conditions ("" if none).
    pub terms_url: String,
    /// The organizer's privacy policy ("" if none).
    pub privacy_url: String,
    /// By number.
    pub ticket_types: Vec<ShopTicketType>,
}

/// A ticket type in the shop.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ShopTicketType {
    /// Its number (what an order's lines name).
    pub number: i64,
    /// Its name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Tickets left.
    pub available: i64,
    /// Sales open (Unix ms).
    pub sales_start: Option<i64>,
    /// Sales close (Unix ms).
    pub sales_end: Option<i64>,
    /// What the shop says of it.
    pub description: String,
    /// Sold only with a voucher that opens it (shown only then).
    #[serde(skip)]
    #[sqlx(try_from = "i64")]
    pub hidden: crate::json::Flag,
    /// An add-on: sold only with a ticket of another type.
    #[sqlx(try_from = "i64")]
    #[schema(value_type = bool)]
    pub addon: crate::json::Flag,
    /// A bundle's contents (empty: not a bundle); `available` counts them too.
    #[sqlx(skip)]
    pub includes: Vec<ShopPart>,
    /// Sold by seat: buyers pick seats on the event's map (`GET
    /// /api/v1/public/events/{id}/seats`) or get the best available.
    #[sqlx(skip)]
    pub seated: bool,
}

/// What one bundle contains of a ticket type.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ShopPart {
    /// How many.
    pub quantity: i64,
    /// The ticket type's name.
    pub name: String,
}
