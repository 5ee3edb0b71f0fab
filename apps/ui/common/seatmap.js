// A seat plan drawn as one SVG (sync-core's `seating::Plan`: sections of rows of seats,
// standing areas, shapes), zoomed and panned through its viewBox: the wheel, two fingers, the
// + and − buttons, a drag. A tap (a press that did not move) on a seat calls `onTap(seat)`;
// a drag that `options.selecting(event)` claims (the builder: with Shift held) draws a box and
// calls `onBox({x, y, width, height}, event)` instead of panning.
// Shared by the hub's shop, the console's plan builder and the box office. Colours are SVG
// presentation attributes, never inline styles: the apps' content security policy refuses
// those, and seatmap.css's state classes (taken, held) still win over them.
//
// The drawing is built as one string and set at once (a 20,000-seat plan is 20,000 circles,
// which the browser parses far faster than it would take them one by one). Seat labels are
// drawn only for the seats in view, and only while at most LABELS_IN_VIEW are: a whole arena
// at once would be unreadable anyway, and its 20,000 texts would double the drawing's cost.
// A seat's name shows in `options.onHover` rather than 20,000 tooltips.

const RADIUS = 10; // sync-core's SEAT_RADIUS
const TAP_SLOP = 6; // pixels a press may move and still be a tap
const LABELS_IN_VIEW = 3000;

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shapeMarkup(s) {
  const text = (x, y) => (s.text ? `<text class="shape-text" x="${x}" y="${y}" font-size="16">${esc(s.text)}</text>` : "");
  const fill = s.color ? ` fill="${esc(s.color)}"` : "";
  switch (s.shape) {
    case "rectangle":
      return `<g transform="rotate(${Number(s.rotation) || 0} ${s.x} ${s.y})"><rect class="shape" x="${s.x}" y="${s.y}" width="${s.width}" height="${s.height}"${fill}/>${text(s.x + s.width / 2, s.y + s.height / 2)}</g>`;
    case "ellipse":
      return `<ellipse class="shape" cx="${s.x}" cy="${s.y}" rx="${s.rx}" ry="${s.ry}"${fill}/>${text(s.x, s.y)}`;
    case "polygon": {
      const points = s.points.map((p) => `${p.x},${p.y}`).join(" ");
      const cx = s.points.reduce((a, p) => a + p.x, 0) / s.points.length;
      const cy = s.points.reduce((a, p) => a + p.y, 0) / s.points.length;
      return `<polygon class="shape" points="${points}"${fill}/>${text(cx, cy)}`;
    }
    case "text":
      return `<text class="shape-text" x="${s.x}" y="${s.y}" font-size="${Number(s.size) || 16}">${esc(s.text)}</text>`;
    default:
      return "";
  }
}

export class SeatMap {
  /**
   * Draws `plan` into `svg`. `options.words` names things for the seats' tooltips
   * ({ wheelchair }); `options.onTap(seat, event)` gets { id, label, row, section, category }.
   */
  constructor(svg, plan, options = {}) {
    const began = performance.now();
    this.svg = svg;
    this.onTap = options.onTap ?? (() => {});
    this.onHover = options.onHover ?? (() => {});
    this.selecting = options.selecting ?? (() => false);
    this.onBox = options.onBox ?? (() => {});
    this.words = options.words ?? {};
    /** Seats not free: id → state. */
    this.states = new Map();
    this.draw(plan);
    this.fit();
    this.listen();
    /** How long drawing took (ms): what the page reports for the 20,000-seat measurement. */
    this.drawnMs = performance.now() - began;
  }

