//! `POST /api/v1/message-templates/preview`: a wording as it would read, before it is saved —
//! with the organization's own latest paid order (of the event, if one is named) where the
//! kind is about an order, the caller as the invited member for an invitation, and made-up
//! facts where the organization has nothing real yet.

use super::{MANAGERS, named, own_event, refused};
use crate::auth::Caller;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::lang::Lang;
use crate::messages::context::{self, Buyer, DoorOrder, MemberFacts, Named, RefundFacts};
use crate::messages::{self, Context, Kind, Wording};
use crate::sales::{buyer_mail, store as sales_store};
use crate::state::{AppState, PublicUrl};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A wording to preview.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The kind of message.
    pub kind: Kind,
    /// The language.
    pub lang: Lang,
    /// The subject's template (empty for a text message).
    #[serde(default)]
    #[schema(max_length = 20000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub subject: String,
    /// The body's template.
    #[schema(max_length = 20000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
    pub body: String,
    /// Preview with this event's latest order (else the organization's).
    #[serde(default)]
    pub event_id: Option<i64>,
}

/// A message as it would be sent.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Preview {
    /// Its subject line ("" for a text message).
    pub subject: String,
    /// Its plain-text part (a text message: all of it).
    pub text: String,
    /// Its HTML part (a whole document).
    pub html: String,
    /// The HTML part's body alone (what the console shows).
    pub html_body: String,
    /// Whose facts it shows: "order K7Q2MX4P", "you", or "made-up facts".
    pub facts: String,
}

/// The preview of `asked`, for `caller`.
pub async fn preview(
    db: &Db,
    public_url: &PublicUrl,
    caller: &Caller,
    asked: &PreviewRequest,
) -> Result<Preview, ApiError> {
    caller.require(MANAGERS)?;
    let (kind, lang) = named(asked.kind.as_str(), asked.lang.code())?;
    super::plain_characters(&asked.subject, &asked.body)?;
    let wording = Wording { subject: asked.subject.clone(), body: asked.body.replace("\r\n", "\n") };
    let mut tx = db.tenant(caller.org_id).await?;
    if let Some(event) = asked.event_id {
        own_event(&mut tx, event).await?;
    }
    let (context, facts) = real_facts(&mut tx, public_url, caller, kind, lang, asked.event_id).await?;
    tx.commit().await?;
    if kind.is_text() {
        let text = messages::render_text(&wording, &context).map_err(|r| refused(&r))?;
        return Ok(Preview {
            subject: String::new(),
            html: String::new(),
            html_body: String::new(),
            text,
            facts,
        });
    }
    let letter = messages::render(lang, &wording, &context).map_err(|r| refused(&r))?;
    Ok(Preview {
        subject: letter.subject.clone(),
        text: letter.text(),
        html: letter.html(),
        html_body: letter.html_body(),
        facts,
    })
}

/// The facts a preview of `kind` shows, and whose they are.
async fn real_facts(
    tx: &mut Tenant,
    public_url: &PublicUrl,
    caller: &Caller,
    kind: Kind,
    lang: Lang,
    event: Option<i64>,
) -> anyhow::Result<(Context, String)> {
    let org = messages::store::org_name(tx).await?;
    let made_up = || {
        let first = context::samples(kind, lang, &org).into_iter().next();
        (first.expect("every kind has a sample"), "made-up facts".to_owned())
    };
    match kind {
        Kind::AccountInvitation | Kind::MemberInvitation => {
            let me =
                crate::tenancy::store::members(tx).await?.into_iter().find(|m| m.user_id == caller.user_id);
            let Some(me) = me else { return Ok(made_up()) };
            let context = Context::Invitation {
                org: context::Org { name: org },
                member: MemberFacts {
                    name: me.name.clone(),
                    email: me.email,
                    role: crate::members::role_words(me.role, lang),
                },
                inviter: Named { name: me.name },
                sign_in_url: format!("{}/login", public_url.base()),
            };
            Ok((context, "you".into()))
        }
        // A real report's facts are the schedule's, at its time: the preview shows made-up ones.
        Kind::WebhookDisabled | Kind::ScheduledReport => Ok(made_up()),
        _ => {
            let Some(order) = messages::store::latest_paid_order(tx, event).await? else {
                return Ok(made_up());
            };
            let Some(mut facts) = sales_store::mail_facts(tx, order).await? else { return Ok(made_up()) };
            // Dates and amounts as the previewed language writes them.
            lang.code().clone_into(&mut facts.language);
            let lines = sales_store::line_names(tx, order).await?;
            let count = lines.iter().map(|(_, n)| *n).sum::<i64>();
            let whose = format!("order {}", facts.code);
            let order_context = buyer_mail::order_context(&facts, lines, public_url);
            let context = match (kind, order_context) {
                (Kind::RefundNotice, order_context) => {
                    let refund = RefundFacts {
                        amount: lang.money(facts.total_minor, &facts.currency),
                        cancelled: usize::try_from(count).unwrap_or(0),
                        tickets_issued: true,
                    };
                    buyer_mail::refund_context(order_context, refund)
                }
                (Kind::DoorSaleTickets, Context::Order { org, event, order, .. }) => Context::DoorSale {
                    org,
                    event,
                    buyer: Buyer { name: String::new(), email: facts.email.clone() },
                    orders: vec![DoorOrder {
                        tickets_url: format!(
                            "{}/api/v1/public/orders/{}/{}/tickets.pdf",
                            public_url.base(),
                            order.code,
                            facts.secret
                        ),
                        code: order.code,
                    }],
                },
                (_, order_context) => order_context,
            };
            Ok((context, whose))
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/message-templates/preview",
    tag = "messages",
    request_body = PreviewRequest,
    responses(
        (status = 200, description = "The message as it would be sent, with the organization's latest paid order where there is one", body = Preview),
        (status = 404, description = "No such event", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "It does not render: `field` is subject or body, the detail says the line and the reason", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub(super) async fn preview_route(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(asked): ApiJson<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    Ok(Json(preview(&state.db, &state.public_url, &caller, &asked).await?))
}
