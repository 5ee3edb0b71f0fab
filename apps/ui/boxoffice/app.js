// The box office's screen. Everything is decided in Rust (sync-core's box office); this file
// shows it. Invariants: a sale's codes appear only from the answer of `sell`, which returns
// after the sale is durable; errors are the sentences Rust wrote for the cashier; the keyboard
// alone sells: 1–9 pick a ticket type, then quantity, Enter, Enter.

import { renderBadge } from "../common/badge.js";
import { renderRemoved } from "../common/removed.js";
import { formatMoney as money, parseMoney } from "../common/money.js";
import { SeatMap } from "../common/seatmap.js";

const invoke = window.__TAURI__.core.invoke;
const $ = (id) => document.getElementById(id);
const offset = () => -new Date().getTimezoneOffset(); // minutes east of UTC, as Rust wants it

let status = null;
let tab = "sell-screen";
let chosenType = null;
let handover = null;      // { sale, index }
let closed = null;        // the last closed shift's report, while it is shown
const drawn = {};         // what each list was last drawn from: redrawn only when it changed,
                          // so the once-a-second refresh never takes the focus away

function changed(name, data) {
  const sig = JSON.stringify(data);
  if (drawn[name] === sig) return false;
  drawn[name] = sig;
  return true;
}

// ---------- money -----------------------------------------------------------------------------

// money(4500, "EUR") → "45.00 EUR": the shared module (apps/ui/common/money.js), which writes
// and reads amounts exactly as sync-core does.

/** What the cashier typed, in minor units of the event's currency: null when empty, NaN when it
 *  is not an amount of at least zero ("12,50", "12.5", "1 234.50 EUR" are; see money.js). */
function parseAmount(text) {
  if (text.trim() === "") return null;
  try {
    const minor = parseMoney(text, currency() || "EUR");
    return minor < 0 ? NaN : minor;
  } catch {
    return NaN;
  }
}

// ---------- errors: one banner, the sentence from Rust ----------------------------------------

function showError(message) {
  $("error").textContent = String(message);
  $("error").hidden = false;
}
function clearError() { $("error").hidden = true; $("error").textContent = ""; }

async function attempt(action) {
  clearError();
  try { return await action(); } catch (message) { showError(message); return undefined; }
}

// ---------- screens ---------------------------------------------------------------------------

const SCREENS = ["removed-screen", "enroll-screen", "settings-screen", "open-screen", "sell-screen", "leases-screen",
  "guests-screen", "shift-screen"];

function show(screen) {
  for (const id of SCREENS) $(id).hidden = id !== screen;
  $("tabs").hidden = !(status?.ready && (status.shift || closed));
  for (const b of document.querySelectorAll(".tab")) {
    if (b.dataset.tab === screen) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
}

let reenrolling = false;  // a removed device, being enrolled again

function route() {
  if (status.removed && !reenrolling) {
    $("handover").hidden = true;
    renderRemoved(status.removed, "sell tickets", () => { reenrolling = true; route(); });
    return show("removed-screen");
  }
  if (!status.enrolled) return show("enroll-screen");
  if (!status.ready || settingsOpen) return openSettings();
  if (!status.shift && !closed) return show("open-screen");
  show(tab);
}

function go(screen) {
  tab = screen;
  route();
  if (screen === "sell-screen") focusSale();
  if (screen === "guests-screen") { $("guest-search").focus(); searchGuests(); }
  if (screen === "shift-screen" && !closed) $("close-counted").focus();
}

for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => go(b.dataset.tab));

// ---------- status: polled once a second (local IPC, cheap) -----------------------------------

async function refresh() {
  status = await invoke("status", { offset: offset() });
  $("place").textContent = status.removed ? "Removed by the organizer"
    : status.ready ? status.event_name : (status.enrolled ? "Choose the event" : "Not set up");
  renderBadge(status.enrolled ? status.badge : null);
  if (status.ready) { renderTypes(); renderSales(); renderLeases(); renderVoucherLeases(); renderShift(); }
  // Organizers keep editing the list through the hub: show their changes as they sync in.
  if (status.ready && !$("guests-screen").hidden) searchGuests();
  route();
  return status;
}

