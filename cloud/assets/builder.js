// The console's seat-plan builder: the page around plan_edit.js. Every change goes through
// `change`, which keeps the plan as it was for undo, applies the edit and draws again; the
// plan is saved whole to the same API an integration uses (POST or PUT /api/v1/seat-plans,
// native format), whose refusal names the seat at fault.
//
// Keyboard: every tool is a form; on the plan, arrows move the selected seats (Shift: 25
// units), Delete removes them, Ctrl+A selects every seat, Escape clears; anywhere outside a
// text field, Ctrl+Z undoes and Ctrl+Shift+Z or Ctrl+Y redoes.

import { SeatMap } from "./seatmap.js";
import * as edit from "./plan_edit.js";

const $ = (id) => document.getElementById(id);
const root = $("builder");
const planId = Number(root.dataset.plan);
/** Most changes kept for undo (a 20,000-seat plan is about 2 MB of JSON a step). */
const HISTORY = 100;

let plan;
let map;
let selected = new Set();
const past = [];
const future = [];
let savedJson;

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Applies `what` to the plan as one step that undo takes back. */
function change(what) {
  past.push(JSON.stringify(plan));
  if (past.length > HISTORY) past.shift();
  future.length = 0;
  const { width, height } = plan.size;
  what(plan);
  edit.grow(plan);
  refresh();
  if (plan.size.width !== width || plan.size.height !== height) map.fit();
}

function travel(from, to) {
  if (!from.length) return;
  to.push(JSON.stringify(plan));
  plan = JSON.parse(from.pop());
  refresh();
}
const undo = () => travel(past, future);
const redo = () => travel(future, past);

function select(ids) {
  selected = new Set(ids);
  refresh(false);
}

/** Draws the plan again (when `drawn`) and brings every panel up to date. */
function refresh(drawn = true) {
  const ids = new Set(edit.seatsOf(plan).map((s) => s.seat.id));
  selected = new Set([...selected].filter((id) => ids.has(id)));
  if (drawn) map.draw(plan);
  for (const id of map.circles.keys()) map.setPicked(id, selected.has(id));
  $("plan-name").value = plan.name;
  $("undo").disabled = !past.length;
  $("redo").disabled = !future.length;
  const dirty = JSON.stringify(plan) !== savedJson;
  $("save-state").textContent = dirty ? "Not saved" : "Saved";
  showCounts();
  showRows();
  showExtras();
  showSelection();
  $("sections").innerHTML = plan.sections.map((s) => `<option value="${esc(s.name)}">`).join("");
  for (const select of document.querySelectorAll("select.categories")) {
    const was = select.value;
    select.innerHTML = plan.categories.map((c) => `<option value="${esc(c.name)}">${esc(c.name)}</option>`).join("");
    if (plan.categories.some((c) => c.name === was)) select.value = was;
  }
  const section = plan.sections.find((s) => s.name === $("row-section").value);
  $("row-label").value = edit.nextRowLabel(section);
  const place = edit.nextRowPlace(plan);
  $("row-x").value = place.x;
  $("row-y").value = place.y;
  const bottom = Math.max(0, ...edit.seatsOf(plan).map((s) => s.seat.y));
  $("area-y").value = Math.round(bottom + 40);
}

function showCounts() {
  const counts = edit.counts(plan);
  let seats = 0;
  let standing = 0;
  $("counts").tBodies[0].innerHTML = [...counts].map(([name, n]) => {
    seats += n.seats;
    standing += n.standing;
    const category = plan.categories.find((c) => c.name === name);
    const colour = category ? `<input type="color" value="${esc(category.color)}" data-colour="${esc(name)}" aria-label="Colour of ${esc(name)}">` : "missing";
    const remove = category && !n.seats && !n.standing
      ? `<button type="button" class="link" data-remove-category="${esc(name)}">Remove</button>` : "";
    return `<tr data-category="${esc(name)}"><td>${esc(name)}</td><td>${colour}</td><td class="num seats">${n.seats}</td><td class="num standing">${n.standing}</td><td>${remove}</td></tr>`;
  }).join("");
  $("total-seats").textContent = seats;
  $("total-standing").textContent = standing;
}

function showRows() {
  const items = [];
  plan.sections.forEach((section, s) => (section.rows ?? []).forEach((row, r) => {
    const all = row.seats.every((seat) => selected.has(seat.id));
    items.push(`<li><label><input type="checkbox" data-row="${s}:${r}"${all ? " checked" : ""}> ${esc(section.name)} · Row ${esc(row.label)} · ${row.seats.length} seats</label></li>`);
  }));
  $("rows").innerHTML = items.join("") || `<li class="muted">No rows yet.</li>`;
}

