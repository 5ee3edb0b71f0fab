//! The OpenAPI document: built from the same route definitions that serve requests (each
//! handler's `#[utoipa::path]`, collected by `utoipa-axum`), so a route cannot exist without
//! its documentation. Served at `/api/openapi.json`; a copy is committed at
//! `docs/openapi.json` and a test fails when the two drift (`cloud openapi` prints it).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Voelgoed hub",
        description = "Events, ticketing, payments, devices and sync. Errors are RFC 9457 problem details with a stable `code`. \
                       Console calls authenticate with the session cookie (and `X-CSRF-Token` on changes), API clients with a bearer token.",
        license(name = "see the repository")
    ),
    components(schemas(crate::error::ProblemDetails)),
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
        (name = "system", description = "Health"),
    )
)]
pub struct ApiDoc;

/// The document as the hub serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    finish(crate::server::api_routes().split_for_parts().1)
}

/// Adds what holds for every operation, once the routes' paths are in.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    Conventions.modify(&mut api);
    api
}

/// The document as committed: pretty JSON with a final newline.
pub fn to_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// What holds for every operation, added in one place: the security schemes, and that any
/// operation may answer a problem-details 4XX.
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
        for item in api.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
                .into_iter()
                .flatten()
            {
                op.responses.responses.entry("4XX".into()).or_insert_with(|| RefOr::T(problem.clone()));
            }
        }
    }
}
