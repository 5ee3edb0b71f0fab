// The public shop: places the order through the checkout API (one idempotency key per
// attempt, so a double click or a retried request never buys twice), then sends the buyer to
// the payment provider — or straight to the tickets when the order is free. The running total
// follows the quantities and the voucher code, priced by the hub (discounts included), in the
// page's language; the page carries its sentences.
//
// An event sold by seat shows its live seat map: a tap picks a free seat (the line then names
// its seats), a quantity alone asks for the best available; the hub streams every seat another
// buyer holds or buys (`/shop/{event}/seats/live`), so the map changes colour as they do.
import { showProblem } from "./console.js";
import { SeatMap } from "./seatmap.js";

const form = document.getElementById("shop");
let attempt = null;

/** `minor` units of `currency` as the page's language writes money. */
function money(minor, currency) {
  const format = new Intl.NumberFormat(form.dataset.lang, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

/** Seats picked on the map: id → ticket type number. */
const picked = new Map();

/** The chosen lines, as checkout takes them (a seated type's picked seats named). */
function chosenLines() {
  return [...form.querySelectorAll("input[data-type]")]
    .map((i) => {
      const type = Number(i.dataset.type);
      const seats = [...picked].filter(([, t]) => t === type).map(([id]) => id);
      return seats.length
        ? { ticket_type: type, quantity: seats.length, seats }
        : { ticket_type: type, quantity: Math.max(0, Math.floor(Number(i.value) || 0)) };
    })
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

// ---------- the seat map ----------
const mapSection = document.getElementById("seat-map");
let map = null;
let typeOfCategory = {};

/** Shows the picked seats under the map, and each seated type's count of them. */
function showPicked() {
  const list = document.getElementById("picked");
  document.getElementById("picked-title").hidden = picked.size === 0;
  list.replaceChildren(...[...picked.keys()].map((id) => {
    const seat = map.seats.get(id);
    const item = document.createElement("li");
    item.dataset.seat = id;
    const name = document.createElement("span");
    name.textContent = map.name(seat);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = mapSection.dataset.remove;
    remove.setAttribute("aria-label", `${mapSection.dataset.remove}: ${name.textContent}`);
    remove.addEventListener("click", () => toggle(seat));
    item.append(name, remove);
    return item;
  }));
  for (const input of form.querySelectorAll("input[data-seated]")) {
    const n = [...picked.values()].filter((t) => t === Number(input.dataset.type)).length;
    input.readOnly = n > 0;
    if (n > 0) input.value = n;
  }
  priceChanged();
}

function toggle(seat) {
  const type = typeOfCategory[seat.category];
  if (type === undefined || !form.querySelector(`input[data-type="${type}"]`)) return; // not for sale here
  if (picked.has(seat.id)) {
    picked.delete(seat.id);
  } else if (map.isFree(seat.id)) {
    picked.set(seat.id, type);
  } else {
    return;
  }
  map.setPicked(seat.id, picked.has(seat.id));
  if (![...picked.values()].includes(type)) form.querySelector(`input[data-type="${type}"]`).value = 0;
  showPicked();
}

/** Seats someone else took are no longer picked. */
function dropTaken() {
  const lost = [...picked.keys()].filter((id) => !map.isFree(id));
  for (const id of lost) { picked.delete(id); map.setPicked(id, false); }
  if (lost.length) showPicked();
}

function legend(plan) {
  const item = (colour, text, cls = "") => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${cls}`;
    swatch.style.background = colour;
    li.append(swatch, text);
    return li;
  };
  const prices = plan.categories.map((c) => {
    const input = form.querySelector(`input[data-type="${typeOfCategory[c.name]}"]`);
    const price = input ? ` · ${money(Number(input.dataset.price), input.dataset.currency)}` : "";
    return item(c.color, `${c.name}${price}`);
  });
  const d = mapSection.dataset;
  document.getElementById("map-legend").replaceChildren(
    ...prices,
    item("#e9d9a6", d.held),
    item("#c4c9ce", d.taken),
    item("transparent", `♿ ${d.wheelchair}`),
  );
}

async function startMap() {
  const event = form.dataset.event;
  const response = await fetch(`/api/v1/public/events/${event}/seats`).catch(() => null);
  if (!response?.ok) return;
  const seating = await response.json();
  typeOfCategory = seating.categories;
  const hover = document.getElementById("map-hover");
  map = new SeatMap(document.getElementById("map-svg"), seating.plan, {
    onTap: toggle,
    onHover: (seat) => { hover.textContent = `${map.name(seat)} · ${map.isFree(seat.id) ? mapSection.dataset.free : mapSection.dataset.taken}`; },
    words: { wheelchair: mapSection.dataset.wheelchair },
  });
  mapSection.dataset.drawnMs = map.drawnMs.toFixed(1);
  for (const id of seating.taken) map.setState(id, "sold");
  legend(seating.plan);
  document.getElementById("map-zoom-in").addEventListener("click", () => map.zoom(1.5));
  document.getElementById("map-zoom-out").addEventListener("click", () => map.zoom(1 / 1.5));
  document.getElementById("map-fit").addEventListener("click", () => map.fit());
  const live = new EventSource(`/shop/${event}/seats/live`);
  live.addEventListener("seats", (e) => { map.resetStates(JSON.parse(e.data).seats); dropTaken(); mapSection.dataset.live = "on"; });
  live.addEventListener("changes", (e) => {
    for (const [id, state] of Object.entries(JSON.parse(e.data).seats)) map.setState(id, state);
    dropTaken();
  });
}

if (mapSection && form) startMap();
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
  const phone = form.elements.phone?.value.trim();
  const body = {
    lines, name: form.elements.name.value, email: form.elements.email.value, voucher: code || undefined,
    phone: phone || undefined, text_via: phone && form.elements.whatsapp?.checked ? "whatsapp" : undefined,
  };
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
