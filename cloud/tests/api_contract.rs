//! The hub held to its own OpenAPI document (issue 18), tried as an integrator would: requests
//! generated from the published document alone, for every operation, valid and invalid.
//!
//! - Valid requests follow every schema (lengths, patterns, ranges, enums, nullable types,
//!   `additionalProperties`) and the extensions: `x-after` (both times sent, the later one
//!   greater), `x-refers-to` (objects seeded below) and `format: ed25519-public-key` (a fresh
//!   key). They are never to be refused as malformed (400, 413, 415, 422); the state may refuse
//!   them (401, 403, 404, 409, 410, 429), but each operation must succeed at least once.
//! - Invalid requests are a valid one with one violation: a property missing or unknown, a
//!   wrong type, a length, pattern, range, enum or item count broken, an extension broken, a
//!   body not JSON or not sent as JSON, a bad query parameter or header, an id nobody has, no
//!   credentials, no or a bad signature. They are to be refused with a 4xx.
//! - Every answer: no 5xx; a status the operation documents (exactly or as `4XX`), in the
//!   content type documented for it, with a JSON body valid against the documented schema.
//!
//! Generation is proptest's, from a fixed seed (`CONTRACT_SEED` explores others): the same
//! requests on every run. The hub runs on PostgreSQL, where odd input (a NUL) fails first. The
//! test knows the hub only through the objects it seeds ([`seed`]) and the extension kinds;
//! each failure prints the request and the answer.

mod common;

use common::{Organizer, TestHub, press_pay, start_payment};
use proptest::prelude::{RngExt, Strategy};
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::keys::DeviceKey;
use sync_core::sync::auth::sign_request;
use sync_core::sync::message::Framed as _;

/// Valid and invalid requests per operation (valid ones up to 4N while none succeeds).
const N: usize = 6;
/// Operations whose requests cannot succeed from the document alone, and why.
const NO_SUCCESS_EXPECTED: &[(&str, &str)] = &[
    ("POST /api/v1/login", "needs a member's password"),
    ("POST /api/v1/session/organization", "needs the slug of another organization of the caller's"),
    ("POST /api/v1/webhooks/payments", "needs a payment the provider made, by the provider's id"),
    ("POST /v1/door-sales/email", "needs a door sale the box office synced"),
    ("POST /api/v1/devices/{id}/exports", "needs a file a revoked device sealed to this hub"),
    ("POST /api/v1/leases/{id}/extend", "needs a time between the lease's expiry and a day after the event"),
    (
        "POST /api/v1/orders/{code}/revocations",
        "needs valid tickets on the order whose serials the generator knows, which its refunds cancel first (cloud/tests/stripe.rs cancels with it)",
    ),
    ("POST /api/v1/seat-plans", "the body is a whole seat plan; cloud/tests/seating.rs sends them"),
    ("PUT /api/v1/seat-plans/{id}", "the body is a whole seat plan; cloud/tests/seating.rs sends them"),
    (
        "PUT /api/v1/events/{id}/seating",
        "needs the category names inside a plan (cloud/tests/seating.rs assigns plans)",
    ),
    (
        "POST /api/v1/events/{id}/seats/block",
        "needs the seat ids inside the event's plan (cloud/tests/seating.rs blocks)",
    ),
    (
        "POST /api/v1/events/{id}/seats/unblock",
        "needs blocked seat ids of the event's plan (cloud/tests/seating.rs frees them)",
    ),
    (
        "POST /api/v1/orders/{code}/tickets/{serial}/seat",
        "needs a seated ticket's serial and a free seat id of the same type (cloud/tests/seating.rs moves one)",
    ),
    (
        "DELETE /api/v1/message-templates/{kind}/{lang}",
        "needs a wording saved for that kind and language (cloud/tests/buyer_mail.rs saves and removes them)",
    ),
    (
        "DELETE /api/v1/events/{id}/message-templates/{kind}/{lang}",
        "needs a wording saved for that event, kind and language (cloud/tests/buyer_mail.rs saves and removes them)",
    ),
    (
        "GET /api/v1/reconciliation",
        "needs a provider that moves money; this hub pays through the simulated one (cloud/tests/stripe.rs reconciles with Stripe's emulator)",
    ),
];
/// What the document says in words only, as neither JSON Schema nor the extensions can: a
/// valid request may be refused with a 422 naming that field.
const UNSAYABLE: &[(&str, &str, &str)] = &[
    ("POST /api/v1/public/events/{id}/orders", "lines", "each ticket type once, at most 50 tickets in all"),
    ("POST /api/v1/public/events/{id}/orders", "phone", "8 to 15 digits in all"),
    ("POST /api/v1/public/events/{id}/quote", "lines", "each ticket type once, at most 50 tickets in all"),
    (
        "POST /api/v1/public/events/{id}/orders",
        "voucher",
        "the voucher covers the order's tickets, at most its limit per order",
    ),
    (
        "POST /api/v1/public/events/{id}/quote",
        "voucher",
        "the voucher covers the order's tickets, at most its limit per order",
    ),
    (
        "POST /api/v1/events",
        "includes",
        "a bundle's parts are other types of the event, each once, not bundles themselves",
    ),
    (
        "POST /api/v1/events/{id}/ticket-types",
        "includes",
        "a bundle's parts are other types of the event, each once, not bundles themselves; a part is not a bundle",
    ),
    (
        "PATCH /api/v1/events/{id}/ticket-types/{number}",
        "includes",
        "a bundle's parts are other types of the event, each once, not bundles themselves; a part is not a bundle",
    ),
    ("POST /api/v1/members", "initial_password", "required exactly when the e-mail has no account"),
    ("POST /api/v1/webhooks", "url", "a URL the address parser takes (a port up to 65535)"),
    ("POST /api/v1/events/{id}/report-schedules", "roles", "roles that may read the chosen report"),
    ("PATCH /api/v1/report-schedules/{id}", "roles", "roles that may read the chosen (or kept) report"),
    ("POST /api/v1/webhooks", "event_types", "at least one type besides webhook.test"),
    ("PATCH /api/v1/webhooks/{id}", "event_types", "at least one type besides webhook.test"),
    ("PATCH /api/v1/webhooks/{id}", "url", "a URL the address parser takes (a port up to 65535)"),
    ("POST /api/v1/events/{id}/leases", "expires_at", "in the future, at most a day after the event ends"),
    (
        "POST /api/v1/events/{id}/leases",
        "seats",
        "exactly for a ticket type sold by seat: seats of its plan of that type, each once",
    ),
    ("POST /api/v1/events/{id}/leases", "quantity", "for a seat lease, the number of its seats"),
    (
        "POST /api/v1/events/{id}/vouchers/{code}/leases",
        "expires_at",
        "in the future, at most a day after the event ends",
    ),
    ("POST /api/v1/leases/{id}/extend", "expires_at", "after the expiry, at most a day after the event"),
    (
        "POST /api/v1/seat-plans",
        "plan",
        "a whole seat plan (sync-core's `seating::Plan`, or pretix's format)",
    ),
    (
        "PUT /api/v1/seat-plans/{id}",
        "plan",
        "a whole seat plan (sync-core's `seating::Plan`, or pretix's format)",
    ),
    ("PUT /api/v1/events/{id}/seating", "plan", "a plan of the organization"),
    (
        "PUT /api/v1/events/{id}/seating",
        "categories",
        "the plan's categories, each to a ticket type of the event",
    ),
    ("POST /api/v1/events/{id}/seats/block", "seats", "seats of the event's plan, each once"),
    ("POST /api/v1/events/{id}/seats/unblock", "seats", "seats of the event's plan, each once"),
    ("PUT /api/v1/message-templates/{kind}/{lang}", "subject", TEMPLATE),
    ("PUT /api/v1/message-templates/{kind}/{lang}", "body", TEMPLATE),
    ("PUT /api/v1/events/{id}/message-templates/{kind}/{lang}", "subject", TEMPLATE),
    ("PUT /api/v1/events/{id}/message-templates/{kind}/{lang}", "body", TEMPLATE),
    (
        "PUT /api/v1/events/{id}/message-templates/{kind}/{lang}",
        "kind",
        "a message to buyers (one about an event)",
    ),
    ("POST /api/v1/message-templates/preview", "subject", TEMPLATE),
    ("POST /api/v1/message-templates/preview", "body", TEMPLATE),
];
/// What a message template must be, beyond its schema.
const TEMPLATE: &str =
    "a template that renders with every sample of its kind: its syntax, its names, not blank";

