// Money for the front ends: amounts in a currency's minor units, written as people read them
// and read exactly from what they type — never through a floating-point number. The twin of
// sync-core's `money` module (sync-core/src/money.rs): the same exponents, the same rules and
// the same sentences; the box office's end-to-end tests hold the two to each other. Served to
// the apps from apps/ui/common/ and to the hub's console as /assets/money.js.
//
// Writing: "45.00 EUR", "-0.05 EUR", "4500 JPY", "1.250 BHD" — a minus for a negative amount
// (zero never has one), the whole units without grouping, a point and exactly the currency's
// decimals, a space and the code.
//
// Reading (parseMinor, parseMoney):
// - spaces around the amount are ignored (ASCII white space, U+00A0, U+202F);
// - a leading "-" makes it negative; "-0" is zero;
// - the decimals follow one point or one comma: "12.50", "12,50", "12.5", "12." and ".5" are
//   amounts; never more than one point or comma ("1,234.50" is refused, not guessed at);
// - the whole units may be grouped by threes with a space (or U+00A0, U+202F): "1 234 567.50";
// - more decimals than the currency has are refused, even zeros ("12.500" in EUR);
// - the currency's code may follow ("45.00 EUR", "45.00eur"); another code is refused;
// - ASCII digits only; beyond an i64 of minor units is refused (parseMoney, which gives a
//   Number, also refuses beyond Number.MAX_SAFE_INTEGER: a Number holds no more exactly).
// A refusal is a MoneyError whose message is the sentence to show.

/** ISO 4217 currencies whose minor unit is not a hundredth; every other code has 2 decimals. */
const EXPONENTS = new Map([
  ["BIF", 0], ["CLP", 0], ["DJF", 0], ["GNF", 0], ["ISK", 0], ["JPY", 0], ["KMF", 0], ["KRW", 0],
  ["PYG", 0], ["RWF", 0], ["UGX", 0], ["UYI", 0], ["VND", 0], ["VUV", 0], ["XAF", 0], ["XOF", 0],
  ["XPF", 0],
  ["BHD", 3], ["IQD", 3], ["JOD", 3], ["KWD", 3], ["LYD", 3], ["OMR", 3], ["TND", 3],
  ["CLF", 4], ["UYW", 4],
]);

const I64_MAX = 9223372036854775807n;
const I64_MIN_MAGNITUDE = 9223372036854775808n;

/** How many decimals amounts in `code` have (2 for a code not in the table, or no code). */
export function exponent(code) {
  return EXPONENTS.get(code) ?? 2;
}

/** Why a text is not an amount; `kind` is one of empty, invalid, decimals, too_large,
 *  wrong_currency, not_a_currency. */
export class MoneyError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "MoneyError";
    this.kind = kind;
  }
}

const INVALID = "That is not an amount: type digits, with one point or comma before the decimals.";

function decimalsError(code) {
  const e = exponent(code);
  const name = code ?? "These";
  return new MoneyError("decimals",
    e === 0 ? `${name} amounts have no decimals.` : `${name} amounts have at most ${e} decimals.`);
}

function isCurrency(code) {
  return typeof code === "string" && /^[A-Z]{3}$/.test(code);
}

/** 4500, "JPY"… → "4500" / 4500, "EUR" → "45.00": the amount without its code (for an input
 *  field). `minor` is an integer Number or a BigInt; anything else gives "–". */
export function formatAmount(minor, code = "") {
  let value;
  if (typeof minor === "bigint") value = minor;
  else if (Number.isSafeInteger(minor)) value = BigInt(minor);
  else return "–";
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  const decimals = exponent(String(code ?? "").trim());
  const sign = negative ? "-" : "";
  if (decimals === 0) return sign + digits;
  digits = digits.padStart(decimals + 1, "0");
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** 4500, "EUR" → "45.00 EUR"; no code (or "") leaves it out; null or a non-integer gives "–". */
export function formatMoney(minor, code = "") {
  const amount = formatAmount(minor, code);
  const c = String(code ?? "").trim();
  return amount === "–" || c === "" ? amount : `${amount} ${c}`;
}

const SPACE = "\\t\\n\\f\\r \\u00a0\\u202f";
const TRIM = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");
const TRAILING_CODE = /^(.*?)(?<![A-Za-z])([A-Za-z]{3})$/s;
const GROUPED = /^[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+$/;

/** What a person typed, as a BigInt of minor units of `code` (three capital letters), exactly
 *  by sync-core's rules; throws a MoneyError. `code` null: a currency not known here — two
 *  decimals, and no code may follow the amount (the console's forms that do not name it). */
export function parseMinor(text, code) {
  if (code !== null && !isCurrency(code)) {
    throw new MoneyError("not_a_currency",
      `${JSON.stringify(String(code ?? "").slice(0, 16))} is not a currency code: use three capital letters, such as EUR.`);
  }
  const t = String(text ?? "").replace(TRIM, "");
  if (t === "") throw new MoneyError("empty", "Enter an amount.");
  let number = t;
  const coded = TRAILING_CODE.exec(t);
  if (coded) {
    number = coded[1].replace(TRIM, "");
    if (number === "") throw new MoneyError("invalid", INVALID);
    const found = coded[2].toUpperCase();
    if (found !== code) {
      throw new MoneyError("wrong_currency", `That amount is in ${found}, not in ${code ?? "this currency"}.`);
    }
  }
  const negative = number.startsWith("-");
  const unsigned = negative ? number.slice(1) : number;
  const parts = unsigned.split(/[.,]/);
  if (parts.length > 2) throw new MoneyError("invalid", INVALID);
  const [whole, fraction = ""] = parts;
  let wholeDigits;
  if (/^[0-9]*$/.test(whole)) wholeDigits = whole;
  else if (GROUPED.test(whole)) wholeDigits = whole.replace(/[^0-9]/g, "");
  else throw new MoneyError("invalid", INVALID);
  if (!/^[0-9]*$/.test(fraction) || (wholeDigits === "" && fraction === "")) {
    throw new MoneyError("invalid", INVALID);
  }
  const decimals = exponent(code);
  if (fraction.length > decimals) throw decimalsError(code);
  const magnitude = BigInt(wholeDigits + fraction.padEnd(decimals, "0"));
  if (negative ? magnitude > I64_MIN_MAGNITUDE : magnitude > I64_MAX) {
    throw new MoneyError("too_large", "That amount is too large.");
  }
  return negative ? -magnitude : magnitude;
}

/** parseMinor as a Number (what JSON carries), refusing beyond Number.MAX_SAFE_INTEGER. */
export function parseMoney(text, code) {
  const minor = parseMinor(text, code);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (minor > max || minor < -max) throw new MoneyError("too_large", "That amount is too large.");
  return Number(minor);
}
