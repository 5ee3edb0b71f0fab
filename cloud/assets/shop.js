// The public shop: places the order through the checkout API (one idempotency key per
// attempt, so a double click or a retried request never buys twice), then sends the buyer to
// the payment provider — or straight to the tickets when the order is free. The running total
// follows the quantities, in the page's language; the page carries its sentences.
import { showProblem } from "./console.js";

const form = document.getElementById("shop");
let attempt = null;

/** The running total of the chosen tickets, per currency, as the page's language writes it. */
function showTotal() {
  const sums = new Map();
  for (const input of form.querySelectorAll("input[data-type]")) {
    const n = Math.max(0, Math.floor(Number(input.value) || 0));
    const currency = input.dataset.currency;
    sums.set(currency, (sums.get(currency) ?? 0) + n * Number(input.dataset.price));
  }
  const parts = [...sums].filter(([, minor]) => minor > 0).map(([currency, minor]) => {
    const format = new Intl.NumberFormat(form.dataset.lang, { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(minor / 10 ** digits);
  });
  document.getElementById("shop-total").textContent = parts.length ? parts.join(" + ") : "–";
}

form?.addEventListener("input", showTotal);
if (form) showTotal();

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
  const lines = [...form.querySelectorAll("input[data-type]")]
    .map((i) => ({ ticket_type: Number(i.dataset.type), quantity: Number(i.value || 0) }))
    .filter((l) => l.quantity > 0);
  if (!lines.length) { showProblem(form, { detail: form.dataset.choose }); return; }
  const body = { lines, name: form.elements.name.value, email: form.elements.email.value };
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
