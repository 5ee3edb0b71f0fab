//! The OpenAPI document: built from the same route definitions that serve requests (each
//! handler's `#[utoipa::path]`, collected by `utoipa-axum`), so a route cannot exist without
//! its documentation. Served at `/api/openapi.json`; a copy is committed at
//! `docs/openapi.json` and a test fails when the two drift (`cloud openapi` prints it).
//!
//! The document tells the whole truth about what the hub accepts: every length, range,
//! pattern and enum the hub checks is in the schemas, and what JSON Schema cannot say is said
//! by three extensions, added here in one place (`Contract`):
//!
//! - `x-after: <field>` — a time that must be later than `<field>` of the same object (in a
//!   change, later than the field's current value when it is not sent);
//! - `x-refers-to: <kind>` — a number or code naming an object that must exist (`event`,
//!   `gate`, `ticket_type`, `box_office`, `ticket`, `enrollment_code`, `voucher`);
//! - `format: ed25519-public-key` — 64 hex digits that are a valid Ed25519 point.
//!
//! `cloud/tests/api_contract.rs` generates requests from the document alone and holds the hub
//! to it.

use crate::state::AppState;
use utoipa::openapi::schema::{ArrayItems, Object, Schema, SchemaFormat};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Voelgoed hub",
        description = "Events, ticketing, payments, devices and sync. Errors are RFC 9457 problem details with a stable `code`. \
                       Console calls authenticate with the session cookie (and `X-CSRF-Token` on changes), API clients with a bearer token \
                       (each token has a request quota: 429 with Retry-After past it). \
                       Beyond JSON Schema, `x-after: <field>` marks a time that must be later than that field, `x-refers-to: <kind>` \
                       a value naming an object that must exist, and `format: ed25519-public-key` a valid Ed25519 public key in hex. \
                       The device endpoints under `/v1/` are signed by the device's key (see sync-core's auth) and refuse in plain text.",
        license(name = "see the repository")
    ),
    components(schemas(
        crate::error::ProblemDetails,
        crate::webhooks::events::OrderEvent,
        crate::webhooks::events::RefundEvent,
        crate::webhooks::events::ScanEvent,
        crate::webhooks::events::DoubleAdmissionEvent,
        crate::webhooks::events::RevokedEvent,
        crate::webhooks::events::DeviceEvent,
        crate::webhooks::events::EventPublishedEvent,
        crate::webhooks::events::LeaseEvent,
        crate::webhooks::events::DoorSaleEvent,
        crate::webhooks::events::TestEvent,
    )),
    security(("session" = []), ("token" = [])),
    tags(
        (name = "auth", description = "Logging in, sessions, API tokens"),
        (name = "members", description = "Who belongs to the organization, in which role"),
        (name = "events", description = "Events, gates, ticket types, signing keys, manifests"),
        (name = "devices", description = "Enrollment and the fleet"),
        (name = "sync", description = "The devices' signed sync protocol"),
        (name = "checkout", description = "The public shop: orders, payment, tickets"),
        (name = "orders", description = "Orders for staff: detail, refunds, cancellation"),
        (name = "payments", description = "The payment provider's webhooks"),
        (name = "guests", description = "Guest lists: names and +1s, edited while the door checks them in"),
        (name = "leases", description = "Box-office leases: selling at the door offline"),
        (name = "reports", description = "Sales, revenue, check-ins, inside, double admissions, devices"),
        (name = "vouchers", description = "Vouchers (discount codes, one or thousands), automatic discounts"),
        (name = "webhooks", description = "Outgoing webhooks (Standard Webhooks): endpoints, secrets and rotation, the delivery log, replay, test events. Each body is `{\"type\", \"timestamp\", \"data\"}`; `data` is the schema named after the type (OrderEvent, ScanEvent, …)"),
        (name = "messages", description = "The wording of every message the hub sends (order confirmation, refund, tickets again, door-sale tickets, invitations, notices), per organization and per event, in each language: templates in a sandboxed Jinja whose body is Markdown, checked on save, with a preview"),
        (name = "seating", description = "Seat plans (native and pretix's format), events sold by seat, seats and their state"),
        (name = "system", description = "Health"),
    )
)]
pub struct ApiDoc;

/// Every documented route (the REST API, the device endpoints, the health check), with the
/// document's fixed parts: the hub's router is made from this, so a route cannot exist
/// without its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(utoipa_axum::routes!(crate::health::health))
        .merge(crate::auth::routes())
        .merge(crate::members::routes())
        .merge(crate::settings::routes())
        .merge(crate::events::routes())
        .merge(crate::devices::routes())
        .merge(crate::vouchers::routes::routes())
        .merge(crate::seating::routes())
        .merge(crate::sales::routes())
        .merge(crate::leases::routes())
        .merge(crate::guests::routes())
        .merge(crate::reports::routes())
        .merge(crate::webhook_api::routes())
        .merge(crate::message_api::routes())
        .merge(crate::schedules::api::routes())
}

/// The document as the hub serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    finish(routes().split_for_parts().1)
}

/// Adds what holds for every operation, once the routes' paths are in.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    Conventions.modify(&mut api);
    Contract.modify(&mut api);
    api
}