function showExtras() {
  const items = [];
  plan.sections.forEach((section, s) => (section.standing ?? []).forEach((area, a) => {
    items.push(`<li>Standing: ${esc(area.name)} (${esc(section.name)}, ${area.capacity} ${esc(area.category)}) <button type="button" class="link" data-remove-area="${s}:${a}">Remove</button></li>`);
  }));
  (plan.shapes ?? []).forEach((shape, i) => {
    items.push(`<li>${esc(shape.shape)}${shape.text ? ` “${esc(shape.text)}”` : ""} <button type="button" class="link" data-remove-shape="${i}">Remove</button></li>`);
  });
  $("extras").innerHTML = items.join("") || `<li class="muted">None yet.</li>`;
}

function showSelection() {
  const rows = edit.rowsWith(plan, selected);
  $("selection-count").textContent = selected.size
    ? `${selected.size} seat${selected.size === 1 ? "" : "s"} in ${rows.length} row${rows.length === 1 ? "" : "s"}`
    : "nothing selected";
  $("selection").disabled = !selected.size;
  const seats = edit.seatsOf(plan).filter((s) => selected.has(s.seat.id)).map((s) => s.seat);
  for (const flag of ["wheelchair", "companion", "restricted_view"]) {
    $(`toggle-${flag}`).setAttribute("aria-pressed", String(seats.length > 0 && seats.every((s) => s[flag])));
  }
  if (seats.length) {
    const ys = seats.map((s) => s.y);
    $("copy-dy").value = Math.round(Math.max(...ys) - Math.min(...ys) + edit.SPACING + 5);
  }
}

/** The form's fields as numbers where they are numbers. */
function fields(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === "number" ? (el.value === "" ? null : Number(el.value)) : el.value;
  }
  return out;
}

function onForm(id, handle) {
  $(id).addEventListener("submit", (e) => {
    e.preventDefault();
    handle(fields(e.target));
  });
}

function wire() {
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("zoom-in").addEventListener("click", () => map.zoom(1.25));
  $("zoom-out").addEventListener("click", () => map.zoom(0.8));
  $("fit").addEventListener("click", () => map.fit());
  $("save")?.addEventListener("click", save);
  $("download").addEventListener("click", (e) => {
    e.preventDefault();
    const file = new Blob([JSON.stringify(plan, null, 1)], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(file);
    a.download = `${plan.name || "seat-plan"}.json`;
    a.click();
  });
  $("plan-name").addEventListener("change", (e) => change((p) => { p.name = e.target.value.trim(); }));

  onForm("add-row", (f) => {
    const numbering = { order: f.order, scheme: f.scheme, start: f.start };
    const ids = [];
    change((p) => ids.push(...edit.addRow(p, { ...f, label: f.label.trim(), numbering })));
    select(ids);
  });
  onForm("add-category", (f) => {
    const name = f.name.trim();
    if (!name || plan.categories.some((c) => c.name === name)) return;
    change((p) => p.categories.push({ name, color: f.color }));
    $("add-category").reset();
  });
  onForm("add-area", (f) => change((p) => edit.addArea(p, f.section, {
    name: f.name, category: f.category, capacity: f.capacity, x: f.x, y: f.y, width: f.width, height: f.height,
  })));
  onForm("add-shape", (f) => change((p) => {
    if (f.shape === "text") edit.addShape(p, { shape: "text", x: f.x, y: f.y, text: f.text, size: 16 });
    else if (f.shape === "ellipse") edit.addShape(p, { shape: "ellipse", x: f.x, y: f.y, rx: f.width / 2, ry: f.height / 2, text: f.text });
    else edit.addShape(p, { shape: "rectangle", x: f.x, y: f.y, width: f.width, height: f.height, text: f.text });
  }));
  onForm("set-focus", (f) => change((p) => {
    if (f.x === null || f.y === null) delete p.focus;
    else p.focus = { x: f.x, y: f.y };
  }));

  $("apply-category").addEventListener("click", () => change((p) => edit.setSeats(p, selected, "category", $("selection-category").value)));
  for (const flag of ["wheelchair", "companion", "restricted_view"]) {
    const button = $(`toggle-${flag}`);
    button.addEventListener("click", () => {
      const on = button.getAttribute("aria-pressed") !== "true";
      change((p) => edit.setSeats(p, selected, flag, on));
    });
  }
  $("apply-curve").addEventListener("click", () => change((p) => {
    for (const row of edit.rowsWith(p, selected)) edit.curve(row, Number($("curve").value) || 0);
  }));
  $("apply-numbering").addEventListener("click", () => change((p) => {
    const numbering = { order: $("number-order").value, scheme: $("number-scheme").value, start: $("number-start").value };
    for (const row of edit.rowsWith(p, selected)) edit.renumber(row, numbering);
  }));
  $("copy-block").addEventListener("click", () => {
    const made = [];
    change((p) => made.push(...edit.copyRows(p, edit.rowsWith(p, selected), {
      dx: Number($("copy-dx").value) || 0, dy: Number($("copy-dy").value) || 0, rowLabels: $("copy-labels").value,
    })));
    select(made);
  });
  $("remove-selected").addEventListener("click", removeSelected);
  $("clear-selection").addEventListener("click", () => select([]));

  $("rows").addEventListener("change", (e) => {
    const [s, r] = e.target.dataset.row.split(":").map(Number);
    const ids = plan.sections[s].rows[r].seats.map((seat) => seat.id);
    const next = new Set(selected);
    for (const id of ids) if (e.target.checked) next.add(id); else next.delete(id);
    select(next);
  });
  $("extras").addEventListener("click", (e) => {
    const { removeArea, removeShape } = e.target.dataset;
    if (removeArea) {
      const [s, a] = removeArea.split(":").map(Number);
      change((p) => p.sections[s].standing.splice(a, 1));
    } else if (removeShape) {
      change((p) => p.shapes.splice(Number(removeShape), 1));
    }
  });
  $("counts").addEventListener("change", (e) => {
    const name = e.target.dataset.colour;
    if (name) change((p) => { p.categories.find((c) => c.name === name).color = e.target.value; });
  });
  $("counts").addEventListener("click", (e) => {
    const name = e.target.dataset.removeCategory;
    if (name) change((p) => { p.categories = p.categories.filter((c) => c.name !== name); });
  });
  $("row-section").addEventListener("change", () => refresh(false));

  $("plan-view").addEventListener("keydown", onPlanKey);
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.target.matches("input:not([type=checkbox]), textarea, select")) return;
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
    if ((key === "z" && e.shiftKey) || key === "y") { e.preventDefault(); redo(); }
  });
  window.addEventListener("beforeunload", (e) => {
    if (JSON.stringify(plan) !== savedJson) e.preventDefault();
  });
}