// ---------- enrollment and the event ------------------------------------------------------------

$("enroll-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("enroll-submit").disabled = true;
  await attempt(async () => {
    const hub = $("enroll-hub").value.trim();
    status = await invoke("enroll", {
      text: $("enroll-text").value, hubUrl: hub || null, pin: $("enroll-pin").value, offset: offset(),
    });
    reenrolling = false;
    await refresh();
  });
  $("enroll-submit").disabled = false;
});

let settingsOpen = false;
function openSettings() {
  show("settings-screen");
  const select = $("event");
  const current = select.value;
  select.replaceChildren(...status.events.map((ev) => {
    const o = document.createElement("option");
    o.value = ev.id; o.textContent = ev.name;
    o.selected = String(ev.id) === current || (current === "" && ev.id === status.event);
    return o;
  }));
  $("settings-wait").hidden = status.events.some((ev) => !ev.name.includes("waiting")) ;
}
$("settings-open").addEventListener("click", () => { settingsOpen = true; openSettings(); $("settings-pin").focus(); });
$("settings-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  await attempt(async () => {
    status = await invoke("choose_event", { pin: $("settings-pin").value, event: Number($("event").value), offset: offset() });
    $("settings-pin").value = "";
    settingsOpen = false;
    await refresh();
  });
});

// ---------- shifts ------------------------------------------------------------------------------

$("open-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const float = parseAmount($("open-float").value);
  if (float === null || Number.isNaN(float)) return showError("Type the float as an amount, like 150.00.");
  await attempt(async () => {
    await invoke("open_shift", { cashier: $("open-cashier").value, floatMinor: float });
    closed = null;
    await refresh();
    go("sell-screen");
  });
});

function renderShift() {
  const s = status.shift;
  if (!s) return;
  $("shift-line").textContent =
    `${s.cashier} · ${s.receipts} ${s.receipts === 1 ? "receipt" : "receipts"} · ${money(s.sold_minor, currency())} sold · ` +
    `${money(s.expected_cash_minor, currency())} expected in the drawer`;
  $("close-summary").textContent = $("shift-line").textContent;
}

$("close-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const counted = parseAmount($("close-counted").value);
  if (counted === null || Number.isNaN(counted)) return showError("Type the counted cash as an amount, like 412.50.");
  await attempt(async () => {
    closed = await invoke("close_shift", { countedMinor: counted, offset: offset() });
    $("close-counted").value = "";
    renderClosed();
    await refresh();
    go("shift-screen");
  });
});

function renderClosed() {
  const r = closed.report, c = r.currency;
  $("close-form").hidden = true;
  $("close-report").hidden = false;
  const typeName = (id) => status.types.find((t) => t.id === id)?.name ?? `Type ${id}`;
  const rows = r.lines.map((l) => [`${typeName(l.ticket_type)} · ${l.method}`,
    `${l.sold} sold ${money(l.sold_minor, c)}`, `${l.voided} voided ${money(l.voided_minor, c)}`]);
  rows.push(["Float", money(r.float_minor, c), ""], ["Expected cash", money(r.expected_cash_minor, c), ""],
    ["Counted cash", money(r.counted_cash_minor, c), ""]);
  $("close-lines").replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
    return tr;
  }));
  const d = closed.difference_minor;
  $("close-difference").textContent = d === 0 ? "The drawer is exact." :
    d > 0 ? `Over by ${money(d, c)}` : `Short by ${money(-d, c)}`;
  $("close-files").textContent = `Saved: ${closed.pdf} and ${closed.csv}`;
}
$("close-done").addEventListener("click", () => {
  closed = null;
  $("close-form").hidden = false;
  $("close-report").hidden = true;
  refresh();
});

// ---------- selling -------------------------------------------------------------------------------

function currency() { return status.types.find((t) => t.currency)?.currency ?? ""; }