  /** Draws `plan` (again: the builder calls it after every change), keeping the view and
   * the seats' states. */
  draw(plan) {
    const svg = this.svg;
    this.plan = plan;
    const colour = new Map(plan.categories.map((c) => [c.name, c.color]));
    this.seats = new Map();
    const parts = (plan.shapes ?? []).map(shapeMarkup);
    for (const section of plan.sections ?? []) {
      for (const area of section.standing ?? []) {
        parts.push(`<rect class="area" x="${area.x}" y="${area.y}" width="${area.width}" height="${area.height}" fill="${esc(colour.get(area.category) ?? "#999")}" stroke="${esc(colour.get(area.category) ?? "#999")}"/><text class="area-text" x="${area.x + area.width / 2}" y="${area.y + area.height / 2}" font-size="16">${esc(area.name)}</text>`);
      }
      for (const row of section.rows ?? []) {
        // The row's label before its first seat, as ushers and buyers look for it.
        const [first, second] = row.seats;
        if (first) {
          const dx = second ? Math.sign(first.x - second.x) || -1 : -1;
          parts.push(`<text class="row-label" x="${first.x + dx * (RADIUS * 2.2)}" y="${first.y}">${esc(row.label)}</text>`);
        }
        for (const seat of row.seats) {
          const info = { id: seat.id, label: seat.label, row: row.label, section: section.name, category: seat.category, wheelchair: !!seat.wheelchair, x: seat.x, y: seat.y };
          this.seats.set(seat.id, info);
          const marks = `${seat.companion ? " companion" : ""}${seat.restricted_view ? " restricted" : ""}`;
          parts.push(`<circle class="seat${marks}" data-id="${esc(seat.id)}" cx="${seat.x}" cy="${seat.y}" r="${RADIUS}" fill="${esc(colour.get(seat.category) ?? "#888")}"/>`);
          if (seat.wheelchair) parts.push(`<text class="access" x="${seat.x}" y="${seat.y - RADIUS - 2}">♿</text>`);
        }
      }
    }
    parts.push(`<g class="labels"></g>`);
    svg.innerHTML = parts.join("");
    this.labels = svg.lastElementChild;
    this.circles = new Map([...svg.querySelectorAll("circle.seat")].map((c) => [c.dataset.id, c]));
    const states = [...this.states];
    this.states.clear();
    for (const [id, state] of states) this.setState(id, state);
    if (this.box) this.view(this.box.x, this.box.y, this.box.width, this.box.height);
  }

  /** Seat `id` is now `state` (free, held, sold, blocked, leased: all but free and held are
   * taken). */
  setState(id, state) {
    const circle = this.circles.get(id);
    if (!circle || (this.states.get(id) ?? "free") === state) return;
    circle.classList.toggle("held", state === "held");
    circle.classList.toggle("taken", state !== "free" && state !== "held");
    circle.classList.toggle("leased", state === "leased");
    if (state === "free") this.states.delete(id);
    else this.states.set(id, state);
  }

  /** Every seat in `states` ({id: state}) as it says, every other free (touching only the
   * seats whose state changes). */
  resetStates(states) {
    for (const id of [...this.states.keys()]) if (!(id in states)) this.setState(id, "free");
    for (const [id, state] of Object.entries(states)) this.setState(id, state);
  }

  isFree(id) {
    return this.circles.has(id) && !this.states.has(id);
  }

  /** "Stalls · Row B · Seat 4" (+ wheelchair space). */
  name(seat) {
    const access = seat.wheelchair ? ` · ${this.words.wheelchair ?? "wheelchair space"}` : "";
    return `${seat.section} · Row ${seat.row} · Seat ${seat.label}${access}`;
  }

  /** Labels for the seats in view, if few enough are to read them. */
  drawLabels() {
    const { x, y, width, height } = this.box;
    const inView = [];
    for (const s of this.seats.values()) {
      if (s.x >= x && s.x <= x + width && s.y >= y && s.y <= y + height) {
        inView.push(s);
        if (inView.length > LABELS_IN_VIEW) break;
      }
    }
    this.labels.innerHTML = inView.length > LABELS_IN_VIEW
      ? ""
      : inView.map((s) => `<text class="seat-label" x="${s.x}" y="${s.y}">${esc(s.label)}</text>`).join("");
  }

  /** The ids of the seats whose centre is inside `box` (plan units), as `onBox` gives it. */
  seatsIn(box) {
    return [...this.seats.values()]
      .filter((s) => s.x >= box.x && s.x <= box.x + box.width && s.y >= box.y && s.y <= box.y + box.height)
      .map((s) => s.id);
  }

  setPicked(id, picked) {
    this.circles.get(id)?.classList.toggle("picked", picked);
  }

  view(x, y, width, height) {
    this.box = { x, y, width, height };
    this.svg.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
    if (!this.labelsDue) {
      this.labelsDue = true;
      requestAnimationFrame(() => { this.labelsDue = false; this.drawLabels(); });
    }
  }

