// What the plan builder does to a plan: pure functions on sync-core's native plan (the JSON
// the hub stores: sections of rows of seats, standing areas, shapes), with no page in them.
// builder.js calls them on a copy and keeps the copies for undo.
//
// Seat ids are made once ("s1", "s2", …) and never change: relabelling, moving, curving or
// recategorising a seat keeps its id, which is what orders and tickets keep.

/** How far apart seats of a new row stand, and rows (plan units; a seat is 20 across). */
export const SPACING = 30;
/** The room left around what is drawn when the plan grows to hold it. */
const MARGIN = 40;

/** A plan with one category and one empty section: where a new hall starts. */
export function blank() {
  return {
    name: "New hall",
    size: { width: 800, height: 600 },
    categories: [{ name: "Standard", color: "#3b7dd8" }],
    sections: [{ name: "Stalls", rows: [] }],
    shapes: [],
  };
}

/** Every seat with its section and row: [{ seat, row, section }]. */
export function seatsOf(plan) {
  const all = [];
  for (const section of plan.sections) for (const row of section.rows ?? []) for (const seat of row.seats) all.push({ seat, row, section });
  return all;
}

/** Makes ids not yet used in the plan ("s1", "s2", …), seats and standing areas alike. */
export function idMaker(plan, prefix = "s") {
  const used = new Set(seatsOf(plan).map((s) => s.seat.id));
  for (const section of plan.sections) for (const area of section.standing ?? []) used.add(area.id);
  let n = 0;
  return () => {
    do n += 1; while (used.has(`${prefix}${n}`));
    used.add(`${prefix}${n}`);
    return `${prefix}${n}`;
  };
}

/**
 * The labels of a row of `n` seats, in the order they stand (left to right as drawn).
 * `order`: "ltr" (1 at the left) or "rtl" (1 at the right); `scheme`: "consecutive" (1, 2, 3),
 * "odd" (1, 3, 5) or "even" (2, 4, 6), as continental theatres number each side of the aisle;
 * `start`: the first number (odd and even move to the next one of their kind).
 */
export function labels(n, { order = "ltr", scheme = "consecutive", start = 1 } = {}) {
  let first = Math.max(0, Math.trunc(Number(start) || 0));
  const step = scheme === "consecutive" ? 1 : 2;
  if (scheme === "odd" && first % 2 === 0) first += 1;
  if (scheme === "even" && first % 2 === 1) first += 1;
  const out = Array.from({ length: n }, (_, i) => String(first + i * step));
  return order === "rtl" ? out.reverse() : out;
}

/** The label after `label` in its kind: "A" → "B", "Z" → "AA", "9" → "10"; else `label` + "'". */
export function nextLabel(label) {
  if (/^\d+$/.test(label)) return String(Number(label) + 1);
  if (/^[A-Z]+$/.test(label)) {
    const chars = label.split("");
    let i = chars.length - 1;
    while (i >= 0 && chars[i] === "Z") { chars[i] = "A"; i -= 1; }
    if (i < 0) return `A${chars.join("")}`;
    chars[i] = String.fromCharCode(chars[i].charCodeAt(0) + 1);
    return chars.join("");
  }
  return `${label}'`;
}

/** The label a new row of `section` gets: after its last row's ("A" for the first). */
export function nextRowLabel(section) {
  const rows = section?.rows ?? [];
  return rows.length ? nextLabel(rows[rows.length - 1].label) : "A";
}

/** The section named `name`, made (last) if there is none. */
export function sectionNamed(plan, name) {
  let section = plan.sections.find((s) => s.name === name);
  if (!section) {
    section = { name, rows: [] };
    plan.sections.push(section);
  }
  return section;
}

/**
 * Adds a row of `seats` seats, `spacing` apart, starting at (`x`, `y`), in `category`,
 * labelled as `numbering` says (see `labels`); returns the new seats' ids.
 */
export function addRow(plan, { section, label, seats, x, y, spacing = SPACING, category, numbering }) {
  const id = idMaker(plan);
  const names = labels(seats, numbering);
  const row = {
    label,
    seats: names.map((name, i) => ({ id: id(), label: name, x: round(x + i * spacing), y: round(y), category })),
  };
  sectionNamed(plan, section).rows.push(row);
  grow(plan);
  return row.seats.map((s) => s.id);
}

/** Where a new row goes by default: one row behind the last one drawn, or near the top. */
export function nextRowPlace(plan) {
  const all = seatsOf(plan);
  if (!all.length) return { x: 60, y: 120 };
  const last = all[all.length - 1].row;
  return { x: round(Math.min(...last.seats.map((s) => s.x))), y: round(Math.max(...last.seats.map((s) => s.y)) + SPACING + 5) };
}

/** The rows with at least one seat in `ids`, in plan order. */
export function rowsWith(plan, ids) {
  const rows = [];
  for (const section of plan.sections) {
    for (const row of section.rows ?? []) if (row.seats.some((s) => ids.has(s.id))) rows.push(row);
  }
  return rows;
}

/**
 * Bends `row` by `amount` plan units: its first and last seats stay, the others stand evenly
 * between them and move off that line by up to `amount` in the middle (a parabola; positive:
 * away from the stage at the top, as rows fan around a stage). 0 makes it straight again.
 */
