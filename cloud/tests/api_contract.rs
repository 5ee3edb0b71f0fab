//! The hub held to its own OpenAPI document (issue 18), as an integrator would try it: requests
//! generated from the published document alone, for every operation, valid and invalid.
//!
//! - Valid requests follow every schema (lengths, patterns, ranges, enums, nullable types,
//!   `additionalProperties`) and the document's extensions: `x-after` (both times sent, the
//!   later one greater), `x-refers-to` (objects seeded below) and `format:
//!   ed25519-public-key` (a fresh real key). They must never be refused as malformed (400, 413,
//!   415, 422); state may refuse them (401, 403, 404, 409, 410, 429), but every operation
//!   whose requests can succeed must succeed at least once.
//! - Invalid requests are a valid one with exactly one violation (a missing or unknown
//!   property, a wrong type, a length, pattern, range, enum or item count broken, a body that
//!   is not JSON or not sent as JSON, a bad query parameter or header, an id nobody has, no
//!   credentials, no or a bad device signature). They must be refused with a 4xx.
//! - Every answer: no 5xx; a status the operation documents (exactly or as `4XX`), in the
//!   content type documented for it, with a JSON body valid against the documented schema.
//!
//! Generation uses proptest's deterministic runner (set `CONTRACT_SEED` to explore other
//! seeds): the same requests on every run, so CI is reproducible. The hub runs on PostgreSQL,
//! where odd input (a NUL in a string) fails first. The only knowledge of the hub here is the
//! table of seeded objects ([`seed`]) and the extension kinds; each failure prints the
//! request and the answer.

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
use sync_core::sync::message::Framed as _;

/// Valid and invalid requests per operation.
const N: usize = 6;
/// Operations whose valid requests cannot succeed from the document alone, and why.
const NO_SUCCESS_EXPECTED: &[(&str, &str)] = &[
    ("POST /api/v1/login", "needs a member's password"),
    ("POST /api/v1/session/organization", "needs the slug of another organization of the caller"),
    ("POST /api/v1/webhooks/payments", "needs a payment the provider created, by the provider's id"),
    ("POST /v1/door-sales/email", "needs a door sale synced by the box office"),
];

/// An HTTP request as generated, printable for a failure report.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    template: String,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Body>,
    auth: Auth,
    sign: Sign,
    violation: String,
}

#[derive(Clone, Debug)]
enum Body {
    Json(String, Value),
    Raw(String, Vec<u8>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Auth {
    None,
    Token,
    Session,
}

/// How a request is signed: by the box office's device key (`/v1/`), with the payment
/// provider's webhook secret, or not.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sign {
    None,
    Device,
    BadDevice,
    Webhook,
}

impl Req {
    fn path(&self) -> String {
        let mut path = self.template.clone();
        for (name, value) in &self.path_params {
            path = path.replace(&format!("{{{name}}}"), &encode(value));
        }
        if !self.query.is_empty() {
            let pairs: Vec<String> = self.query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
            path = format!("{path}?{}", pairs.join("&"));
        }
        path
    }

    fn body_bytes(&self) -> Option<(String, Vec<u8>)> {
        match &self.body {
            Some(Body::Json(ct, v)) => Some((ct.clone(), serde_json::to_vec(v).unwrap())),
            Some(Body::Raw(ct, b)) => Some((ct.clone(), b.clone())),
            None => None,
        }
    }

    fn show(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path());
        let _ = write!(s, "\n  auth: {:?}, signed: {:?}, headers: {:?}", self.auth, self.sign, self.headers);
        if let Some((ct, bytes)) = self.body_bytes() {
            let _ = write!(s, "\n  body ({ct}): {}", clip(&String::from_utf8_lossy(&bytes)));
        }
        if !self.violation.is_empty() {
            let _ = write!(s, "\n  violation: {}", self.violation);
        }
        s
    }
}