function removeSelected() {
  if (selected.size) change((p) => edit.removeSeats(p, selected));
}

function onPlanKey(e) {
  const step = e.shiftKey ? 25 : 5;
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  if (moves[e.key] && selected.size) {
    e.preventDefault();
    change((p) => edit.moveSeats(p, selected, ...moves[e.key]));
  } else if (e.key === "Delete" || e.key === "Backspace") {
    e.preventDefault();
    removeSelected();
  } else if (e.key === "Escape") {
    select([]);
  } else if (e.key === "a" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    select(edit.seatsOf(plan).map((s) => s.seat.id));
  }
}

function onTap(seat, e) {
  const next = new Set(e?.ctrlKey || e?.metaKey ? selected : []);
  if (selected.has(seat.id) && (e?.ctrlKey || e?.metaKey || selected.size === 1)) next.delete(seat.id);
  else next.add(seat.id);
  select(next);
  $("plan-view").focus();
}

function onBox(box, e) {
  const inside = map.seatsIn(box);
  select(e.ctrlKey || e.metaKey ? [...selected, ...inside] : inside);
  $("plan-view").focus();
}

/** The hub's refusal with the seat it names in words ("sections[0].rows[1].seats[2]" →
 * "Stalls · Row B · seat 3"). */
function explain(detail) {
  return detail.replace(/plan\.sections\[(\d+)\](?:\.rows\[(\d+)\](?:\.seats\[(\d+)\])?)?(\.\w+)?/, (whole, s, r, k, rest) => {
    const section = plan.sections[Number(s)];
    if (!section) return whole;
    const row = r === undefined ? null : section.rows?.[Number(r)];
    const seat = k === undefined ? null : row?.seats?.[Number(k)];
    const words = [section.name, row && `Row ${row.label}`, seat && `seat ${seat.label}`].filter(Boolean).join(" · ");
    return `${words}${rest ? ` (${rest.slice(1)})` : ""}`;
  });
}

async function save() {
  const body = JSON.stringify(plan);
  const error = $("save-error");
  error.hidden = true;
  $("save").disabled = true;
  try {
    const response = await fetch(planId ? `/api/v1/seat-plans/${planId}?format=native` : "/api/v1/seat-plans?format=native", {
      method: planId ? "PUT" : "POST",
      headers: { "content-type": "application/json", "x-csrf-token": $("csrf").value },
      credentials: "same-origin",
      body,
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) { location.assign("/login"); return; }
    if (!response.ok) throw new Error(explain(data.detail || `The hub answered ${response.status}.`));
    savedJson = body;
    if (!planId) { location.assign(`/seat-plans/${data.id}`); return; }
    refresh(false);
  } catch (e) {
    error.textContent = e instanceof TypeError ? "The hub cannot be reached. Check the connection and save again." : e.message;
    error.hidden = false;
  } finally {
    $("save").disabled = false;
  }
}

async function load() {
  if (!planId) return edit.blank();
  const response = await fetch(`/api/v1/seat-plans/${planId}`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`The plan could not be read (the hub answered ${response.status}).`);
  return (await response.json()).plan;
}

load().then((loaded) => {
  plan = loaded;
  savedJson = planId ? JSON.stringify(plan) : null;
  map = new SeatMap($("plan-svg"), plan, {
    onTap,
    onBox,
    selecting: (e) => e.shiftKey,
    onHover: (seat) => { $("plan-hover").textContent = `${map.name(seat)} · ${seat.category}`; },
  });
  wire();
  refresh(false);
  root.dataset.ready = "yes";
}).catch((e) => {
  $("save-error").textContent = e.message;
  $("save-error").hidden = false;
});