function renderTypes() {
  if (chosenType === null || !status.types.some((t) => t.id === chosenType)) {
    chosenType = status.types.find((t) => t.left > 0)?.id ?? status.types[0]?.id ?? null;
  }
  if (!changed("types", [status.types, chosenType])) return;
  const focused = document.activeElement?.id;
  $("types").replaceChildren(...status.types.map((t, i) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.id = `type-${t.id}`;
    b.dataset.left = t.left;
    b.setAttribute("aria-pressed", String(t.id === chosenType));
    const key = document.createElement("span"); key.className = "key"; key.textContent = i < 9 ? String(i + 1) : "";
    const name = document.createElement("span"); name.textContent = t.name;
    const price = document.createElement("span"); price.textContent = money(t.price_minor, t.currency);
    const left = document.createElement("span");
    left.className = t.left === 0 ? "left none" : "left";
    left.textContent = t.left === 0 ? "none left on this device" : `${t.left} left`;
    b.append(key, name, price, left);
    b.addEventListener("click", () => pickType(t.id));
    li.append(b);
    return li;
  }));
  const select = $("request-type");
  if (select.options.length !== status.types.length) {
    select.replaceChildren(...status.types.map((t) => {
      const o = document.createElement("option"); o.value = t.id; o.textContent = t.name; return o;
    }));
  }
  updateTotals();
  showSeatPick();
  if (focused?.startsWith("type-")) $(focused)?.focus();
}

function pickType(id) {
  drawn.types = null;
  chosenType = id;
  picked.clear();
  showSeatPick();
  for (const b of $("types").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.id === `type-${id}`));
  updateTotals();
  $("sale-qty").focus();
  $("sale-qty").select();
}

function method() { return document.querySelector("input[name=method]:checked").value; }

function setMethod(m) {
  $(`method-${m}`).checked = true;
  $("tendered-label").hidden = m !== "cash";
  $("text-label").hidden = m === "cash";
  $("text-name").textContent = m === "card" ? "Terminal reference" : "Reason for the comp";
  updateTotals();
  (m === "cash" ? $("sale-tendered") : $("sale-text")).focus();
}
for (const m of ["cash", "card", "comp"]) $(`method-${m}`).addEventListener("change", () => setMethod(m));

function total() {
  const t = status?.types.find((x) => x.id === chosenType);
  const qty = Number($("sale-qty").value);
  if (!t || !Number.isInteger(qty) || qty < 1) return null;
  return method() === "comp" ? 0 : (t.price_minor ?? 0) * qty;
}

// The device's own price for the sale (voucher, automatic discounts), as `sell` will charge it;
// until it answers, the list price. A code the device cannot redeem is said here, before selling.
let quoted = null;
let quoting = 0;
async function requestQuote() {
  const asked = ++quoting;
  const qty = Number($("sale-qty").value);
  if (chosenType === null || !Number.isInteger(qty) || qty < 1) { quoted = null; showTotals(); return; }
  try {
    const q = await invoke("quote", { ticketType: chosenType, quantity: qty,
      payment: { method: method(), voucher: $("sale-voucher").value } });
    if (asked !== quoting) return;
    quoted = q;
    $("sale-discount").className = "hint";
    $("sale-discount").textContent = q.discount_minor > 0
      ? `${q.reason}: −${money(q.discount_minor, q.currency)} (list ${money(q.list_minor * q.quantity, q.currency)})` : "";
  } catch (e) {
    if (asked !== quoting) return;
    quoted = null;
    $("sale-discount").className = "error";
    $("sale-discount").textContent = String(e);
  }
  showTotals();
}

function showTotals() {
  const sum = quoted ? quoted.total_minor : total();
  $("sale-total").textContent = money(sum, currency());
  const tendered = parseAmount($("sale-tendered").value);
  $("sale-change").textContent = method() === "cash" && sum !== null && tendered !== null && !Number.isNaN(tendered)
    ? money(tendered - sum, currency()) : "–";
}

function updateTotals() {
  quoted = null;
  showTotals();
  requestQuote();
}
for (const id of ["sale-qty", "sale-voucher"]) $(id).addEventListener("input", updateTotals);
$("sale-tendered").addEventListener("input", showTotals);

// Enter in the quantity goes on to the payment; Enter there sells.
$("sale-qty").addEventListener("keydown", (e) => {
  if (e.key === "Enter") { e.preventDefault(); (method() === "cash" ? $("sale-tendered") : $("sale-text")).focus(); }
});

function focusSale() {
  const current = $(`type-${chosenType}`);
  if (current) current.focus(); else $("sale-qty").focus();
}

