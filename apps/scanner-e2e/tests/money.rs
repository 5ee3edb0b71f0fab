//! The front ends' money module (`apps/ui/common/money.js`, in the box office and the hub's
//! console) against sync-core's `money`, in the web view that runs it: the same amounts read
//! from the same texts, the same sentences for the same refusals, the same amounts written.
//! No hub: the box office's first screen is enough to load the module.

use scanner_e2e::{Driver, Xvfb, binary};
use serde_json::{Value, json};
use sync_core::money::{Currency, Money, format_minor};

/// Typed texts worth comparing: the documented cases, then random strings from the characters
/// an amount is made of (a fixed seed, so a failure repeats).
fn texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "12.50",
        "12,50",
        "12.5",
        "12",
        "12.",
        ".5",
        "-0.05",
        "-0",
        "-.99",
        "007.10",
        "  12.50\t",
        "\u{a0}12.50\n",
        "1 234.50",
        "1 234 567,89",
        "1\u{a0}234,5",
        "1\u{202f}234",
        "-1 000",
        "45.00 EUR",
        "45.00EUR",
        "45.00 eur",
        "4500",
        "4 500 JPY",
        "1.250",
        "0.005 KWD",
        "0.29",
        "1.15",
        "",
        "   ",
        "abc",
        "EUR",
        "-",
        ".",
        "--5",
        "+5",
        "- 5",
        "5-",
        "1,234.50",
        "1.234,50",
        "1..5",
        "12 34",
        "1 2345",
        "1234 567",
        "1  234",
        "1\t234",
        "12.5 0",
        "1e3",
        "0x10",
        "١٢",
        "12,50 EURO",
        "NaN",
        "Infinity",
        "12.505",
        "12.500",
        "1,500",
        "1500.0",
        "1.2345",
        "92233720368547758.07",
        "92233720368547758.08",
        "-92233720368547758.08",
        "-92233720368547758.09",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "99999999999999999999999999",
        "12.50 USD",
        "12.50 usd",
        "é12",
        "12é",
        "x12 EUR",
        "12 xEUR",
    ]
    .map(str::to_owned)
    .into();
    let alphabet: Vec<char> = "0123456789012345678.,.,  \u{a0}\u{202f}--+EURJPYeurx\té".chars().collect();
    let mut state: u64 = 0x5eed_cafe_f00d_0001;
    let mut next = move |n: usize| {
        // xorshift64*: enough for test data.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33).unwrap() % n
    };
    for _ in 0..1500 {
        let len = next(14);
        texts.push((0..len).map(|_| alphabet[next(alphabet.len())]).collect());
    }
    // And every shape of written amount: what format gives, parsed back.
    for minor in [0, 1, -1, 5, -5, 99, -99, 100, 4_500, -505, 123_456_789, i64::MAX, i64::MIN] {
        for code in ["EUR", "JPY", "BHD", "CLF"] {
            texts.push(Money::new(minor, Currency::new(code).unwrap()).to_string());
        }
    }
    texts
}

const CURRENCIES: [&str; 5] = ["EUR", "JPY", "BHD", "KWD", "CLF"];

/// What sync-core makes of `text` in `code`: `{"ok": "<minor>"}` or `{"err": "<sentence>"}`.
fn rust_parse(text: &str, code: &str) -> Value {
    match Money::parse(text, Currency::new(code).unwrap()) {
        Ok(money) => json!({"ok": money.minor().to_string()}),
        Err(e) => json!({"err": e.to_string()}),
    }
}

const SCRIPT: &str = r#"
const [cases, amounts, done] = arguments;
import(new URL("../common/money.js", location.href).href).then((m) => {
  const parsed = cases.map(([text, code]) => {
    try { return { ok: String(m.parseMinor(text, code)) }; } catch (e) { return { err: e.message }; }
  });
  const written = amounts.map(([minor, code]) => m.formatMoney(BigInt(minor), code));
  const numbers = [m.parseMoney("12,50", "EUR"), m.formatMoney(4500, "EUR"), m.formatMoney(null, "EUR")];
  let unsafe;
  try { m.parseMoney("90071992547409.92", "EUR"); } catch (e) { unsafe = e.message; }
  done({ parsed, written, numbers, unsafe });
}, (e) => done({ error: String(e) }));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_ends_read_and_write_money_as_sync_core_does() {
    let app_data = tempfile::tempdir().unwrap();
    let x = Xvfb::start();
    let driver = Driver::start(&x.display, app_data.path());
    let app = driver.launch(&binary("boxoffice")).await;

    let cases: Vec<(String, &str)> =
        texts().into_iter().flat_map(|t| CURRENCIES.map(|c| (t.clone(), c))).collect();
    let amounts: Vec<(String, &str)> =
        [0, 1, -1, 5, -5, -99, 100, 4_500, -505, 123_456_789, i64::MAX, i64::MIN]
            .into_iter()
            .flat_map(|m| {
                [m.to_string()].into_iter().cycle().zip(["EUR", "JPY", "BHD", "CLF", "QQQ", "", "euro"])
            })
            .collect();
    let answer = app
        .execute_async(SCRIPT, vec![json!(cases), json!(amounts)])
        .await
        .expect("the script ran in the web view");
    assert!(answer.get("error").is_none(), "money.js did not load: {answer}");

    let parsed = answer["parsed"].as_array().expect("parsed");
    assert_eq!(parsed.len(), cases.len());
    let mut differences = Vec::new();
    for ((text, code), js) in cases.iter().zip(parsed) {
        let rust = rust_parse(text, code);
        if &rust != js {
            differences.push(format!("{text:?} in {code}: Rust {rust}, JS {js}"));
        }
    }
    assert!(differences.is_empty(), "{} differences:\n{}", differences.len(), differences.join("\n"));
    let accepted = parsed.iter().filter(|p| p.get("ok").is_some()).count();
    assert!(accepted > 200 && accepted < parsed.len() - 200, "both kinds covered: {accepted} accepted");

    let written = answer["written"].as_array().expect("written");
    for ((minor, code), js) in amounts.iter().zip(written) {
        assert_eq!(js, &json!(format_minor(minor.parse().unwrap(), code)), "{minor} {code:?}");
    }
    // The Number side, as the forms send it: exact, and refused beyond what a Number holds.
    assert_eq!(answer["numbers"], json!([1250, "45.00 EUR", "–"]));
    assert_eq!(answer["unsafe"], json!("That amount is too large."));
}