export function curve(row, amount) {
  const n = row.seats.length;
  if (n < 3) { row.curve = 0; return; }
  const a = row.seats[0];
  const b = row.seats[n - 1];
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  // The normal that points down for a row drawn left to right.
  const nx = -dy / length;
  const ny = dx / length;
  row.seats.forEach((seat, i) => {
    const t = i / (n - 1);
    const bend = amount * (1 - (2 * t - 1) ** 2);
    seat.x = round(a.x + dx * t + nx * bend);
    seat.y = round(a.y + dy * t + ny * bend);
  });
  row.curve = Number(amount) || 0;
  if (!row.curve) delete row.curve;
}

/** Labels `row`'s seats afresh (see `labels`). */
export function renumber(row, numbering) {
  labels(row.seats.length, numbering).forEach((label, i) => { row.seats[i].label = label; });
}

/**
 * Copies `rows` (a block) `dx`, `dy` away, into the same sections, with new ids; `rowLabels`:
 * "same" (the other side of an aisle) or "next" (behind: the labels after the section's last).
 * Returns the new seats' ids.
 */
export function copyRows(plan, rows, { dx, dy, rowLabels = "next" }) {
  const id = idMaker(plan);
  const made = [];
  for (const section of plan.sections) {
    const copies = (section.rows ?? []).filter((r) => rows.includes(r)).map((row) => ({
      label: row.label,
      ...(row.curve ? { curve: row.curve } : {}),
      seats: row.seats.map((s) => ({ ...s, id: id(), x: round(s.x + dx), y: round(s.y + dy) })),
    }));
    for (const copy of copies) {
      if (rowLabels === "next") copy.label = nextRowLabel(section);
      section.rows.push(copy);
      made.push(...copy.seats.map((s) => s.id));
    }
  }
  grow(plan);
  return made;
}

/** Sets field `key` of the seats in `ids` to `value` (category, wheelchair, …). */
export function setSeats(plan, ids, key, value) {
  for (const { seat } of seatsOf(plan)) {
    if (!ids.has(seat.id)) continue;
    if (value === false) delete seat[key];
    else seat[key] = value;
  }
}

/** Moves the seats in `ids` by (`dx`, `dy`), not past the plan's top or left edge. */
export function moveSeats(plan, ids, dx, dy) {
  const moving = seatsOf(plan).filter((s) => ids.has(s.seat.id)).map((s) => s.seat);
  const least = (k) => Math.min(...moving.map((s) => s[k]));
  const mx = Math.max(dx, MARGIN / 2 - least("x"));
  const my = Math.max(dy, MARGIN / 2 - least("y"));
  for (const seat of moving) { seat.x = round(seat.x + mx); seat.y = round(seat.y + my); }
  grow(plan);
}

/** Removes the seats in `ids`, and rows left empty. */
export function removeSeats(plan, ids) {
  for (const section of plan.sections) {
    for (const row of section.rows ?? []) row.seats = row.seats.filter((s) => !ids.has(s.id));
    section.rows = (section.rows ?? []).filter((r) => r.seats.length);
  }
}

/** Adds a standing area to section `section`; returns its id. */
export function addArea(plan, section, area) {
  const id = idMaker(plan, "ga")();
  const target = sectionNamed(plan, section);
  target.standing = [...(target.standing ?? []), { id, ...area }];
  grow(plan);
  return id;
}

/** Adds a shape (rectangle, ellipse or text, as the plan format spells them). */
export function addShape(plan, shape) {
  plan.shapes = [...(plan.shapes ?? []), shape];
  grow(plan);
}

/** Seats and standing places per category, every category listed: name → { seats, standing }. */
export function counts(plan) {
  const out = new Map(plan.categories.map((c) => [c.name, { seats: 0, standing: 0 }]));
  const of = (name) => {
    if (!out.has(name)) out.set(name, { seats: 0, standing: 0 });
    return out.get(name);
  };
  for (const { seat } of seatsOf(plan)) of(seat.category).seats += 1;
  for (const section of plan.sections) for (const area of section.standing ?? []) of(area.category).standing += area.capacity;
  return out;
}

/** Sizes the plan to what is in it, with a margin (an empty plan keeps its size). */
export function grow(plan) {
  let width = 0;
  let height = 0;
  const reach = (x, y) => { width = Math.max(width, x); height = Math.max(height, y); };
  for (const { seat } of seatsOf(plan)) reach(seat.x + 10, seat.y + 10);
  for (const section of plan.sections) for (const a of section.standing ?? []) reach(a.x + a.width, a.y + a.height);
  for (const s of plan.shapes ?? []) {
    if (s.shape === "rectangle") reach(s.x + s.width, s.y + s.height);
    else if (s.shape === "ellipse") reach(s.x + s.rx, s.y + s.ry);
    else if (s.shape === "polygon") for (const p of s.points) reach(p.x, p.y);
    else reach(s.x + (s.text?.length ?? 0) * (s.size ?? 16) * 0.6, s.y);
  }
  if (!width && !height) return;
  plan.size.width = Math.max(200, Math.ceil(width + MARGIN));
  plan.size.height = Math.max(200, Math.ceil(height + MARGIN));
}

function round(v) {
  return Math.round(v * 10) / 10;
}