$("sale-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (chosenType === null) return showError("Choose a ticket type.");
  const tendered = parseAmount($("sale-tendered").value);
  if (Number.isNaN(tendered)) return showError("Type the cash tendered as an amount, like 100.00.");
  $("sale-submit").disabled = true;
  await attempt(async () => {
    if (seated() && picked.size === 0) throw "Tap the seats to sell on the plan, or choose them in the list.";
    const sale = await invoke("sell", {
      ticketType: chosenType, quantity: Number($("sale-qty").value), seats: seated() ? [...picked] : null,
      payment: { method: method(), tendered_minor: method() === "cash" ? tendered : null,
        text: method() === "cash" ? null : $("sale-text").value, voucher: $("sale-voucher").value },
      offset: offset(),
    });
    $("sale-qty").value = "1"; $("sale-tendered").value = ""; $("sale-text").value = ""; $("sale-voucher").value = "";
    setMethod("cash");
    picked.clear();
    openHandover(sale);
    await refresh();
    if (seated()) await loadSeats();
  });
  $("sale-submit").disabled = false;
});

// ---------- seats ---------------------------------------------------------------------------------
// A type this desk sells by seat: the plan the hub published, drawn by the shared seatmap.js,
// every seat not free in this desk's leases drawn taken; a sale names the seats picked (one
// ticket each), and the desk refuses any other.

let seatMap = null;       // the drawing, once the map has arrived
let mine = [];            // [{ seat, ticket_type }] free in this desk's leases
const picked = new Set(); // seat numbers picked for the sale

function seated() { return status?.types.find((t) => t.id === chosenType)?.seated ?? false; }

function showSeatPick() {
  const on = seated();
  $("seat-pick").hidden = !on;
  $("sale-qty").readOnly = on;
  if (!on && Number($("sale-qty").value) < 1) $("sale-qty").value = "1";
  if (on) loadSeats().catch((e) => showError(String(e)));
}

async function loadSeats() {
  const shown = await invoke("seats");
  mine = shown.mine;
  if (shown.plan && !seatMap) {
    seatMap = new SeatMap($("desk-map-svg"), shown.plan, {
      onTap: (seat) => togglePick(Number(seat.id)),
      onHover: (seat) => { $("desk-map-hover").textContent = seatMap.name(seat); },
    });
  }
  paintSeats();
}

function togglePick(n) {
  if (!mine.some((m) => m.seat === n && m.ticket_type === chosenType)) return;
  if (picked.has(n)) picked.delete(n); else picked.add(n);
  paintSeats();
}

function paintSeats() {
  if (!seatMap) return;
  const sellable = mine.filter((m) => m.ticket_type === chosenType).map((m) => m.seat);
  const free = new Set(sellable.map(String));
  for (const n of [...picked]) if (!free.has(String(n))) picked.delete(n);
  const states = {};
  for (const id of seatMap.seats.keys()) if (!free.has(id)) states[id] = "sold";
  seatMap.resetStates(states);
  for (const id of seatMap.seats.keys()) seatMap.setPicked(id, picked.has(Number(id)));
  const name = (n) => seatMap.name(seatMap.seats.get(String(n)));
  const list = $("seat-list");
  if (changed("seat-list", [sellable, chosenType])) {
    list.replaceChildren(...sellable.map((n) => {
      const o = document.createElement("option"); o.value = n; o.textContent = name(n); return o;
    }));
  }
  for (const o of list.options) o.selected = picked.has(Number(o.value));
  $("picked-seats").textContent = picked.size ? [...picked].sort((a, b) => a - b).map(name).join("; ") : "none yet";
  $("sale-qty").value = String(picked.size);
  updateTotals();
}

$("seat-list").addEventListener("change", () => {
  picked.clear();
  for (const o of $("seat-list").selectedOptions) picked.add(Number(o.value));
  paintSeats();
});
$("desk-zoom-in").addEventListener("click", () => seatMap?.zoom(1.25));
$("desk-zoom-out").addEventListener("click", () => seatMap?.zoom(0.8));
$("desk-fit").addEventListener("click", () => seatMap?.fit());