/// How a request proves who sends it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cred {
    None,
    Token,
    Session,
    /// Signed with the box office's key (`/v1/`), or with another body's signature.
    Device,
    BadDevice,
    /// The signature header's value replaced by the payment provider's signature.
    Webhook,
}

/// A generated request: parameters as (in, name, value), the body as (content type, bytes).
#[derive(Clone, Debug)]
struct Req {
    method: String,
    template: String,
    params: Vec<(String, String, String)>,
    body: Option<(String, Vec<u8>)>,
    cred: Cred,
    violation: String,
}

impl Req {
    fn param(&self, place: &str) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().filter(move |p| p.0 == place).map(|p| (p.1.as_str(), p.2.as_str()))
    }

    /// The path with its parameters and query, percent-encoded.
    fn uri(&self) -> String {
        let mut path = self.template.clone();
        for (name, value) in self.param("path") {
            path = path.replace(&format!("{{{name}}}"), &encode(value));
        }
        let query: Vec<String> =
            self.param("query").map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) }
    }

    fn show(&self) -> String {
        let headers: Vec<_> = self.param("header").collect();
        let body =
            self.body.as_ref().map(|(ct, b)| format!("\n  body ({ct}): {}", clip(b))).unwrap_or_default();
        let (method, uri, cred, violation) = (&self.method, self.uri(), self.cred, &self.violation);
        format!(
            "{method} {uri}\n  credentials: {cred:?}, headers: {headers:?}{body}\n  violation: {violation}"
        )
    }
}

