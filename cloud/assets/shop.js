// The public shop: places the order through the checkout API (one idempotency key per
// attempt, so a double click or a retried request never buys twice), then sends the buyer to
// the payment provider — or straight to the tickets when the order is free.
import { showProblem } from "./console.js";

const form = document.getElementById("shop");
let attempt = null;

async function json(url, body, key) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw data.detail ? data : { detail: `The shop answered ${response.status}.` };
  return data;
}

form?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const lines = [...form.querySelectorAll("input[data-type]")]
    .map((i) => ({ ticket_type: Number(i.dataset.type), quantity: Number(i.value || 0) }))
    .filter((l) => l.quantity > 0);
  if (!lines.length) { showProblem(form, { detail: "Choose how many tickets you want." }); return; }
  const body = { lines, name: form.elements.name.value, email: form.elements.email.value };
  attempt ??= crypto.randomUUID();
  const button = document.getElementById("buy");
  button.disabled = true;
  try {
    const order = await json(`/api/v1/public/events/${form.dataset.event}/orders`, body, attempt);
    const page = `/shop/orders/${order.code}/${order.secret}`;
    if (order.status === "paid") { location.assign(page); return; }
    const payment = await json(`/api/v1/public/orders/${order.code}/${order.secret}/payments`, undefined, attempt);
    location.assign(payment.checkout_url || page);
  } catch (problem) {
    attempt = null;
    showProblem(form, problem.detail ? problem : { detail: "The shop cannot be reached. Try again." });
  } finally {
    button.disabled = false;
  }
});