function renderSales() {
  if (!changed("sales", status.sales)) return;
  $("sales").replaceChildren(...status.sales.map((s) => {
    const li = document.createElement("li");
    li.dataset.receipt = s.receipt;
    if (s.voided) li.className = "voided";
    const text = document.createElement("span");
    text.textContent = `${s.time} · #${s.receipt} · ${s.quantity} × ${s.type_name} · ${money(s.total_minor, s.currency)} ${s.method}`
      + (s.reason ? ` · ${s.reason}` : "");
    const again = document.createElement("button");
    again.type = "button"; again.className = "secondary"; again.textContent = "Show";
    again.addEventListener("click", () => attempt(async () => openHandover(await invoke("show_sale", { receipt: s.receipt, offset: offset() }))));
    li.append(text, again);
    if (!s.voided) {
      const voidButton = document.createElement("button");
      voidButton.type = "button"; voidButton.className = "secondary void"; voidButton.textContent = "Void";
      voidButton.addEventListener("click", () => {
        if (!confirm(`Void receipt ${s.receipt}? Its tickets stop working at every gate.`)) return;
        attempt(async () => { await invoke("void", { receipt: s.receipt }); await refresh(); });
      });
      li.append(voidButton);
    }
    return li;
  }));
}

// ---------- the hand-over -------------------------------------------------------------------------

function openHandover(sale) {
  handover = { sale, index: 0 };
  $("handover-file").textContent = "";
  $("handover-change").textContent = sale.method === "cash" && sale.change_minor > 0
    ? `Change: ${money(sale.change_minor, sale.currency)}` : "";
  renderHandover();
  $("handover").hidden = false;
  $("handover-done").focus();
}

function renderHandover() {
  const { sale, index } = handover;
  const ticket = sale.tickets[index];
  $("handover-title").textContent = sale.voided ? `VOIDED — receipt ${sale.receipt}` :
    `${sale.type_name}${ticket.seat ? ` · ${ticket.seat}` : ""} · ticket ${index + 1} of ${sale.tickets.length}`;
  // The SVG is made in Rust from the signed ticket (no outside input reaches this markup).
  $("handover-code").innerHTML = ticket.svg;
  $("handover-code").dataset.text = ticket.text;
  $("handover-code").dataset.serial = ticket.serial;
  $("handover-caption").textContent = `Serial ${ticket.serial} · receipt ${sale.receipt} · ${money(sale.total_minor, sale.currency)}`;
  $("handover-prev").disabled = index === 0;
  $("handover-next").disabled = index === sale.tickets.length - 1;
}

function closeHandover() {
  $("handover").hidden = true;
  handover = null;
  focusSale();
}
$("handover-prev").addEventListener("click", () => { handover.index--; renderHandover(); });
$("handover-next").addEventListener("click", () => { handover.index++; renderHandover(); });
$("handover-done").addEventListener("click", closeHandover);
$("handover-email-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const email = $("handover-email").value.trim();
  if (!email) return;
  $("handover-file").textContent = "Sending…";
  attempt(async () => {
    await invoke("email_sale", { receipt: handover.sale.receipt, email });
    $("handover-file").textContent = `The tickets go to ${email}.`;
    $("handover-email").value = "";
  }).then(() => { if ($("handover-file").textContent === "Sending…") $("handover-file").textContent = ""; });
});
$("handover-pdf").addEventListener("click", () => attempt(async () => {
  const path = await invoke("receipt_pdf", { receipt: handover.sale.receipt, offset: offset() });
  $("handover-file").textContent = `Saved for printing: ${path}`;
}));

// ---------- leases ----------------------------------------------------------------------------------

const STATES = { active: "Selling", sold_out: "Sold out", expired: "Expired", returned: "Returned", invalid: "Not valid" };

function renderLeases() {
  if (!changed("leases", status.leases)) return;
  $("leases").replaceChildren(...status.leases.map((l) => {
    const tr = document.createElement("tr");
    tr.dataset.lease = l.lease;
    const cells = [`#${l.lease}`, l.type_name, `${l.first_serial}–${l.last_serial}`, String(l.sold), String(l.left),
      l.expires_text, STATES[l.status] ?? l.status];
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
    const td = document.createElement("td");
    if (l.status === "active" || l.status === "expired") {
      const b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = "Return unsold";
      b.addEventListener("click", () => {
        if (!confirm(`Give the unsold rights of lease ${l.lease} back to the hub? This device can no longer sell them.`)) return;
        attempt(async () => { await invoke("return_lease", { lease: l.lease }); await refresh(); });
      });
      td.append(b);
    }
    tr.append(td);
    return tr;
  }));
}