/// Percent-encodes all but the unreserved characters.
fn encode(text: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    text.bytes().map(|b| if keep(b) { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

/// At most 1500 characters of a body, for a report.
fn clip(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(1500).collect()
}

/// A parameter's place, name and schema.
fn parts(p: &Value) -> (&str, &str, &Value) {
    (p["in"].as_str().unwrap(), p["name"].as_str().unwrap(), &p["schema"])
}

/// A value as a query parameter or header.
fn scalar(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The JSON Schema types a value has.
fn json_types(v: &Value) -> &'static [&'static str] {
    match v {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) if n.is_f64() => &["number"],
        Value::Number(_) => &["integer", "number"],
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

/// The types a schema allows.
fn types(s: &Value) -> Vec<String> {
    match &s["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        _ if s.get("enum").is_some() => vec!["string".into()],
        _ => vec![],
    }
}

fn int(s: &Value, key: &str) -> Option<i64> {
    s.get(key).and_then(Value::as_i64)
}

/// A length or count limit of a schema.
fn size(s: &Value, key: &str) -> Option<usize> {
    s.get(key)?.as_u64()?.try_into().ok()
}

/// Sets (or, with `None`, removes) the value at JSON pointer `at`.
fn set(body: &mut Value, at: &str, new: Option<Value>) {
    let Some((parent, key)) = at.rsplit_once('/') else { return *body = new.unwrap_or_default() };
    match body.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            drop(if let Some(v) = new { m.insert(key.into(), v) } else { m.remove(key) });
        }
        Some(Value::Array(a)) => a[key.parse::<usize>().unwrap()] = new.unwrap_or_default(),
        _ => unreachable!("{at}"),
    }
}

/// A documented operation: `METHOD /template`, its parts, its specification and parameters.
struct Op {
    name: String,
    method: String,
    template: String,
    spec: Value,
    params: Vec<Value>,
}

/// The generator: proptest's RNG, the document's components and what the hub was seeded with.
struct Gen {
    runner: TestRunner,
    components: Value,
    /// Path parameter values by (method or `*`, template or a prefix ending in `*`, name).
    paths: Vec<(&'static str, &'static str, &'static str, Vec<String>)>,
    /// Values for each `x-refers-to` kind (enrollment codes are used up).
    refers: HashMap<&'static str, Vec<Value>>,
    used: HashMap<String, usize>,
    validators: HashMap<String, jsonschema::Validator>,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.runner.rng().random_bool(p)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.runner.rng().random_range(0..items.len())].clone()
    }

    /// A seeded value for a path parameter, each row's values in turn.
    fn seeded(&mut self, op: &Op, name: &str) -> Option<String> {
        let fits =
            |t: &str| t == op.template || t.strip_suffix('*').is_some_and(|p| op.template.starts_with(p));
        let (m, t, _, values) =
            self.paths.iter().find(|(m, t, n, _)| (*m == op.method || *m == "*") && fits(t) && *n == name)?;
        let used = self.used.entry(format!("{m} {t} {name}")).or_default();
        *used += 1;
        Some(values[(*used - 1) % values.len()].clone())
    }

    /// `s` with `$ref`s followed, `allOf` merged and a nullable `oneOf` (null or one schema)
    /// folded into that schema, `null` added to its types.
    fn norm(&self, s: &Value) -> Value {
        if let Some(r) = s["$ref"].as_str() {
            return self.norm(&self.components["schemas"][r.trim_start_matches("#/components/schemas/")]);
        }
        if let Some(parts) = s["allOf"].as_array() {
            let (mut properties, mut required) = (Map::new(), vec![]);
            for part in parts.iter().map(|p| self.norm(p)) {
                properties.extend(part["properties"].as_object().cloned().unwrap_or_default());
                required.extend(part["required"].as_array().cloned().unwrap_or_default());
            }
            return json!({"type": "object", "properties": properties, "required": required});
        }
        let branches: Vec<&Value> = s["oneOf"].as_array().into_iter().flatten().collect();
        if let [only] = branches.iter().filter(|b| b["type"] != "null").collect::<Vec<_>>()[..]
            && branches.len() == 2
        {
            let mut folded = self.norm(only);
            folded["type"] = json!([types(&folded), vec!["null".into()]].concat());
            return folded;
        }
        s.clone()
    }

    /// A value valid for `s`.
    fn value(&mut self, s: &Value) -> Value {
        if let Some(kind) = s["x-refers-to"].as_str() {
            let values = self.refers[kind].clone();
            return if kind == "enrollment_code" {
                self.refers.get_mut(kind).unwrap().pop().unwrap()
            } else {
                self.pick(&values)
            };
        }
        if s["format"] == "ed25519-public-key" {
            return json!(hex::encode(DeviceKey::generate().unwrap().public_key()));
        }
        if s.get("$ref").is_some() {
            let resolved = self.norm(s);
            return self.value(&resolved);
        }
        if let Some(branches) = s["oneOf"].as_array().or(s["anyOf"].as_array()) {
            let branch = self.pick(branches);
            return self.value(&branch);
        }
        let s = self.norm(s);
        if let Some(options) = s["enum"].as_array() {
            return self.pick(options);
        }
        let ts = types(&s);
        if ts.contains(&"null".into()) && self.chance(0.2) {
            return Value::Null;
        }
        match ts.iter().find(|t| *t != "null").map(String::as_str).or(s.get("properties").map(|_| "object")) {
            Some("object") => self.object(&s),
            Some("array") => {
                let (min, max) = (int(&s, "minItems").unwrap_or(0), int(&s, "maxItems").unwrap_or(i64::MAX));
                let n = self.runner.rng().random_range(min..=max.min(min + 4));
                (0..n).map(|_| self.value(&s["items"])).collect()
            }
            Some("string") => json!(self.string(&s)),
            Some("integer") => json!(self.integer(&s)),
            Some("number") => json!(self.runner.rng().random_range(-1e6..1e6)),
            Some("boolean") => json!(self.chance(0.5)),
            _ => Value::Null,
        }
    }

    /// Required properties always, optional ones sometimes; `x-after` times both, in order.
    fn object(&mut self, s: &Value) -> Value {
        let (mut out, properties) = (Map::new(), s["properties"].as_object().cloned().unwrap_or_default());
        for (name, schema) in &properties {
            if s["required"].as_array().is_some_and(|r| r.contains(&json!(name))) || self.chance(0.5) {
                out.insert(name.clone(), self.value(schema));
            }
        }
        for (name, schema) in &properties {
            if let Some(earlier) = schema["x-after"].as_str() {
                let start = self.integer(&self.norm(&properties[earlier]));
                let gap = self.runner.rng().random_range(1..=10_000_000_000);
                let (start, end) =
                    start.checked_add(gap).map_or_else(|| (start - gap, start), |end| (start, end));
                out.extend([(earlier.to_owned(), json!(start)), (name.clone(), json!(end))]);
            }
        }
        Value::Object(out)
    }

    /// An integer within `minimum`/`maximum` and the range of its `format`: a bound, a small
    /// number, a time near now, or anywhere.
    fn integer(&mut self, s: &Value) -> i64 {
        let (lo, hi) =
            if s["format"] == "int32" { (i32::MIN.into(), i32::MAX.into()) } else { (i64::MIN, i64::MAX) };
        let (lo, hi) =
            (int(s, "minimum").map_or(lo, |m| m.max(lo)), int(s, "maximum").map_or(hi, |m| m.min(hi)));
        let rng = self.runner.rng();
        let near_now = Timestamp::now().0 + rng.random_range(-86_400_000..2_592_000_000);
        let pick = [lo, hi, rng.random_range(-3..100), near_now, rng.random_range(lo..=hi)];
        pick[rng.random_range(0..pick.len())].clamp(lo, hi)
    }

    /// A string of `s`: from its `pattern` (anchors stripped; an unanchored end embeds the
    /// match in random text) or of any characters, within its lengths; sometimes with an odd
    /// character, or stretched towards `maxLength`, where that still fits.
    fn string(&mut self, s: &Value) -> String {
        let (min, max) = (size(s, "minLength").unwrap_or(0), size(s, "maxLength"));
        let pattern = s["pattern"].as_str();
        // Rust and ECMA-262 (JSON Schema's dialect) read `\s`, `\d` and `\w` differently: the
        // document is to spell its classes out (as cloud/src/checks.rs explains).
        let dialects = ["\\s", "\\S", "\\d", "\\D", "\\w", "\\W"];
        assert!(!dialects.iter().any(|c| pattern.unwrap_or("").contains(c)), "write classes out: {s}");
        let full = regex::Regex::new(pattern.unwrap_or("")).unwrap();
        let fits =
            |t: &str| (min..=max.unwrap_or(usize::MAX)).contains(&t.chars().count()) && full.is_match(t);
        let generator = match pattern {
            Some(p) => {
                let (start, core) = p.strip_prefix('^').map_or((false, p), |c| (true, c));
                let (end, core) = core.strip_suffix('$').map_or((false, core), |c| (true, c));
                let pad = |anchored: bool| if anchored { "" } else { "(?s:.{0,6})" };
                format!("{}(?:{core}){}", pad(start), pad(end))
            }
            None => format!("(?s:.{{{min},{}}})", max.unwrap_or(min + 16).min(min + 16)),
        };
        let strategy = proptest::string::string_regex(&generator).unwrap();
        let mut text = (0..50)
            .map(|_| strategy.new_tree(&mut self.runner).unwrap().current())
            .find(|t| fits(t))
            .unwrap_or_else(|| panic!("no string for {s} in 50 tries"));
        if self.chance(0.3) {
            // A NUL (PostgreSQL refuses it), or what one regex dialect calls white space and
            // another does not: alone or appended.
            let odd =
                self.pick(&["\0", "'", "\\", "%", "\u{85}", "\u{a0}", "\u{feff}", "\u{2028}", "\n", "😀"]);
            text = [odd.to_owned(), format!("{text}{odd}")].into_iter().find(|t| fits(t)).unwrap_or(text);
        }
        if let Some(max) = max.filter(|_| !text.is_empty() && self.chance(0.3)) {
            let long = text.repeat(max / text.chars().count());
            text = if fits(&long) { long } else { text };
        }
        text
    }

    /// The ways `v` (valid for `s`, at JSON pointer `at`) and its parts can break `s`: (pointer,
    /// new value or `None` to remove, what).
    fn breaks(&mut self, s: &Value, v: &Value, at: &str, out: &mut Vec<(String, Option<Value>, String)>) {
        macro_rules! add {
            ($at:expr, $new:expr, $($what:tt)*) => { out.push(($at.to_string(), $new, format!("{}: {}", $at, format!($($what)*)))) };
        }
        if let Some(kind) = s["x-refers-to"].as_str() {
            add!(
                at,
                Some(if v.is_string() { json!("NOSUCHTHING") } else { json!(65_000) }),
                "names no {kind} (extension)"
            );
        }
        if s["format"] == "ed25519-public-key" {
            add!(at, Some(json!(format!("01{}", "0".repeat(62)))), "a weak key (extension)");
        }
        let s = self.norm(s);
        let ts = types(&s);
        let samples = [json!(true), json!("x"), json!(7), json!(1.5), json!({}), json!([]), Value::Null];
        let wrong: Vec<Value> = samples
            .into_iter()
            .filter(|c| !json_types(c).iter().any(|t| ts.iter().any(|a| a == t)))
            .collect();
        if !ts.is_empty() {
            let wrong = self.pick(&wrong);
            add!(at, Some(wrong), "wrong type");
        }
        if s.get("enum").is_some() {
            add!(at, Some(json!("not_in_the_enum")), "not in the enum");
        }
        let len = |t: &str| t.chars().count();
        match v {
            Value::String(text) => {
                let (min, max) = (size(&s, "minLength").unwrap_or(0), size(&s, "maxLength"));
                if let Some(max) = max {
                    let unit = if text.is_empty() { "a" } else { text };
                    add!(at, Some(json!(unit.repeat(max / len(unit) + 1))), "longer than {max}");
                }
                if min > 0 {
                    add!(
                        at,
                        Some(json!(text.chars().take(min - 1).collect::<String>())),
                        "shorter than {min}"
                    );
                }
                if let Some(p) = s["pattern"].as_str() {
                    let re = regex::Regex::new(p).unwrap();
                    let fits =
                        |b: &&str| !re.is_match(b) && (min..=max.unwrap_or(usize::MAX)).contains(&len(b));
                    if let Some(bad) =
                        ["", " ", "x", "\n", "a b@c", "\0", "!", "\u{85}", "\u{feff}"].into_iter().find(fits)
                    {
                        add!(at, Some(json!(bad)), "does not match {p}");
                    }
                }
            }
            Value::Number(_) => {
                if let Some(min) = int(&s, "minimum").filter(|m| *m > i64::MIN) {
                    add!(at, Some(json!(min - 1)), "below {min}");
                }
                if let Some(max) = int(&s, "maximum").filter(|m| *m < i64::MAX) {
                    add!(at, Some(json!(max + 1)), "above {max}");
                }
            }
            Value::Array(items) => {
                if let Some(min) = size(&s, "minItems").filter(|m| *m > 0) {
                    add!(at, Some(json!(items[..min - 1])), "fewer than {min} items");
                }
                if let Some(max) = size(&s, "maxItems").filter(|m| *m <= 10_000) {
                    let item = items.first().cloned().unwrap_or_else(|| self.value(&s["items"]));
                    add!(at, Some(json!(vec![item; max + 1])), "more than {max} items");
                }
                if let Some(first) = items.first() {
                    self.breaks(&s["items"], first, &format!("{at}/0"), out);
                }
            }
            Value::Object(fields) => {
                for name in s["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    add!(format!("{at}/{name}"), None, "required, missing");
                }
                if s["additionalProperties"] == false {
                    add!(format!("{at}/unexpected"), Some(json!(1)), "an unknown property");
                }
                for (name, value) in fields {
                    let (schema, here) = (&s["properties"][name], format!("{at}/{name}"));
                    if let Some(start) = schema["x-after"].as_str().and_then(|e| fields.get(e)) {
                        add!(here, Some(start.clone()), "not after (extension)");
                    }
                    self.breaks(schema, value, &here, out);
                }
            }
            _ => {}
        }
    }

    /// A request valid by the document.
    fn request(&mut self, op: &Op, security: &Value) -> Req {
        let (method, template) = (op.method.clone(), op.template.clone());
        let mut req =
            Req { method, template, params: vec![], body: None, cred: Cred::None, violation: String::new() };
        for p in &op.params {
            let (place, name, schema) = parts(p);
            let value = match place {
                "path" => self.seeded(op, name).map_or_else(|| self.value(schema), Value::String),
                _ if p["required"] != true && self.chance(0.5) => continue,
                // Header values are visible ASCII, whatever their schema says.
                "header" if schema.get("pattern").is_none() => {
                    json!(self.string(&json!({"pattern": "^[!-~]{1,40}$"})))
                }
                _ => self.value(schema),
            };
            if !value.is_null() {
                req.params.push((place.into(), name.into(), scalar(&value)));
            }
            if name.eq_ignore_ascii_case(cloud::payments::signature::HEADER) {
                req.cred = Cred::Webhook;
            }
        }
        if let Some((ct, media)) = op.spec["requestBody"]["content"].as_object().and_then(|c| c.iter().next())
        {
            let bytes = if ct.ends_with("json") {
                let body = self.value(&media["schema"]);
                assert!(
                    self.valid(&media["schema"], &body),
                    "generated an invalid body for {}: {body}",
                    op.name
                );
                serde_json::to_vec(&body).unwrap()
            } else {
                // Binary: the sync protocol's own message, a device's first request.
                sync_core::sync::message::SyncRequest { restart: true, ..Default::default() }.encode()
            };
            req.body = Some((ct.clone(), bytes));
        }
        let requirements =
            op.spec.get("security").unwrap_or(security).as_array().cloned().unwrap_or_default();
        let offers = |scheme: &str| requirements.iter().any(|r| r.get(scheme).is_some());
        // The device endpoints that refuse with 401 are signed by the device.
        let device = op.template.starts_with("/v1/") && op.spec["responses"].get("401").is_some();
        let cred = [
            (device, Cred::Device),
            (req.cred == Cred::Webhook, Cred::Webhook),
            (offers("token"), Cred::Token),
        ];
        req.cred = cred
            .into_iter()
            .find(|c| c.0)
            .map_or(if offers("session") { Cred::Session } else { Cred::None }, |c| c.1);
        req
    }

    /// A valid request with one violation, from group `round` of the kinds that apply (none
    /// for an operation without parameters, body or credentials).
    fn invalid(&mut self, op: &Op, security: &Value, round: usize) -> Option<Req> {
        let req = self.request(op, security);
        let edit = |what: String, change: &dyn Fn(&mut Req)| {
            let mut r = req.clone();
            change(&mut r);
            r.violation = what;
            r
        };
        let mut groups: Vec<Vec<Req>> = vec![];
        if let Some((ct, bytes)) = &req.body {
            let mut raw =
                vec![edit("not a message".into(), &|r| r.body = Some((ct.clone(), b"{\"open".to_vec())))];
            if ct.ends_with("json") {
                let (schema, body) = (
                    &op.spec["requestBody"]["content"][ct]["schema"],
                    serde_json::from_slice(bytes).unwrap(),
                );
                let (mut sites, mut group) = (vec![], vec![]);
                self.breaks(schema, &body, "", &mut sites);
                for (at, new, what) in sites {
                    let mut broken = body.clone();
                    set(&mut broken, &at, new);
                    assert!(
                        what.ends_with("(extension)") || !self.valid(schema, &broken),
                        "{what} left {broken} valid"
                    );
                    group.push(edit(what, &|r| {
                        r.body = Some((ct.clone(), serde_json::to_vec(&broken).unwrap()));
                    }));
                }
                groups.push(group);
                // A signed body is read as the bytes signed, whatever its label says.
                if [Cred::Token, Cred::Session, Cred::None].contains(&req.cred) {
                    raw.push(edit("JSON sent as text/plain".into(), &|r| {
                        r.body = Some(("text/plain".into(), bytes.clone()));
                    }));
                }
            }
            groups.push(raw);
        }
        let mut by_place: BTreeMap<&str, Vec<Req>> = BTreeMap::new();
        for p in &op.params {
            let (place, name, schema) = parts(p);
            let integer = types(&self.norm(schema)).contains(&"integer".into());
            let mut bad: Vec<(String, Option<String>)> = match place {
                "path" => {
                    let odd = self.pick(&["\0".to_owned(), "é😀".into(), "x".repeat(300)]);
                    let [none, bad] =
                        if integer { ["999999999".into(), "1.5x".into()] } else { ["none".into(), odd] };
                    vec![("names nothing".into(), Some(none)), ("malformed".into(), Some(bad))]
                }
                "query" => {
                    let (mut sites, value) = (vec![], self.value(schema));
                    self.breaks(schema, &value, "", &mut sites);
                    // In a query every value is a string: a wrong type is one only for others.
                    let text = types(&self.norm(schema)).contains(&"string".into());
                    let sites = sites.into_iter().filter(|s| !(text && s.2.ends_with("wrong type")));
                    sites.map(|(_, new, what)| (what, Some(scalar(&new.unwrap_or_default())))).collect()
                }
                _ if schema.get("pattern").is_some() => {
                    vec![("does not match its pattern".into(), Some("two words".into()))]
                }
                _ => vec![],
            };
            if p["required"] == true && place == "header" {
                bad.push(("missing".into(), None));
            }
            for (what, value) in bad {
                let set_to = |r: &mut Req| {
                    r.params.retain(|q| q.1 != name);
                    r.params.extend(value.clone().map(|v| (place.to_owned(), name.to_owned(), v)));
                };
                by_place.entry(place).or_default().push(edit(format!("{place} {name} {what}"), &set_to));
            }
        }
        if op.params.iter().any(|p| p["in"] == "query") {
            let unknown = |r: &mut Req| r.params.push(("query".into(), "unexpected".into(), "1".into()));
            by_place.entry("query").or_default().push(edit("an unknown query parameter".into(), &unknown));
        }
        groups.extend(by_place.into_values());
        let creds: &[(&str, Cred)] = match req.cred {
            Cred::Device => &[("unsigned", Cred::None), ("badly signed", Cred::BadDevice)],
            Cred::Webhook => &[("not signed with the webhook secret", Cred::None)],
            Cred::Token | Cred::Session => &[("no credentials", Cred::None)],
            _ => &[],
        };
        groups.push(creds.iter().map(|(what, cred)| edit((*what).into(), &|r| r.cred = *cred)).collect());
        groups.retain(|g| !g.is_empty());
        let group = groups.get(round % groups.len().max(1))?;
        Some(self.pick(group))
    }

    fn valid(&mut self, schema: &Value, instance: &Value) -> bool {
        self.validator(schema).is_valid(instance)
    }

    /// A validator of `schema` with the document's components (`#/components/schemas/…`).
    fn validator(&mut self, schema: &Value) -> &jsonschema::Validator {
        let mut root = schema.clone();
        root["components"] = self.components.clone();
        self.validators
            .entry(schema.to_string())
            .or_insert_with(|| jsonschema::draft202012::new(&root).unwrap())
    }

    /// What is wrong with an answer by the document.
    fn check(&mut self, op: &Op, valid: bool, status: u16, content_type: &str, body: &[u8]) -> Vec<String> {
        let mut wrong = vec![];
        if status >= 500 {
            wrong.push("a server error".into());
        }
        let problem: Value = serde_json::from_slice(body).unwrap_or_default();
        let field = problem["field"].as_str().unwrap_or("\0");
        // A field named at the top (`lines`) or inside a list's item (`ticket_types[0].includes`).
        let names = |f: &str| field.starts_with(f) || field.contains(&format!("].{f}"));
        let unsayable = UNSAYABLE.iter().any(|(o, f, _)| *o == op.name && names(f) && status == 422);
        if valid && [400, 413, 415, 422].contains(&status) && !unsayable {
            wrong.push("a valid request refused as malformed".into());
        }
        if !valid && !(400..500).contains(&status) {
            wrong.push("an invalid request not refused with a 4xx".into());
        }
        let responses = &op.spec["responses"];
        let keys = [status.to_string(), format!("{}XX", status / 100), "default".into()];
        let Some(documented) = keys.iter().find_map(|k| responses.get(k)) else {
            wrong.push(format!("status {status} is not documented"));
            return wrong;
        };
        let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let magic: [(&str, &[u8]); 2] = [("image/png", b"\x89PNG"), ("application/pdf", b"%PDF")];
        match documented["content"].as_object().filter(|c| !c.is_empty()) {
            None if !body.is_empty() => wrong.push("a body where the document has none".into()),
            None => {}
            Some(content) => match content.get(&media) {
                None => wrong.push(format!("content type {content_type:?}, documented {:?}", content.keys())),
                Some(m) if media.ends_with("json") => {
                    let schema = m["schema"].clone();
                    let answer: Value = serde_json::from_slice(body).unwrap_or(json!("(not JSON)"));
                    let errors: Vec<String> = self
                        .validator(&schema)
                        .iter_errors(&answer)
                        .map(|e| format!("{e} at {}", e.instance_path()))
                        .collect();
                    if !errors.is_empty() {
                        wrong.push(format!("the body does not match its schema: {}", errors.join("; ")));
                    }
                }
                Some(_) if magic.iter().any(|(m, start)| *m == media && !body.starts_with(start)) => {
                    wrong.push(format!("not {media}"));
                }
                Some(_) => {}
            },
        }
        wrong
    }
}

/// Sends `req` as the seeded owner (token or session), the box office (signed) or the payment
/// provider; answers the status, content type and body.
async fn send(
    hub: &TestHub,
    owner: &(String, Organizer),
    device: &(u32, DeviceKey),
    req: &Req,
) -> (u16, String, Vec<u8>) {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let uri = req.uri();
    let mut call =
        hub.client.request(method, format!("{}{uri}", hub.url)).timeout(std::time::Duration::from_secs(30));
    let signature = |name: &str| name.eq_ignore_ascii_case(cloud::payments::signature::HEADER);
    let (content_type, body) = req.body.clone().unwrap_or_default();
    if req.body.is_some() {
        call = call.header("content-type", content_type).body(body.clone());
    }
    let now = Timestamp::now();
    let sign = |b: &[u8]| {
        let path = uri.split('?').next().unwrap();
        sign_request(DeviceId(device.0), DeviceId(0), |m| device.1.sign(m), &req.method, path, b, now)
    };
    for (name, value) in req.param("header") {
        if req.cred != Cred::Webhook || !signature(name) {
            call = call.header(name, value);
        } else {
            let secret = cloud::crypto::MasterKey::from_bytes(common::MASTER_KEY)
                .derive("simulated-psp:webhook-secret");
            call = call.header(name, cloud::payments::signature::sign(&secret, now.0 / 1000, &body));
        }
    }
    call = match req.cred {
        Cred::Token => call.bearer_auth(&owner.0),
        Cred::Session => owner.1.authorize(call),
        Cred::Device | Cred::BadDevice => {
            let mut signed = sign(&body);
            if req.cred == Cred::BadDevice {
                signed.signature = sign(b"another body").signature;
            }
            signed.pairs().into_iter().fold(call, |call, (name, value)| call.header(name, value))
        }
        Cred::Webhook | Cred::None => call,
    };
    let response = call.send().await.unwrap();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (response.status().as_u16(), content_type, response.bytes().await.unwrap().to_vec())
}

/// Seeds the hub through the API, as an owner with a bearer token: what path parameters and
/// `x-refers-to` values name, and spares for the operations that destroy what they touch.
#[allow(clippy::too_many_lines)] // a table of what was seeded
async fn seed(hub: &TestHub, generator: &mut Gen) -> ((String, Organizer), (u32, DeviceKey)) {
    let owner = Organizer::create(hub, "contract").await;
    let (status, created) = owner.post("/api/v1/tokens", &json!({"name": "contract"})).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let post = |path: String, body: Value| {
        let call = hub.client.post(format!("{}{path}", hub.url)).bearer_auth(&token).json(&body);
        async move {
            let response = call.send().await.unwrap();
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or_default();
            assert!(status.is_success(), "seeding {path}: {status} {answer}");
            answer
        }
    };
    let now = Timestamp::now().0;
    let mut events = vec![];
    for name in ["Main", "Changed", "Status", "Types"] {
        let kind = |name, policy| json!({"name": name, "price_minor": 4500, "currency": "EUR", "capacity": 1_000_000, "entry_policy": policy});
        let body = json!({"name": name, "time_zone": "Europe/Amsterdam", "starts_at": now - 3_600_000, "ends_at": now + 864_000_000,
            "gates": [{"name": "Main"}, {"name": "Exit", "serves": "exit_only"}],
            "ticket_types": [kind("Day", "single_entry"), kind("Pass", "exit_reentry")]});
        events.push(scalar(&post("/api/v1/events".into(), body).await["id"]));
    }
    let main = events[0].clone();
    post(format!("/api/v1/events/{main}/status"), json!({"status": "on_sale"})).await;
    let code = async |role: &str| {
        let body = json!({"name": role, "role": role, "events": [main.parse::<i64>().unwrap()]});
        post("/api/v1/devices/enrollment-codes".into(), body).await["code"].clone()
    };
    let mut devices = vec![];
    for role in ["box_office", "gate", "gate", "gate"] {
        let key = DeviceKey::generate().unwrap();
        let body = json!({"code": code(role).await, "public_key": hex::encode(key.public_key()), "app_version": "1"});
        let id = post("/api/v1/devices/enroll".into(), body).await["device_id"].as_u64().unwrap();
        devices.push((u32::try_from(id).unwrap(), key));
    }
    let mut codes = vec![];
    for _ in 0..5 * N {
        codes.push(code("gate").await);
    }
    let mut orders = vec![];
    for paid in [true, true, false, false] {
        let lines = json!([{"ticket_type": 1, "quantity": 3}, {"ticket_type": 2, "quantity": 3}]);
        let body = json!({"lines": lines, "email": "fan@example.org", "name": "Fan"});
        let order = post(format!("/api/v1/public/events/{main}/orders"), body).await;
        if paid {
            press_pay(hub, &start_payment(hub, &order).await).await;
        }
        orders.push(common::order(hub, &order).await);
    }
    let serials = |order: &Value| {
        order["tickets"].as_array().unwrap().iter().map(|t| t["serial"].clone()).collect::<Vec<_>>()
    };
    let many = async |count: usize, path: String, body: Value, id: &str| {
        let mut ids = vec![];
        for i in 0..count {
            let mut body = body.clone();
            if body.get("email").is_some() {
                body["email"] = json!(format!("member{i}@contract.example"));
            }
            ids.push(scalar(&post(path.clone(), body).await[id]));
        }
        ids
    };
    let lease = json!({"device_id": devices[0].0, "ticket_type": 1, "quantity": 10});
    let leases = many(2, format!("/api/v1/events/{main}/leases"), lease, "id").await;
    let guests = many(N + 1, format!("/api/v1/events/{main}/guests"), json!({"name": "Guest"}), "id").await;
    let member =
        json!({"email": "", "name": "Member", "role": "viewer", "initial_password": common::PASSWORD});
    let members = many(N + 1, "/api/v1/members".into(), member, "user_id").await;
    let tokens = many(N, "/api/v1/tokens".into(), json!({"name": "spare"}), "id").await;
    let voucher = json!({"terms": {"price": {"mode": "percent", "percent": 10}, "max_uses": 1_000_000}});
    // Two: the one the changes may block, and one leased to the box office, never changed.
    let vouchers = many(2, format!("/api/v1/events/{main}/vouchers"), voucher, "code").await;
    let rule = json!({"name": "Early", "effect": {"mode": "percent", "percent": 5}});
    let rules = many(N, format!("/api/v1/events/{main}/discounts"), rule, "id").await;
    let [read, refund, cancel, pay] = [0, 1, 2, 3].map(|i| orders[i].clone());
    let (plans, seated) = seat_plans(hub, &token, now).await;
    // Webhook endpoints: one to read and change, N for DELETE; a test event gives a delivery.
    let mut hooks = vec![];
    for _ in 0..=N {
        let body = json!({"url": "https://partner.example/hook", "event_types": ["order.paid"]});
        hooks.push(scalar(&post("/api/v1/webhooks".into(), body).await["endpoint"]["id"]));
    }
    post(format!("/api/v1/webhooks/{}/test", hooks[0]), Value::Null).await;
    let delivery = hub.number("SELECT MAX(id) FROM webhook_deliveries").await.to_string();
    // Report schedules: one to read, change and send, N for DELETE.
    let schedule = json!({"report": "sales", "time": "08:00", "roles": ["owner"]});
    let schedules = many(N + 1, format!("/api/v1/events/{main}/report-schedules"), schedule, "id").await;
    let of = |order: &Value, key: &str| vec![scalar(&order[key])];
    let spare_devices = devices[1..].iter().map(|d| d.0.to_string()).collect();
    let read_serials = serials(&read).iter().map(scalar).collect();
    generator.paths = vec![
        ("PATCH", "/api/v1/events/{id}", "id", vec![events[1].clone()]),
        ("*", "/api/v1/events/{id}/status", "id", vec![events[2].clone()]),
        ("*", "/api/v1/events/{id}/ticket-types/{number}", "id", vec![events[3].clone()]),
        ("*", "/api/v1/events/{id}/ticket-types/{number}", "number", vec!["1".into(), "2".into()]),
        ("PUT", "/api/v1/events/{id}/guests/{guest}", "guest", guests[..1].to_vec()),
        ("DELETE", "/api/v1/events/{id}/guests/{guest}", "guest", guests[1..].to_vec()),
        ("POST", "/api/v1/events/{id}/vouchers/{code}/leases", "code", vouchers[1..].to_vec()),
        ("*", "/api/v1/events/{id}/vouchers/{code}*", "code", vouchers[..1].to_vec()),
        ("*", "/api/v1/events/{id}/discounts/{rule}", "rule", rules),
        ("DELETE", "/api/v1/events/{id}/seating", "id", seated[1..].to_vec()),
        ("*", "/api/v1/events/{id}/seat*", "id", seated[..1].to_vec()),
        ("*", "/api/v1/public/events/{id}/seats", "id", seated[..1].to_vec()),
        ("DELETE", "/api/v1/seat-plans/{id}", "id", plans[1..].to_vec()),
        ("*", "/api/v1/seat-plans/{id}*", "id", plans[..1].to_vec()),
        ("*", "/api/v1/events/{id}*", "id", vec![main.clone()]),
        ("*", "/api/v1/public/events/{id}*", "id", vec![main.clone()]),
        ("*", "/api/v1/devices/{id}/revoke", "id", spare_devices),
        ("PATCH", "/api/v1/devices/{id}", "id", vec![devices[0].0.to_string()]),
        ("*", "/api/v1/leases/{id}/extend", "id", leases[..1].to_vec()),
        ("*", "/api/v1/leases/{id}/revoke", "id", leases[1..].to_vec()),
        ("*", "/api/v1/tokens/{id}", "id", tokens),
        ("DELETE", "/api/v1/webhooks/{id}", "id", hooks[1..].to_vec()),
        ("*", "/api/v1/webhooks/{id}*", "id", hooks[..1].to_vec()),
        ("*", "/api/v1/webhooks/{id}/deliveries/{delivery}*", "delivery", vec![delivery]),
        ("DELETE", "/api/v1/report-schedules/{id}", "id", schedules[1..].to_vec()),
        ("*", "/api/v1/report-schedules/{id}*", "id", schedules[..1].to_vec()),
        ("PATCH", "/api/v1/members/{user_id}", "user_id", members[..1].to_vec()),
        ("DELETE", "/api/v1/members/{user_id}", "user_id", members[1..].to_vec()),
        ("*", "/api/v1/orders/{code}/cancel", "code", of(&cancel, "code")),
        ("*", "/api/v1/orders/{code}/refunds", "code", of(&refund, "code")),
        ("*", "/api/v1/orders/{code}/revocations", "code", of(&refund, "code")),
        ("*", "/api/v1/orders/{code}*", "code", of(&read, "code")),
        ("*", "/api/v1/public/orders/{code}/{secret}/payments", "code", of(&pay, "code")),
        ("*", "/api/v1/public/orders/{code}/{secret}/payments", "secret", of(&pay, "secret")),
        ("*", "/api/v1/public/orders/{code}/{secret}*", "code", of(&read, "code")),
        ("*", "/api/v1/public/orders/{code}/{secret}*", "secret", of(&read, "secret")),
        ("*", "/api/v1/public/orders/{code}/{secret}/tickets/{serial}/qr.png", "serial", read_serials),
    ];
    generator.refers = HashMap::from([
        ("event", vec![json!(main.parse::<i64>().unwrap())]),
        // Gate 1 is in every event, also in one being created (it has a gate at least).
        ("gate", vec![json!(1)]),
        ("ticket_type", vec![json!(1), json!(2)]),
        ("box_office", vec![json!(devices[0].0)]),
        ("ticket", serials(&refund)),
        ("enrollment_code", codes),
        ("voucher", vouchers.iter().map(|c| json!(c)).collect()),
    ]);
    ((token, owner), devices.swap_remove(0))
}

/// `N + 1` seat plans, and two events on sale sold by the first: one to read, one whose seating
/// is removed. (plan ids, event ids)
async fn seat_plans(hub: &TestHub, token: &str, now: i64) -> (Vec<String>, Vec<String>) {
    let send = async |method: reqwest::Method, path: String, body: Value| {
        let response = hub
            .client
            .request(method, format!("{}{path}", hub.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "seeding {path}: {status} {answer}");
        answer
    };
    let seat = |i: i64| json!({"id": format!("A-{i}"), "label": i.to_string(), "x": 30 * i, "y": 50, "category": "stalls"});
    let plan = json!({"name": "Hall", "size": {"width": 400, "height": 200}, "categories": [{"name": "stalls", "color": "#c33"}],
        "sections": [{"name": "Stalls", "rows": [{"label": "A", "seats": (1..=6).map(seat).collect::<Vec<_>>()}]}]});
    let mut plans = vec![];
    for _ in 0..=N {
        plans.push(scalar(
            &send(reqwest::Method::POST, "/api/v1/seat-plans".into(), plan.clone()).await["id"],
        ));
    }
    let mut seated = vec![];
    for _ in 0..2 {
        let body = json!({"name": "Seated", "time_zone": "Europe/Amsterdam", "starts_at": now + 3_600_000, "ends_at": now + 864_000_000,
            "gates": [{"name": "Doors"}],
            "ticket_types": [{"name": "Seat", "price_minor": 4500, "currency": "EUR", "capacity": 6, "entry_policy": "single_entry"}]});
        let id = scalar(&send(reqwest::Method::POST, "/api/v1/events".into(), body).await["id"]);
        let mapping = json!({"plan": plans[0].parse::<i64>().unwrap(), "categories": {"stalls": 1}});
        send(reqwest::Method::PUT, format!("/api/v1/events/{id}/seating"), mapping).await;
        send(reqwest::Method::POST, format!("/api/v1/events/{id}/status"), json!({"status": "on_sale"}))
            .await;
        seated.push(id);
    }
    (plans, seated)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_keeps_to_the_published_document() {
    let started = std::time::Instant::now();
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let doc: Value = hub.get(cloud::openapi::PATH).send().await.unwrap().json().await.unwrap();
    for name in doc.to_string().split("\"#/components/schemas/").skip(1).map(|r| r.split('"').next().unwrap())
    {
        assert!(doc["components"]["schemas"].get(name).is_some(), "a $ref to no schema: {name}");
    }
    let number: u64 = std::env::var("CONTRACT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(18);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&number.to_le_bytes());
    let runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let (components, paths, refers) = (doc["components"].clone(), vec![], HashMap::new());
    let mut generator =
        Gen { runner, components, paths, refers, used: HashMap::new(), validators: HashMap::new() };
    let (owner, device) = seed(&hub, &mut generator).await;
    let (mut failures, mut summary) = (vec![], String::new());
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, spec) in item.as_object().unwrap() {
            let (method, template, spec) = (method.to_uppercase(), template.clone(), spec.clone());
            let (name, params) =
                (format!("{method} {template}"), spec["parameters"].as_array().cloned().unwrap_or_default());
            let op = Op { name, method, template, spec, params };
            let hopeless = NO_SUCCESS_EXPECTED.iter().any(|(name, _)| *name == op.name);
            let mut seen: BTreeMap<(bool, u16), usize> = BTreeMap::new();
            // Valid requests first: N, or up to 4N while none succeeds (the state, or what the
            // document cannot say, may refuse some). Then N invalid ones.
            let (mut round, mut valid, mut succeeded, mut last) = (0, true, false, String::new());
            while valid || round < N {
                let req = if valid {
                    generator.request(&op, &doc["security"])
                } else {
                    let Some(req) = generator.invalid(&op, &doc["security"], round) else { break };
                    req
                };
                let (status, content_type, body) = send(&hub, &owner, &device, &req).await;
                *seen.entry((valid, status)).or_default() += 1;
                succeeded |= valid && (200..300).contains(&status);
                let answer = format!("{}\n  answer: {status} {content_type}: {}", req.show(), clip(&body));
                let wrong = generator.check(&op, valid, status, &content_type, &body);
                if !wrong.is_empty() {
                    failures.push(format!("{}: {}\n  {answer}", op.name, wrong.join("; ")));
                }
                round += 1;
                if valid {
                    last = answer;
                    if round >= N && (succeeded || hopeless || round >= 4 * N) {
                        (valid, round) = (false, 0);
                    }
                }
            }
            if !succeeded && !hopeless {
                failures.push(format!("{}: no valid request succeeded; the last:\n  {last}", op.name));
            }
            let statuses: Vec<String> = seen
                .iter()
                .map(|((valid, status), n)| format!("{}{status}×{n}", if *valid { "" } else { "!" }))
                .collect();
            let _ = writeln!(summary, "{:<56} {}", op.name, statuses.join(" "));
        }
    }
    eprintln!("answers (! invalid), seed {number}:\n{summary}in {:.1} s", started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{} disagreements:\n\n{}", failures.len(), failures.join("\n\n"));
}