  fit() {
    this.view(0, 0, this.plan.size.width, this.plan.size.height);
  }

  /** Zooms by `factor` (> 1: closer) about the plan point (cx, cy), by default the middle. */
  zoom(factor, cx = this.box.x + this.box.width / 2, cy = this.box.y + this.box.height / 2) {
    const most = this.plan.size.width * 1.5;
    const least = Math.min(this.plan.size.width, 300) / 4;
    const width = Math.min(most, Math.max(least, this.box.width / factor));
    const scale = width / this.box.width;
    const height = this.box.height * scale;
    this.view(cx - (cx - this.box.x) * scale, cy - (cy - this.box.y) * scale, width, height);
  }

  /** Plan units per screen pixel, and the plan point under client point (x, y). */
  toPlan(x, y) {
    const r = this.svg.getBoundingClientRect();
    // The drawing keeps its aspect (xMidYMid meet): one scale, centred.
    const scale = Math.max(this.box.width / r.width, this.box.height / r.height);
    const offX = (r.width * scale - this.box.width) / 2;
    const offY = (r.height * scale - this.box.height) / 2;
    return { scale, x: this.box.x - offX + (x - r.left) * scale, y: this.box.y - offY + (y - r.top) * scale };
  }

  listen() {
    const svg = this.svg;
    const pointers = new Map();
    let gesture = null;
    svg.addEventListener("pointerdown", (e) => {
      svg.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      const [a, b] = [...pointers.values()];
      if (!b && this.selecting(e)) {
        const from = this.toPlan(e.clientX, e.clientY);
        const band = document.createElementNS("http://www.w3.org/2000/svg", "rect");
        band.setAttribute("class", "band");
        svg.append(band);
        gesture = { from, band, moved: true };
        return;
      }
      gesture = b
        ? { pinch: Math.hypot(a.x - b.x, a.y - b.y), box: { ...this.box }, moved: true }
        : { start: { x: e.clientX, y: e.clientY }, box: { ...this.box }, moved: false, target: e.target };
    });
    const bandBox = (g, e) => {
      const to = this.toPlan(e.clientX, e.clientY);
      return { x: Math.min(g.from.x, to.x), y: Math.min(g.from.y, to.y), width: Math.abs(to.x - g.from.x), height: Math.abs(to.y - g.from.y) };
    };
    svg.addEventListener("pointermove", (e) => {
      if (!pointers.has(e.pointerId) || !gesture) return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      const [a, b] = [...pointers.values()];
      if (gesture.band) {
        const r = bandBox(gesture, e);
        for (const [k, v] of Object.entries(r)) gesture.band.setAttribute(k, v);
      } else if (gesture.pinch && b) {
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        const mid = this.toPlan((a.x + b.x) / 2, (a.y + b.y) / 2);
        this.view(gesture.box.x, gesture.box.y, gesture.box.width, gesture.box.height);
        this.zoom(distance / gesture.pinch, mid.x, mid.y);
      } else if (gesture.start) {
        const dx = e.clientX - gesture.start.x;
        const dy = e.clientY - gesture.start.y;
        if (Math.hypot(dx, dy) > TAP_SLOP) gesture.moved = true;
        if (gesture.moved) {
          const { scale } = this.toPlan(0, 0);
          this.view(gesture.box.x - dx * scale, gesture.box.y - dy * scale, gesture.box.width, gesture.box.height);
        }
      }
    });
    const end = (e) => {
      pointers.delete(e.pointerId);
      if (gesture?.band) {
        gesture.band.remove();
        if (e.type === "pointerup") this.onBox(bandBox(gesture, e), e);
      } else if (gesture && !gesture.moved && e.type === "pointerup") {
        const circle = gesture.target.closest?.("circle.seat");
        if (circle) this.onTap(this.seats.get(circle.dataset.id), e);
      }
      gesture = null;
    };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointerover", (e) => {
      const circle = e.target.closest?.("circle.seat");
      if (circle) this.onHover(this.seats.get(circle.dataset.id));
    });
    svg.addEventListener("pointercancel", end);
    svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const at = this.toPlan(e.clientX, e.clientY);
      this.zoom(e.deltaY < 0 ? 1.25 : 0.8, at.x, at.y);
    }, { passive: false });
  }
}