function renderVoucherLeases() {
  if (!changed("vouchers", status.vouchers)) return;
  $("voucher-leases").replaceChildren(...status.vouchers.map((v) => {
    const tr = document.createElement("tr");
    tr.dataset.voucherLease = v.lease;
    for (const text of [v.code, String(v.uses), String(v.used), String(v.left), v.returned ? "returned" : v.expires_text]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    const td = document.createElement("td");
    if (!v.returned) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = "Return unused";
      b.addEventListener("click", () => {
        if (!confirm(`Give the unused uses of code ${v.code} back to the hub? This device can no longer redeem them.`)) return;
        attempt(async () => { await invoke("return_voucher", { lease: v.lease }); await refresh(); });
      });
      td.append(b);
    }
    tr.append(td);
    return tr;
  }));
}

$("request-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("request-result").textContent = "";
  await attempt(async () => {
    const granted = await invoke("request_rights", { ticketType: Number($("request-type").value), quantity: Number($("request-qty").value) });
    $("request-result").textContent = `Granted: lease ${granted.lease}, serials ${granted.first_serial}–${granted.last_serial}. It arrives in a moment.`;
  });
});

// ---------- guest list ----------------------------------------------------------------------------

// What the table shows: re-rendered only when it changes, so the once-a-second refresh does not
// take the keyboard focus off a check-in button.
let shownGuests = "";
async function searchGuests() {
  const guests = await attempt(() => invoke("guests", { query: $("guest-search").value }));
  if (!guests) return;
  const key = JSON.stringify(guests);
  if (key === shownGuests) return;
  shownGuests = key;
  $("guests").replaceChildren(...guests.map((g) => {
    const tr = document.createElement("tr");
    tr.dataset.guest = g.id;
    for (const text of [g.name, g.plus_ones ? `+${g.plus_ones}` : "", `${g.checked_in} of ${g.plus_ones + 1}`]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    const td = document.createElement("td");
    for (let n = 1; n <= g.remaining; n++) {
      const b = document.createElement("button");
      b.type = "button"; b.className = n === 1 ? "" : "secondary";
      b.textContent = n === 1 ? "Check in 1" : `${n}`;
      b.addEventListener("click", () => attempt(async () => { await invoke("check_in", { guest: g.id, count: n }); await searchGuests(); }));
      td.append(b);
    }
    if (g.remaining === 0) td.textContent = "All in";
    tr.append(td);
    return tr;
  }));
}
$("guest-search").addEventListener("input", searchGuests);

// ---------- keys ------------------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (!$("handover").hidden) {
    if (e.key === "Escape" || (e.key === "Enter" && document.activeElement === document.body)) { e.preventDefault(); closeHandover(); }
    if (e.key === "ArrowRight" && !$("handover-next").disabled) { handover.index++; renderHandover(); }
    if (e.key === "ArrowLeft" && !$("handover-prev").disabled) { handover.index--; renderHandover(); }
    return;
  }
  const keys = { F6: "sell-screen", F7: "leases-screen", F8: "guests-screen", F9: "shift-screen" };
  if (keys[e.key] && !$("tabs").hidden) { e.preventDefault(); return go(keys[e.key]); }
  if ($("sell-screen").hidden) return;
  const methods = { F1: "cash", F2: "card", F3: "comp" };
  if (methods[e.key]) { e.preventDefault(); return setMethod(methods[e.key]); }
  // Digits pick a ticket type unless the cashier is typing into a field.
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  if (!typing && /^[1-9]$/.test(e.key)) {
    const t = status.types[Number(e.key) - 1];
    if (t) { e.preventDefault(); pickType(t.id); }
  }
});

// ---------- start -------------------------------------------------------------------------------------

await refresh();
if (!$("sell-screen").hidden) focusSale();
setInterval(refresh, 1000);