/// Percent-encodes all but the unreserved characters.
fn encode(text: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    text.bytes().map(|b| if keep(b) { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

fn clip(text: &str) -> String {
    if text.chars().count() > 1500 { format!("{}…", text.chars().take(1500).collect::<String>()) } else { text.to_owned() }
}

/// What the hub was seeded with: values for path parameters (by method, path template and
/// parameter; `*` is any method) and for `x-refers-to` kinds.
struct Seeds {
    paths: Vec<(&'static str, &'static str, &'static str, Vec<String>)>,
    refers: HashMap<&'static str, Vec<Value>>,
    box_office: (u32, DeviceKey),
}

impl Seeds {
    fn path_values(&self, method: &str, template: &str, name: &str) -> Option<&Vec<String>> {
        let find = |m: &str| self.paths.iter().find(|(pm, t, n, _)| *pm == m && *t == template && *n == name);
        find(method).or_else(|| find("*")).map(|(_, _, _, values)| values)
    }
}

/// Builds JSON values, strings and numbers from schemas, with proptest's deterministic RNG.
struct Gen {
    runner: TestRunner,
    components: Value,
    seeds: Seeds,
    /// How often each path-parameter table entry was used (to cycle through its values).
    used: HashMap<String, usize>,
    validators: HashMap<String, jsonschema::Validator>,
}

/// The JSON type names a value has (an integer is also a number).
fn json_types(v: &Value) -> &'static [&'static str] {
    match v {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) if n.is_i64() || n.is_u64() => &["integer", "number"],
        Value::Number(_) => &["number"],
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

fn types(s: &Value) -> Vec<String> {
    match &s["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        _ if s.get("enum").is_some() => vec!["string".into()],
        _ if s.get("properties").is_some() => vec!["object".into()],
        _ => vec![],
    }
}

/// `pattern` as ECMA-262 (JSON Schema's dialect) means it, for the regex crate and proptest,
/// which read `\s`, `\d` and `\w` as Unicode classes.
fn ecma(pattern: &str) -> String {
    const SPACE: &str = r"\t-\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff";
    let (mut out, mut chars, mut class) = (String::new(), pattern.chars(), false);
    while let Some(c) = chars.next() {
        let set = match c {
            '\\' => chars.next().unwrap(),
            '[' | ']' => {
                class = c == '[';
                out.push(c);
                continue;
            }
            _ => {
                out.push(c);
                continue;
            }
        };
        let members = match set.to_ascii_lowercase() {
            's' => SPACE,
            'd' => "0-9",
            'w' => "A-Za-z0-9_",
            _ => {
                out.extend(['\\', set]);
                continue;
            }
        };
        assert!(!(class && set.is_ascii_uppercase()), "\\{set} in a class: {pattern}");
        let negated = if set.is_ascii_uppercase() { "^" } else { "" };
        out.push_str(&if class { members.to_owned() } else { format!("[{negated}{members}]") });
    }
    out
}

fn int(s: &Value, key: &str) -> Option<i64> {
    s.get(key).and_then(Value::as_i64)
}

impl Gen {
    fn rng(&mut self) -> &mut TestRng {
        self.runner.rng()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng().random_bool(p)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        let i = self.rng().random_range(0..items.len());
        items[i].clone()
    }

    /// `s` with `$ref`s followed, `allOf` merged and a nullable `oneOf` (null or one schema)
    /// folded into that schema with `null` added to its types.
    fn norm(&self, s: &Value) -> Value {
        if let Some(r) = s["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/schemas/");
            return self.norm(&self.components["schemas"][name]);
        }
        if let Some(parts) = s["allOf"].as_array() {
            let (mut properties, mut required) = (Map::new(), Vec::new());
            for part in parts.iter().map(|p| self.norm(p)) {
                properties.extend(part["properties"].as_object().cloned().unwrap_or_default());
                required.extend(part["required"].as_array().cloned().unwrap_or_default());
            }
            return json!({"type": "object", "properties": properties, "required": required});
        }
        if let Some(branches) = s["oneOf"].as_array() {
            let other: Vec<&Value> = branches.iter().filter(|b| b["type"] != "null").collect();
            if let [only] = other[..] {
                let mut folded = self.norm(only);
                let mut ts = types(&folded);
                if other.len() < branches.len() {
                    ts.push("null".into());
                }
                folded["type"] = json!(ts);
                return folded;
            }
        }
        s.clone()
    }

    /// A value valid for `s`.
    fn value(&mut self, s: &Value) -> Value {
        if let Some(kind) = s["x-refers-to"].as_str() {
            let values = &self.seeds.refers[kind];
            return if kind == "enrollment_code" {
                self.seeds.refers.get_mut(kind).unwrap().pop().expect("enough enrollment codes")
            } else {
                let values = values.clone();
                self.pick(&values)
            };
        }
        if s["format"] == "ed25519-public-key" {
            return json!(hex::encode(DeviceKey::generate().unwrap().public_key()));
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
        if ts.contains(&"null".to_owned()) && self.chance(0.2) {
            return Value::Null;
        }
        match ts.iter().find(|t| *t != "null").map(String::as_str) {
            Some("object") => self.object(&s),
            Some("array") => {
                let min = int(&s, "minItems").unwrap_or(0);
                let max = int(&s, "maxItems").unwrap_or(i64::MAX).min(min + 4);
                let n = self.rng().random_range(min..=max);
                (0..n).map(|_| self.value(&s["items"])).collect()
            }
            Some("string") => json!(self.string(&s)),
            Some("integer") => json!(self.integer(&s)),
            Some("number") => json!(self.rng().random_range(-1e6..1e6)),
            Some("boolean") => json!(self.chance(0.5)),
            _ => Value::Null,
        }
    }

    /// Required properties always, optional ones sometimes; `x-after` times both, in order.
    fn object(&mut self, s: &Value) -> Value {
        let required: Vec<&str> = s["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut out = Map::new();
        for (name, schema) in s["properties"].as_object().into_iter().flatten() {
            if required.contains(&name.as_str()) || self.chance(0.5) {
                out.insert(name.clone(), self.value(schema));
            }
        }
        for (name, schema) in s["properties"].as_object().into_iter().flatten() {
            if let Some(earlier) = schema["x-after"].as_str() {
                let start = self.integer(&self.norm(&s["properties"][earlier]));
                let gap = self.rng().random_range(1..=10_000_000_000);
                let (start, end) = start.checked_add(gap).map_or_else(|| (start - gap, start), |end| (start, end));
                out.insert(earlier.to_owned(), json!(start));
                out.insert(name.clone(), json!(end));
            }
        }
        Value::Object(out)
    }

    /// An integer within `minimum`/`maximum` and the range of its `format`: often a bound, a
    /// small number or a time near now, else anywhere in the range.
    fn integer(&mut self, s: &Value) -> i64 {
        let (lo, hi) = if s["format"] == "int32" { (i64::from(i32::MIN), i64::from(i32::MAX)) } else { (i64::MIN, i64::MAX) };
        let lo = int(s, "minimum").map_or(lo, |m| m.max(lo));
        let hi = int(s, "maximum").map_or(hi, |m| m.min(hi));
        let now = Timestamp::now().0;
        let candidate = match self.rng().random_range(0..5) {
            0 => lo,
            1 => hi,
            2 => self.rng().random_range(-3..100),
            3 => now + self.rng().random_range(-86_400_000..86_400_000 * 30),
            _ => self.rng().random_range(lo..=hi),
        };
        candidate.clamp(lo, hi)
    }

    /// A string of `s`: from its `pattern` (anchors stripped; an unanchored end embeds the
    /// match in random text) or of any characters, within its lengths; sometimes stretched
    /// towards `maxLength` by repetition, where that still matches.
    fn string(&mut self, s: &Value) -> String {
        let (min, max) = (int(s, "minLength").unwrap_or(0) as usize, int(s, "maxLength").map(|m| m as usize));
        let pattern = s["pattern"].as_str().map(ecma);
        let full = regex::Regex::new(pattern.as_deref().unwrap_or("")).unwrap();
        let fits = |t: &str| (min..=max.unwrap_or(usize::MAX)).contains(&t.chars().count()) && full.is_match(t);
        let generator = match pattern.as_deref() {
            Some(p) => {
                let (start, core) = p.strip_prefix('^').map_or((false, p), |c| (true, c));
                let (end, core) = core.strip_suffix('$').filter(|c| !c.ends_with('\\')).map_or((false, core), |c| (true, c));
                let pad = |anchored: bool| if anchored { "" } else { "(?s:.{0,6})" };
                format!("{}(?:{core}){}", pad(start), pad(end))
            }
            None => format!("(?s:.{{{min},{}}})", max.unwrap_or(min + 16).min(min + 16)),
        };
        let strategy = proptest::string::string_regex(&generator).expect("a pattern proptest can generate from");
        let mut text = (0..50)
            .map(|_| strategy.new_tree(&mut self.runner).unwrap().current())
            .find(|t| fits(t))
            .unwrap_or_else(|| panic!("no string of {s} in 50 tries"));
        if self.chance(0.3) {
            // Characters that break naive code (NUL: PostgreSQL refuses it) or that one
            // regex dialect calls white space and another does not, alone or appended.
            let odd = self.pick(&["\0", "'", "\\", "%", "\u{85}", "\u{a0}", "\u{feff}", "\u{2028}", "\n", "😀", "\u{7f}"]);
            if let Some(t) = [odd.to_owned(), format!("{text}{odd}")].into_iter().find(|t| fits(t)) {
                text = t;
            }
        }
        if let Some(max) = max.filter(|_| !text.is_empty() && self.chance(0.3)) {
            let long = text.repeat(max / text.chars().count());
            if fits(&long) {
                text = long;
            }
        }
        text
    }

    /// One way each part of `v` (valid for `s`, at JSON pointer `at`) can break `s`, as
    /// (pointer, replacement or `None` to remove, description).
    fn violations(&mut self, s: &Value, v: &Value, at: &str, out: &mut Vec<(String, Option<Value>, String)>) {
        let s = self.norm(s);
        let ts = types(&s);
        let allowed = |c: &Value| json_types(c).iter().any(|t| ts.iter().any(|a| a == t));
        let wrong: Vec<Value> = [json!(true), json!("x"), json!(7), json!(1.5), json!({}), json!([]), Value::Null]
            .into_iter()
            .filter(|c| !ts.is_empty() && !allowed(c))
            .collect();
        if !wrong.is_empty() {
            out.push((at.into(), Some(self.pick(&wrong)), format!("{at}: wrong type")));
        }
        if s.get("enum").is_some() {
            out.push((at.into(), Some(json!("not_one_of_the_enum")), format!("{at}: not in the enum")));
        }
        match v {
            Value::String(text) => {
                if let Some(max) = int(&s, "maxLength") {
                    let unit = if text.is_empty() { "a".to_owned() } else { text.clone() };
                    let long = unit.repeat(max as usize / unit.chars().count() + 1);
                    out.push((at.into(), Some(json!(long)), format!("{at}: longer than {max}")));
                }
                if let Some(min) = int(&s, "minLength").filter(|m| *m > 0) {
                    let short: String = text.chars().take(min as usize - 1).collect();
                    out.push((at.into(), Some(json!(short)), format!("{at}: shorter than {min}")));
                }
                if let Some(p) = s["pattern"].as_str() {
                    let re = regex::Regex::new(&ecma(p)).unwrap();
                    let max = int(&s, "maxLength").unwrap_or(i64::MAX) as usize;
                    let bad = ["", " ", "x", "\n", "a b@c", "\0", "!", "ab/cd/ef!", "\u{85}", "\u{feff}"]
                        .into_iter()
                        .find(|b| !re.is_match(b) && b.chars().count() <= max && b.chars().count() >= int(&s, "minLength").unwrap_or(0) as usize);
                    if let Some(bad) = bad {
                        out.push((at.into(), Some(json!(bad)), format!("{at}: does not match {p}")));
                    }
                }
            }
            Value::Number(_) => {
                if let Some(min) = int(&s, "minimum").filter(|m| *m > i64::MIN) {
                    out.push((at.into(), Some(json!(min - 1)), format!("{at}: below {min}")));
                }
                if let Some(max) = int(&s, "maximum").filter(|m| *m < i64::MAX) {
                    out.push((at.into(), Some(json!(max + 1)), format!("{at}: above {max}")));
                }
            }
            Value::Array(items) => {
                if let Some(min) = int(&s, "minItems").filter(|m| *m > 0) {
                    out.push((at.into(), Some(json!(items[..min as usize - 1])), format!("{at}: fewer than {min} items")));
                }
                if let Some(max) = int(&s, "maxItems").filter(|m| *m <= 10_000) {
                    let mut more = items.clone();
                    while more.len() <= max as usize {
                        more.push(if items.is_empty() { self.value(&s["items"]) } else { items[more.len() % items.len()].clone() });
                    }
                    out.push((at.into(), Some(json!(more)), format!("{at}: more than {max} items")));
                }
                if let Some(first) = items.first() {
                    self.violations(&s["items"], first, &format!("{at}/0"), out);
                }
            }
            Value::Object(fields) => {
                for name in s["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    out.push((format!("{at}/{name}"), None, format!("{at}/{name}: required, missing")));
                }
                if s["additionalProperties"] == false {
                    out.push((format!("{at}/unexpected"), Some(json!(1)), format!("{at}/unexpected: unknown property")));
                }
                for (name, value) in fields {
                    let schema = s["properties"][name].clone();
                    self.violations(&schema, value, &format!("{at}/{name}"), out);
                }
            }
            _ => {}
        }
    }
}

/// Sets (or, with `None`, removes) the value at JSON pointer `at`.
fn set(body: &mut Value, at: &str, new: Option<Value>) {
    let Some((parent, key)) = at.rsplit_once('/') else { return *body = new.unwrap_or_default() };
    match body.pointer_mut(parent) {
        Some(Value::Object(m)) => drop(if let Some(v) = new { m.insert(key.into(), v) } else { m.remove(key) }),
        Some(Value::Array(a)) => a[key.parse::<usize>().unwrap()] = new.unwrap_or_default(),
        _ => unreachable!("{at}"),
    }
}

/// A value as a query parameter or header.
fn scalar(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A documented operation.
struct Op {
    method: String,
    template: String,
    spec: Value,
}

impl Op {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn params(&self, place: &str) -> Vec<Value> {
        self.spec["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == place).cloned().collect()
    }
}

impl Gen {
    /// A request valid by the document.
    fn request(&mut self, op: &Op, security: &Value) -> Req {
        let mut req = Req {
            method: op.method.clone(),
            template: op.template.clone(),
            path_params: vec![],
            query: vec![],
            headers: vec![],
            body: None,
            auth: Auth::None,
            sign: Sign::None,
            violation: String::new(),
        };
        for p in op.spec["parameters"].as_array().into_iter().flatten() {
            let (name, schema) = (p["name"].as_str().unwrap(), &p["schema"]);
            if p["in"] == "path" {
                let value = match self.seeds.path_values(&op.method, &op.template, name).cloned() {
                    Some(values) => {
                        let used = self.used.entry(format!("{} {name}", op.name())).or_default();
                        *used += 1;
                        values[(*used - 1) % values.len()].clone()
                    }
                    None => scalar(&self.value(schema)),
                };
                req.path_params.push((name.into(), value));
            } else if p["required"] == true || self.chance(0.5) {
                let value = match p["in"].as_str() {
                    // Header values are visible ASCII, whatever their schema says.
                    Some("header") if schema.get("pattern").is_none() => json!(self.string(&json!({"pattern": "^[!-~]{1,40}$"}))),
                    _ => self.value(schema),
                };
                let list = if p["in"] == "query" { &mut req.query } else { &mut req.headers };
                if !value.is_null() {
                    list.push((name.into(), scalar(&value)));
                }
            }
            if p["in"] == "header" && name.eq_ignore_ascii_case(cloud::payments::signature::HEADER) {
                req.sign = Sign::Webhook;
            }
        }
        if let Some((ct, media)) = op.spec["requestBody"]["content"].as_object().and_then(|c| c.iter().next()) {
            req.body = Some(if ct.ends_with("json") {
                let body = self.value(&media["schema"]);
                assert!(self.valid(&media["schema"], &body), "generated an invalid body for {}: {body}", op.name());
                Body::Json(ct.clone(), body)
            } else {
                // Binary: the sync protocol's own message, a device's first request.
                let first = sync_core::sync::message::SyncRequest { restart: true, ..Default::default() };
                Body::Raw(ct.clone(), first.encode())
            });
        }
        let requirements = op.spec.get("security").unwrap_or(security).as_array().cloned().unwrap_or_default();
        let offers = |scheme: &str| requirements.iter().any(|r| r.get(scheme).is_some());
        req.auth = if offers("token") { Auth::Token } else if offers("session") { Auth::Session } else { Auth::None };
        // The device endpoints that refuse with 401 are signed by the device's key.
        if op.template.starts_with("/v1/") && op.spec["responses"].get("401").is_some() {
            req.sign = Sign::Device;
        }
        req
    }

    /// A valid request with one violation, from group `round` of the kinds that apply.
    fn invalid(&mut self, op: &Op, security: &Value, round: usize) -> Req {
        let mut req = self.request(op, security);
        let mut groups: Vec<Vec<(String, Req)>> = vec![];
        let with = |change: &dyn Fn(&mut Req)| {
            let mut r = req.clone();
            change(&mut r);
            r
        };
        if let Some(Body::Json(ct, body)) = &req.body {
            let schema = op.spec["requestBody"]["content"][ct]["schema"].clone();
            let mut sites = vec![];
            self.violations(&schema, body, "", &mut sites);
            let mut group = vec![];
            for (at, new, what) in sites {
                let mut broken = body.clone();
                set(&mut broken, &at, new);
                assert!(!self.valid(&schema, &broken), "{what} left {broken} valid");
                group.push((what, with(&|r| r.body = Some(Body::Json(ct.clone(), broken.clone())))));
            }
            groups.push(group);
            let mut raw = vec![("a body that is not JSON".into(), with(&|r| r.body = Some(Body::Raw(ct.clone(), b"{\"unterminated".to_vec()))))];
            if req.sign != Sign::Device {
                let bytes = serde_json::to_vec(body).unwrap();
                raw.push(("JSON sent as text/plain".into(), with(&|r| r.body = Some(Body::Raw("text/plain".into(), bytes.clone())))));
            }
            groups.push(raw);
        } else if let Some(Body::Raw(ct, _)) = &req.body {
            groups.push(vec![("not a message".into(), with(&|r| r.body = Some(Body::Raw(ct.clone(), b"not a message".to_vec()))))]);
        }
        let query = op.params("query");
        if !query.is_empty() {
            let mut group = vec![("an unknown query parameter".into(), with(&|r| r.query.push(("unexpected".into(), "1".into()))))];
            for p in query {
                let (name, schema) = (p["name"].as_str().unwrap().to_owned(), &p["schema"]);
                let mut sites = vec![];
                let value = self.value(schema);
                self.violations(schema, &value, "", &mut sites);
                let text_ok = types(&self.norm(schema)).contains(&"string".into());
                for (_, new, what) in sites.into_iter().filter(|s| !(text_ok && s.2.ends_with("wrong type"))) {
                    let bad = scalar(&new.unwrap_or_default());
                    group.push((format!("query {name}{what}"), with(&|r| r.query.retain(|q| q.0 != name)).clone()));
                    group.last_mut().unwrap().1.query.push((name.clone(), bad));
                }
            }
            groups.push(group);
        }
        for p in op.params("header") {
            let name = p["name"].as_str().unwrap().to_owned();
            let without = with(&|r| r.headers.retain(|h| !h.0.eq_ignore_ascii_case(&name)));
            let mut group = vec![];
            if p["schema"].get("pattern").is_some() {
                let mut r = without.clone();
                r.headers.push((name.clone(), "two words".into()));
                group.push((format!("header {name} does not match its pattern"), r));
            }
            if p["required"] == true {
                group.push((format!("header {name} missing"), without));
            }
            groups.push(group);
        }
        for p in op.params("path") {
            let name = p["name"].as_str().unwrap().to_owned();
            let numeric = types(&self.norm(&p["schema"])).contains(&"integer".into());
            let odd = self.pick(&["\0", "é😀", "x".repeat(300).as_str()].map(str::to_owned));
            let group = [("an id nobody has", if numeric { "999999999".into() } else { "doesnotexist".into() }), ("a malformed id", if numeric { "1.5x".into() } else { odd })]
                .into_iter()
                .map(|(what, value): (&str, String)| (format!("path {name}: {what}"), with(&|r| r.path_params.iter_mut().filter(|q| q.0 == name).for_each(|q| q.1 = value.clone()))))
                .collect();
            groups.push(group);
        }
        match req.sign {
            Sign::Device => groups.push(vec![("unsigned".into(), with(&|r| r.sign = Sign::None)), ("badly signed".into(), with(&|r| r.sign = Sign::BadDevice))]),
            Sign::Webhook => groups.push(vec![("not signed with the secret".into(), with(&|r| r.sign = Sign::None))]),
            _ if req.auth != Auth::None => groups.push(vec![("no credentials".into(), with(&|r| r.auth = Auth::None))]),
            _ => {}
        }
        groups.retain(|g| !g.is_empty());
        assert!(!groups.is_empty(), "{} has nothing to break", op.name());
        let group = &groups[round % groups.len()];
        let (what, chosen) = self.pick(group);
        req = chosen;
        req.violation = what;
        req
    }

    fn valid(&mut self, schema: &Value, instance: &Value) -> bool {
        self.validator(schema).is_valid(instance)
    }

    /// A validator of `schema` with the document's components (`#/components/schemas/…`).
    fn validator(&mut self, schema: &Value) -> &jsonschema::Validator {
        let mut root = schema.clone();
        root["components"] = self.components.clone();
        self.validators.entry(schema.to_string()).or_insert_with(|| jsonschema::draft202012::new(&root).expect("a valid schema"))
    }

    /// What is wrong with answer `status`/`content_type`/`body` to `req` by the document.
    fn check(&mut self, op: &Op, valid: bool, status: u16, content_type: &str, body: &[u8]) -> Vec<String> {
        let mut wrong = vec![];
        if status >= 500 {
            wrong.push("a server error".into());
        }
        if valid && [400, 413, 415, 422].contains(&status) {
            wrong.push("a valid request refused as malformed".into());
        }
        if !valid && !(400..500).contains(&status) {
            wrong.push("an invalid request not refused with a 4xx".into());
        }
        let responses = &op.spec["responses"];
        let Some(documented) = [status.to_string(), format!("{}XX", status / 100), "default".into()].iter().find_map(|k| responses.get(k)).cloned() else {
            wrong.push(format!("status {status} is not documented"));
            return wrong;
        };
        let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match documented["content"].as_object().filter(|c| !c.is_empty()) {
            None if !body.is_empty() => wrong.push("documented without a body, answered with one".into()),
            None => {}
            Some(content) => match content.get(&media) {
                None => wrong.push(format!("content type {content_type:?}, documented: {:?}", content.keys().collect::<Vec<_>>())),
                Some(m) if media.ends_with("json") => match serde_json::from_slice::<Value>(body) {
                    Err(e) => wrong.push(format!("not JSON: {e}")),
                    Ok(v) => {
                        let errors: Vec<String> = self.validator(&m["schema"]).iter_errors(&v).map(|e| format!("{} at {}", e, e.instance_path())).collect();
                        if !errors.is_empty() {
                            wrong.push(format!("the body does not match its schema: {}", errors.join("; ")));
                        }
                    }
                },
                Some(_) if media == "image/png" && !body.starts_with(b"\x89PNG") => wrong.push("not a PNG".into()),
                Some(_) if media == "application/pdf" && !body.starts_with(b"%PDF") => wrong.push("not a PDF".into()),
                Some(_) => {}
            },
        }
        wrong
    }
}

/// Sends `req` as the seeded owner (token or session) or the box office (signed).
async fn send(hub: &TestHub, token: &str, owner: &Organizer, seeds: &Seeds, req: &Req) -> (u16, String, Vec<u8>) {
    let path = req.path();
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let mut call = hub.client.request(method, format!("{}{path}", hub.url));
    let path = path.split('?').next().unwrap().to_owned();
    call = match req.auth {
        Auth::Token => call.bearer_auth(token),
        Auth::Session => owner.authorize(call),
        Auth::None => call,
    };
    for (name, value) in &req.headers {
        call = call.header(name, value);
    }
    let (content_type, body) = req.body_bytes().unwrap_or_default();
    if req.body.is_some() {
        call = call.header("content-type", content_type).body(body.clone());
    }
    let (device, key) = (&seeds.box_office.0, &seeds.box_office.1);
    let now = Timestamp::now();
    let sign = |body: &[u8]| {
        sync_core::sync::auth::sign_request(DeviceId(*device), sync_core::journal::HUB, |m| key.sign(m), &req.method, &path, body, now)
    };
    match req.sign {
        Sign::Device | Sign::BadDevice => {
            let mut signed = sign(&body);
            if req.sign == Sign::BadDevice {
                signed.signature = sign(b"another body").signature;
            }
            for (name, value) in signed.pairs() {
                call = call.header(name, value);
            }
        }
        Sign::Webhook => {
            let secret = cloud::crypto::MasterKey::from_bytes(common::MASTER_KEY).derive("simulated-psp:webhook-secret");
            let signature = cloud::payments::signature::sign(&secret, now.0 / 1000, &body);
            call = call.header(cloud::payments::signature::HEADER, signature);
        }
        Sign::None => {}
    }
    let response = call.timeout(std::time::Duration::from_secs(30)).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, content_type, response.bytes().await.unwrap().to_vec())
}

/// Seeds the hub through the API as an owner with a bearer token: what the path parameters
/// and `x-refers-to` values name, and spares for the operations that destroy what they touch.
async fn seed(hub: &TestHub) -> (Seeds, String, Organizer) {
    let owner = Organizer::create(hub, "contract").await;
    let (status, created) = owner.post("/api/v1/tokens", &json!({"name": "contract"})).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let api = |method: &str, path: String, body: Value| {
        let call = hub.client.request(method.parse().unwrap(), format!("{}{path}", hub.url)).bearer_auth(&token);
        async move {
            let response = call.json(&body).send().await.unwrap();
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or_default();
            assert!(status.is_success(), "seeding {path}: {status} {answer}");
            answer
        }
    };
    let now = Timestamp::now().0;
    let mut events = vec![];
    for name in ["Main", "Changed", "Status", "Types"] {
        let types = |name: &str, policy: &str| json!({"name": name, "price_minor": 4500, "currency": "EUR", "capacity": 1_000_000, "entry_policy": policy});
        let body = json!({"name": name, "time_zone": "Europe/Amsterdam", "starts_at": now - 3_600_000, "ends_at": now + 864_000_000,
            "gates": [{"name": "Main"}, {"name": "Exit", "serves": "exit_only"}], "ticket_types": [types("Day", "single_entry"), types("Pass", "exit_reentry")]});
        events.push(api("POST", "/api/v1/events".into(), body).await["id"].as_i64().unwrap().to_string());
    }
    let main = &events[0];
    api("POST", format!("/api/v1/events/{main}/status"), json!({"status": "on_sale"})).await;
    let code = |role: &'static str| api("POST", "/api/v1/devices/enrollment-codes".into(), json!({"name": role, "role": role, "events": [main.parse::<i64>().unwrap()]}));
    let enroll = async |role| {
        let key = DeviceKey::generate().unwrap();
        let code = code(role).await["code"].clone();
        let body = json!({"code": code, "public_key": hex::encode(key.public_key()), "app_version": "contract"});
        (api("POST", "/api/v1/devices/enroll".into(), body).await["device_id"].as_u64().unwrap() as u32, key)
    };
    let box_office = enroll("box_office").await;
    let mut spare_devices = vec![];
    for _ in 0..3 {
        spare_devices.push(enroll("gate").await.0.to_string());
    }
    let mut codes = vec![];
    for _ in 0..2 * N + 2 {
        codes.push(code("gate").await["code"].clone());
    }
    let mut orders = vec![];
    for paid in [true, true, false, false] {
        let body = json!({"lines": [{"ticket_type": 1, "quantity": 3}, {"ticket_type": 2, "quantity": 3}], "email": "fan@example.org", "name": "Fan"});
        let order = api("POST", format!("/api/v1/public/events/{main}/orders"), body).await;
        if paid {
            press_pay(hub, &start_payment(hub, &order).await).await;
        }
        let order = common::order(hub, &order).await;
        assert_eq!(order["status"], if paid { "paid" } else { "pending" }, "{order}");
        orders.push(order);
    }
    let serials = |order: &Value| order["tickets"].as_array().unwrap().iter().map(|t| t["serial"].clone()).collect::<Vec<_>>();
    let text = |values: Vec<Value>| values.iter().map(scalar).collect::<Vec<_>>();
    let field = |order: &Value, name: &str| vec![scalar(&order[name])];
    let many = async |count: usize, path: String, body: Value, id: &str| {
        let mut ids = vec![];
        for i in 0..count {
            let mut body = body.clone();
            if let Some(email) = body.get_mut("email") {
                *email = json!(format!("member{i}@contract.example"));
            }
            ids.push(scalar(&api("POST", path.clone(), body).await[id]));
        }
        ids
    };
    let leases = many(2, format!("/api/v1/events/{main}/leases"), json!({"device_id": box_office.0, "ticket_type": 1, "quantity": 10}), "id").await;
    let guests = many(N + 1, format!("/api/v1/events/{main}/guests"), json!({"name": "Guest", "plus_ones": 1}), "id").await;
    let members = many(N + 1, "/api/v1/members".into(), json!({"email": "", "name": "Member", "role": "viewer", "initial_password": common::PASSWORD}), "user_id").await;
    let tokens = many(N, "/api/v1/tokens".into(), json!({"name": "spare"}), "id").await;
    let (read, refund, cancel, pay) = (&orders[0], &orders[1], &orders[2], &orders[3]);
    let one = |v: &String| vec![v.clone()];
    let paths = vec![
        ("PATCH", "/api/v1/events/{id}", "id", one(&events[1])),
        ("*", "/api/v1/events/{id}/status", "id", one(&events[2])),
        ("*", "/api/v1/events/{id}/ticket-types/{number}", "id", one(&events[3])),
        ("*", "/api/v1/events/{id}/ticket-types/{number}", "number", vec!["1".into(), "2".into()]),
        ("PUT", "/api/v1/events/{id}/guests/{guest}", "guest", vec![guests[0].clone()]),
        ("DELETE", "/api/v1/events/{id}/guests/{guest}", "guest", guests[1..].to_vec()),
        ("*", "/api/v1/events/{id}*", "id", one(main)),
        ("*", "/api/v1/public/events/{id}*", "id", one(main)),
        ("*", "/api/v1/devices/{id}/revoke", "id", spare_devices),
        ("*", "/api/v1/leases/{id}/extend", "id", vec![leases[0].clone()]),
        ("*", "/api/v1/leases/{id}/revoke", "id", vec![leases[1].clone()]),
        ("*", "/api/v1/tokens/{id}", "id", tokens),
        ("PATCH", "/api/v1/members/{user_id}", "user_id", vec![members[0].clone()]),
        ("DELETE", "/api/v1/members/{user_id}", "user_id", members[1..].to_vec()),
        ("*", "/api/v1/orders/{code}/cancel", "code", field(cancel, "code")),
        ("*", "/api/v1/orders/{code}/refunds", "code", field(refund, "code")),
        ("*", "/api/v1/orders/{code}*", "code", field(read, "code")),
        ("*", "/api/v1/public/orders/{code}/{secret}/payments", "code", field(pay, "code")),
        ("*", "/api/v1/public/orders/{code}/{secret}/payments", "secret", field(pay, "secret")),
        ("*", "/api/v1/public/orders/{code}/{secret}*", "code", field(read, "code")),
        ("*", "/api/v1/public/orders/{code}/{secret}*", "secret", field(read, "secret")),
        ("*", "/api/v1/public/orders/{code}/{secret}/tickets/{serial}/qr.png", "serial", text(serials(read))),
    ];
    let refers = HashMap::from([
        ("event", vec![json!(main.parse::<i64>().unwrap())]),
        // Gate 1 exists in every event, also in one being created (its gates are at least one).
        ("gate", vec![json!(1)]),
        ("ticket_type", vec![json!(1), json!(2)]),
        ("box_office", vec![json!(box_office.0)]),
        ("ticket", serials(refund)),
        ("enrollment_code", codes),
    ]);
    (Seeds { paths, refers, box_office }, token, owner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_keeps_to_the_published_document() {
    let started = std::time::Instant::now();
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let doc: Value = hub.get(cloud::openapi::PATH).send().await.unwrap().json().await.unwrap();
    let (seeds, token, owner) = seed(&hub).await;
    let seed: u64 = std::env::var("CONTRACT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(18);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let components = doc["components"].clone();
    let mut generator = Gen { runner, components, seeds, used: HashMap::new(), validators: HashMap::new() };
    let (mut failures, mut summary) = (vec![], String::new());
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, spec) in item.as_object().unwrap() {
            let op = Op { method: method.to_uppercase(), template: template.clone(), spec: spec.clone() };
            let mut seen: BTreeMap<(bool, u16), usize> = BTreeMap::new();
            for round in 0..2 * N {
                let valid = round < N;
                let req = if valid { generator.request(&op, &doc["security"]) } else { generator.invalid(&op, &doc["security"], round) };
                let (status, content_type, body) = send(&hub, &token, &owner, &generator.seeds, &req).await;
                *seen.entry((valid, status)).or_default() += 1;
                let wrong = generator.check(&op, valid, status, &content_type, &body);
                if !wrong.is_empty() {
                    let answer = clip(&String::from_utf8_lossy(&body));
                    failures.push(format!("{}: {}\n  {}\n  answer: {status} {content_type}: {answer}", op.name(), wrong.join("; "), req.show()));
                }
            }
            let succeeded = seen.iter().any(|((valid, status), _)| *valid && (200..300).contains(status));
            if !succeeded && !NO_SUCCESS_EXPECTED.iter().any(|(name, _)| *name == op.name()) {
                failures.push(format!("{}: no valid request succeeded", op.name()));
            }
            let statuses: Vec<String> = seen.iter().map(|((valid, status), n)| format!("{}{status}×{n}", if *valid { "" } else { "!" })).collect();
            let _ = writeln!(summary, "{:<60} {}", op.name(), statuses.join(" "));
        }
    }
    eprintln!("answers per operation (! marks invalid requests):\n{summary}in {:.1} s", started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{} disagreements with the document:\n\n{}", failures.len(), failures.join("\n\n"));
}
