// An event's seats page: the event's plan drawn with each seat's state (from the same
// /api/v1/events/{id}/seats an integration reads), seats selected by click, Ctrl-click or a
// Shift-drag, and blocked with a reason, released, or leased to a box office through the API.

import { SeatMap } from "./seatmap.js";
import { showProblem } from "./console.js";

const $ = (id) => document.getElementById(id);
const event = $("seats").dataset.event;
const plan = JSON.parse($("plan-json").textContent);
/** Category → the ticket type number its seats sell as. */
const categories = JSON.parse($("categories-json").textContent);
let selected = new Set();

function show() {
  for (const id of map.circles.keys()) map.setPicked(id, selected.has(id));
  const names = [...selected].map((id) => map.name(map.seats.get(id)));
  $("selected-seats").textContent = names.length ? names.join("; ") : "none";
}

const map = new SeatMap($("seats-svg"), plan, {
  onTap: (seat, e) => {
    const next = new Set(e?.ctrlKey || e?.metaKey ? selected : []);
    if (selected.has(seat.id)) next.delete(seat.id); else next.add(seat.id);
    selected = next;
    show();
  },
  selecting: (e) => e.shiftKey,
  onBox: (box, e) => {
    const inside = map.seatsIn(box);
    selected = new Set(e.ctrlKey || e.metaKey ? [...selected, ...inside] : inside);
    show();
  },
  onHover: (seat) => { $("seats-hover").textContent = map.name(seat); },
});
$("zoom-in").addEventListener("click", () => map.zoom(1.25));
$("zoom-out").addEventListener("click", () => map.zoom(0.8));
$("fit").addEventListener("click", () => map.fit());

const response = await fetch(`/api/v1/events/${event}/seats`, { credentials: "same-origin" });
for (const seat of response.ok ? await response.json() : []) {
  if (seat.state !== "free") map.setState(seat.seat, seat.state);
}
$("seats").dataset.ready = "yes";

async function send(path, body, form = $("block-form")) {
  if (!selected.size) { showProblem(form, { detail: "Select the seats first." }); return; }
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": $("block-form").elements.csrf.value },
    credentials: "same-origin",
    body: JSON.stringify({ seats: [...selected], ...body }),
  }).catch(() => null);
  if (response?.ok) { location.reload(); return; }
  const problem = response ? await response.json().catch(() => ({})) : { detail: "The hub cannot be reached. Try again." };
  showProblem(form, problem.detail ? problem : { detail: `The hub answered ${response.status}.` });
}

$("block-form")?.addEventListener("submit", (e) => {
  e.preventDefault();
  send(`/api/v1/events/${event}/seats/block`, { reason: $("block-reason").value });
});
$("unblock-submit")?.addEventListener("click", () => send(`/api/v1/events/${event}/seats/unblock`, {}));
$("lease-form")?.addEventListener("submit", (e) => {
  e.preventDefault();
  const form = $("lease-form");
  const types = new Set([...selected].map((id) => categories[map.seats.get(id).category]));
  if (types.size > 1) {
    showProblem(form, { detail: "These seats sell as different ticket types: lease one type's seats at a time." });
    return;
  }
  const [ticketType] = types;
  const device = Number($("lease-device").value);
  send(`/api/v1/events/${event}/leases`, { device_id: device, ticket_type: ticketType, quantity: selected.size }, form);
});
