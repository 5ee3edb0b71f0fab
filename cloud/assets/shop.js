// The public shop: places the order through the checkout API (one idempotency key per
// attempt, so a double click or a retried request never buys twice), then sends the buyer to
// the payment provider — or straight to the tickets when the order is free. The running total
// follows the quantities and the voucher code, priced by the hub (discounts included), in the
// page's language; the page carries its sentences.
import { showProblem } from "./console.js";

const form = document.getElementById("shop");
let attempt = null;

/** `minor` units of `currency` as the page's language writes money. */
function money(minor, currency) {
  const format = new Intl.NumberFormat(form.dataset.lang, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

/** The chosen lines, as checkout takes them. */
function chosenLines() {
  return [...form.querySelectorAll("input[data-type]")]
    .map((i) => ({ ticket_type: Number(i.dataset.type), quantity: Math.max(0, Math.floor(Number(i.value) || 0)) }))
    .filter((l) => l.quantity > 0);
}

/** The running total at list prices, per currency (at once, before the hub's quote). */
function showTotal() {
  const sums = new Map();
  for (const input of form.querySelectorAll("input[data-type]")) {
    const n = Math.max(0, Math.floor(Number(input.value) || 0));
    const currency = input.dataset.currency;
    sums.set(currency, (sums.get(currency) ?? 0) + n * Number(input.dataset.price));
  }
  const parts = [...sums].filter(([, minor]) => minor > 0).map(([currency, minor]) => money(minor, currency));
  document.getElementById("shop-total").textContent = parts.length ? parts.join(" + ") : "–";
}

// The price the buyer will pay, discounts and voucher included, asked of the hub (the same
// pricing checkout charges); only the latest answer is shown.
let asked = 0;
let waiting = null;
async function showQuote() {
  const lines = chosenLines();
  const code = form.elements.voucher.value.trim();
  const answer = document.getElementById("voucher-answer");
  const discounts = document.getElementById("shop-discounts");
  if (!lines.length) {
    discounts.replaceChildren();
    answer.textContent = "";
    return;
  }
  const mine = ++asked;
  const response = await fetch(`/api/v1/public/events/${form.dataset.event}/quote`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ lines, voucher: code || undefined }),
  }).catch(() => null);
  if (mine !== asked || !response) return; // a newer question, or offline: the list total stays
  const quote = await response.json().catch(() => ({}));
  if (!response.ok) {
    discounts.replaceChildren();
    answer.textContent = quote.detail ?? "";
    answer.className = "small form-error";
    return;
  }
  answer.className = "small";
  answer.textContent = quote.voucher ? `✓ ${quote.voucher}` : "";
  discounts.replaceChildren(...quote.lines.filter((l) => l.discount_minor > 0).map((l) => {
    const item = document.createElement("li");
    item.textContent = `${l.name} · ${l.discount_reason}: −${money(l.discount_minor, quote.currency)}`;
    return item;
  }));
  document.getElementById("shop-total").textContent = money(quote.total_minor, quote.currency);
}

function priceChanged() {
  showTotal();
  clearTimeout(waiting);
  waiting = setTimeout(showQuote, 250);
}

form?.addEventListener("input", priceChanged);
document.getElementById("voucher-apply")?.addEventListener("click", () => { showTotal(); showQuote(); });
if (form) { showTotal(); showQuote(); }

async function json(url, body, key) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw { ...(data.detail ? data : { detail: `The shop answered ${response.status}.` }), status: response.status };
  }
  return data;
}

form?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const lines = chosenLines();
  if (!lines.length) { showProblem(form, { detail: form.dataset.choose }); return; }
  const code = form.elements.voucher.value.trim();
  const body = { lines, name: form.elements.name.value, email: form.elements.email.value, voucher: code || undefined };
  attempt ??= crypto.randomUUID();
  const button = document.getElementById("buy");
  button.disabled = true;
  try {
    const order = await json(`/api/v1/public/events/${form.dataset.event}/orders`, body, attempt).catch((p) => {
      throw { ...p, refused: p.status >= 400 && p.status < 500 };
    });
    const page = `/shop/orders/${order.code}/${order.secret}`;
    if (order.status === "paid") { location.assign(page); return; }
    const payment = await json(`/api/v1/public/orders/${order.code}/${order.secret}/payments`, undefined, attempt);
    location.assign(payment.checkout_url || page);
  } catch (problem) {
    // A new attempt only after the order itself was refused (changed quantities make a new
    // order); after a network failure, or once the order exists, the same key finds the same
    // order and payment again rather than holding tickets twice.
    if (problem.refused) attempt = null;
    showProblem(form, problem.detail ? problem : { detail: form.dataset.unreachable });
  } finally {
    button.disabled = false;
  }
});