/// The document as committed: pretty JSON with a final newline.
pub fn to_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// What holds for every operation, added in one place: the security schemes; that any REST
/// operation may answer a problem-details 4XX, and 503 when the database does not answer (the
/// device endpoints under `/v1/` list their own answers: they refuse in plain text).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let problem = ResponseBuilder::new()
            .description("Problem details (RFC 9457): what is wrong, with a stable code")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ProblemDetails"))))
                    .build(),
            )
            .build();
        let unavailable = ResponseBuilder::new()
            .description("The database does not answer: retry (problem details, code `unavailable`)")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ProblemDetails"))))
                    .build(),
            )
            .build();
        for (path, item) in &mut api.paths.paths {
            let device = path.starts_with("/v1/");
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
                .into_iter()
                .flatten()
            {
                if !device {
                    op.responses.responses.entry("4XX".into()).or_insert_with(|| RefOr::T(problem.clone()));
                }
                if path.starts_with("/api/") {
                    op.responses
                        .responses
                        .entry("503".into())
                        .or_insert_with(|| RefOr::T(unavailable.clone()));
                }
            }
        }
    }
}

/// What JSON Schema cannot say (see the module's documentation): `(schema, property, key,
/// value)`; a property ending in `[]` means its array's items.
const EXTENSIONS: &[(&str, &str, &str, &str)] = &[
    ("NewEvent", "ends_at", "x-after", "starts_at"),
    ("EventChanges", "ends_at", "x-after", "starts_at"),
    ("NewTicketType", "sales_end", "x-after", "sales_start"),
    ("TypeChanges", "sales_end", "x-after", "sales_start"),
    ("NewTicketType", "allowed_gates[]", "x-refers-to", "gate"),
    ("TypeChanges", "allowed_gates[]", "x-refers-to", "gate"),
    ("Part", "ticket_type", "x-refers-to", "ticket_type"),
    ("NewCode", "events[]", "x-refers-to", "event"),
    ("NewLine", "ticket_type", "x-refers-to", "ticket_type"),
    ("NewLease", "device_id", "x-refers-to", "box_office"),
    ("NewLease", "ticket_type", "x-refers-to", "ticket_type"),
    ("NewVoucherLease", "device_id", "x-refers-to", "box_office"),
    ("RefundBody", "serials[]", "x-refers-to", "ticket"),
    ("Enroll", "code", "x-refers-to", "enrollment_code"),
    ("LeaseRequestDoc", "event", "x-refers-to", "event"),
    ("LeaseRequestDoc", "ticket_type", "x-refers-to", "ticket_type"),
    ("DoorSaleEmailDoc", "event", "x-refers-to", "event"),
    ("Terms", "ticket_types[]", "x-refers-to", "ticket_type"),
    ("Terms", "valid_until", "x-after", "valid_from"),
    ("VoucherChanges", "valid_until", "x-after", "valid_from"),
    ("NewRule", "ticket_types[]", "x-refers-to", "ticket_type"),
    ("NewRule", "valid_until", "x-after", "valid_from"),
    ("NewOrder", "voucher", "x-refers-to", "voucher"),
    ("QuoteRequest", "voucher", "x-refers-to", "voucher"),
];

/// Properties in a format of the hub's own: `(schema, property, format)`.
const FORMATS: &[(&str, &str, &str)] = &[("Enroll", "public_key", "ed25519-public-key")];

/// Adds [`EXTENSIONS`] and [`FORMATS`] to the schemas.
struct Contract;

/// The object schema of `property` (or of its array's items, for `name[]`) in `schema`.
fn property<'a>(
    api: &'a mut utoipa::openapi::OpenApi,
    schema: &str,
    property: &str,
) -> Option<&'a mut Object> {
    let (name, items) = property.strip_suffix("[]").map_or((property, false), |n| (n, true));
    let components = api.components.as_mut()?;
    let RefOr::T(Schema::Object(object)) = components.schemas.get_mut(schema)? else { return None };
    let found = object.properties.get_mut(name)?;
    match (found, items) {
        (RefOr::T(Schema::Object(o)), false) => Some(o),
        (RefOr::T(Schema::Array(a)), true) => match &mut a.items {
            ArrayItems::RefOrSchema(item) => match item.as_mut() {
                RefOr::T(Schema::Object(o)) => Some(o),
                _ => None,
            },
            ArrayItems::False => None,
        },
        _ => None,
    }
}

impl Modify for Contract {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for &(schema, name, key, value) in EXTENSIONS {
            // A schema renamed without this table following is a bug the test of this module
            // catches.
            if let Some(object) = property(api, schema, name) {
                let extension = utoipa::openapi::extensions::ExtensionsBuilder::new().add(key, value).build();
                object.extensions.get_or_insert_with(Default::default).merge(extension);
            }
        }
        for &(schema, name, format) in FORMATS {
            if let Some(object) = property(api, schema, name) {
                object.format = Some(SchemaFormat::Custom(format.to_owned()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_lands_on_a_property() {
        let mut api = document();
        for &(schema, name, key, value) in EXTENSIONS {
            let object = property(&mut api, schema, name).unwrap_or_else(|| panic!("{schema}.{name}"));
            let json = serde_json::to_value(&*object).unwrap();
            assert_eq!(json[key], value, "{schema}.{name}");
        }
        for &(schema, name, format) in FORMATS {
            let object = property(&mut api, schema, name).unwrap_or_else(|| panic!("{schema}.{name}"));
            assert_eq!(serde_json::to_value(&*object).unwrap()["format"], format);
        }
    }
}
