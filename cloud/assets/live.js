// The live dashboard: figures and the per-minute chart from the hub's server-sent events.
// EventSource reconnects by itself; the badge says when the stream is down.

const root = document.getElementById("live");
const state = document.getElementById("live-state");
const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2"];
const MINUTES = 60;

function setState(name, text) { state.dataset.state = name; state.textContent = text; }

function svg(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// One line per gate over the last hour (minute 0 is now, at the right).
function drawChart(perMinute) {
  const chart = document.getElementById("chart");
  const gates = [...new Set(perMinute.map((p) => p.gate))].sort();
  const max = Math.max(1, ...perMinute.map((p) => p.count));
  const W = 600, H = 200, left = 30, bottom = 20;
  const x = (ago) => left + ((MINUTES - 1 - ago) / (MINUTES - 1)) * (W - left - 10);
  const y = (n) => H - bottom - (n / max) * (H - bottom - 10);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", preserveAspectRatio: "none" });
  root.append(svg("line", { x1: left, y1: H - bottom, x2: W - 10, y2: H - bottom, stroke: "#999" }));
  const top = svg("text", { x: 2, y: 14, "font-size": 11 }); top.textContent = String(max); root.append(top);
  const zero = svg("text", { x: 2, y: H - bottom, "font-size": 11 }); zero.textContent = "0"; root.append(zero);
  const now = svg("text", { x: W - 40, y: H - 4, "font-size": 11 }); now.textContent = "now"; root.append(now);
  const hour = svg("text", { x: left, y: H - 4, "font-size": 11 }); hour.textContent = "−60 min"; root.append(hour);
  const legend = document.createElement("p");
  legend.className = "legend";
  gates.forEach((gate, i) => {
    const counts = new Array(MINUTES).fill(0);
    for (const p of perMinute) if (p.gate === gate && p.ago >= 0 && p.ago < MINUTES) counts[p.ago] = p.count;
    const points = counts.map((n, ago) => `${x(ago).toFixed(1)},${y(n).toFixed(1)}`).join(" ");
    const color = COLORS[i % COLORS.length];
    root.append(svg("polyline", { points, fill: "none", stroke: color, "stroke-width": 2, "data-gate": gate }));
    const key = document.createElement("span");
    key.style.color = color;
    key.textContent = `■ ${gate || "unknown gate"} `;
    legend.append(key);
  });
  chart.replaceChildren(root, legend);
}

function render(s) {
  document.getElementById("admitted").textContent = s.admitted;
  document.getElementById("inside").textContent = s.inside;
  document.getElementById("sold-today").textContent = s.sold_today;
  const doubles = document.getElementById("double-admissions");
  doubles.textContent = s.double_admissions;
  doubles.classList.toggle("alarm", s.double_admissions > 0);
  drawChart(s.per_minute);
  const offline = document.getElementById("offline");
  offline.replaceChildren(...(s.offline.length ? s.offline.map((d) => {
    const li = document.createElement("li");
    li.textContent = d.minutes === null ? `${d.name}: never synced` : `${d.name}: last seen ${d.minutes} min ago`;
    return li;
  }) : [Object.assign(document.createElement("li"), { className: "muted", textContent: "None." })]));
  root.dataset.updated = String(s.at);
  setState("live", "Live");
}

const source = new EventSource(root.dataset.stream);
source.onmessage = (e) => render(JSON.parse(e.data));
source.addEventListener("unavailable", () => setState("stale", "The hub cannot read the figures; retrying"));
source.onerror = () => setState("stale", "Reconnecting…");
