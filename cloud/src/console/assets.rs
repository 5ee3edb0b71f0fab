//! The console's stylesheet and scripts, compiled into the binary: the hub serves everything
//! its pages need, with nothing to install beside it and no CDN.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const CSS: &str = include_str!("../../assets/console.css");
const CONSOLE_JS: &str = include_str!("../../assets/console.js");
const LIVE_JS: &str = include_str!("../../assets/live.js");
const BUILDER_JS: &str = include_str!("../../assets/builder.js");
const PLAN_EDIT_JS: &str = include_str!("../../assets/plan_edit.js");
const SEATS_JS: &str = include_str!("../../assets/seats.js");
const SHOP_JS: &str = include_str!("../../assets/shop.js");
const PAY_JS: &str = include_str!("../../assets/pay.js");
/// Money as the apps write and read it (console.js imports it): one module for every front end.
const MONEY_JS: &str = include_str!("../../../apps/ui/common/money.js");
/// The seat plan drawn, zoomed and panned (shop.js imports it; the box office draws with it too).
const SEATMAP_JS: &str = include_str!("../../../apps/ui/common/seatmap.js");
/// How seatmap.js's drawings look (the box office links the same file).
const SEATMAP_CSS: &str = include_str!("../../../apps/ui/common/seatmap.css");

/// Served with `no-cache`: browsers revalidate, so a new hub version's assets are used at once.
fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
}

/// `/assets/…`.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/console.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", CONSOLE_JS) }))
        .route("/assets/live.js", get(|| async { asset("text/javascript; charset=utf-8", LIVE_JS) }))
        .route("/assets/builder.js", get(|| async { asset("text/javascript; charset=utf-8", BUILDER_JS) }))
        .route(
            "/assets/plan_edit.js",
            get(|| async { asset("text/javascript; charset=utf-8", PLAN_EDIT_JS) }),
        )
        .route("/assets/seats.js", get(|| async { asset("text/javascript; charset=utf-8", SEATS_JS) }))
        .route("/assets/shop.js", get(|| async { asset("text/javascript; charset=utf-8", SHOP_JS) }))
        .route("/assets/pay.js", get(|| async { asset("text/javascript; charset=utf-8", PAY_JS) }))
        .route("/assets/money.js", get(|| async { asset("text/javascript; charset=utf-8", MONEY_JS) }))
        .route("/assets/seatmap.css", get(|| async { asset("text/css; charset=utf-8", SEATMAP_CSS) }))
        .route("/assets/seatmap.js", get(|| async { asset("text/javascript; charset=utf-8", SEATMAP_JS) }))
}
