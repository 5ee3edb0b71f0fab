// The scanner's screen. Everything is decided in Rust (sync-core); this file shows it.
// Invariants: the wedge input holds focus whenever the scan screen shows; a verdict returns to
// "Ready" by itself; errors are the sentences Rust wrote for staff, never raw exceptions.

import { renderBadge } from "../common/badge.js";
import { renderRemoved } from "../common/removed.js";

const invoke = window.__TAURI__.core.invoke;
const $ = (id) => document.getElementById(id);
const offset = () => -new Date().getTimezoneOffset(); // minutes east of UTC, as Rust wants it

let status = null;
let camera = { state: "off" };
let pin = null;           // kept only while the settings are open (or right after enrollment)
let verdictTimer = null;
let settingsOpen = false;
let reenrolling = false;  // a removed device, being enrolled again

// ---------- screens ------------------------------------------------------------------------

let announcedReady = false;
function show(screen) {
  for (const id of ["removed-screen", "enroll-screen", "settings-screen", "scan-screen"]) $(id).hidden = id !== screen;
  if (!previewing) pumpPreview();
  if (screen === "scan-screen") {
    focusWedge();
    if (!announcedReady) {
      announcedReady = true;
      // After the next paint: "ready" means staff can see the scan screen.
      requestAnimationFrame(() => setTimeout(() => invoke("ready"), 0));
    }
  }
}

function focusWedge() {
  if (!$("scan-screen").hidden && $("manual-form").hidden) $("wedge").focus({ preventScroll: true });
}

function route() {
  if (status.removed && !reenrolling) {
    renderRemoved(status.removed, "scan tickets", () => { reenrolling = true; route(); });
    invoke("kiosk");  // its settings are gone: the window is an ordinary one again
    return show("removed-screen");
  }
  if (!status.enrolled) return show("enroll-screen");
  if (settingsOpen || !status.ready) return openSettings();
  show("scan-screen");
}

// ---------- status: polled once a second (local IPC, cheap) ---------------------------------

async function refresh() {
  [status, camera] = await Promise.all([invoke("status", { offset: offset() }), invoke("camera")]);
  renderBar();
  renderCamera();
  // Removed by the organizer (the hub's notice arrived): nothing else shows.
  if (status.removed && !reenrolling && $("removed-screen").hidden) route();
  if (!$("scan-screen").hidden) renderLists();
  if (!$("settings-screen").hidden && !$("settings-form").hidden) fillChoices(false);
  if (!$("settings-screen").hidden) renderDeviceName();
  return status;
}

function renderBar() {
  $("place").textContent = status.removed ? "Removed by the organizer"
    : status.place || (status.enrolled ? "Choose event and gate" : "Not set up");
  renderBadge(status.enrolled ? status.badge : null);
}

function renderLists() {
  $("admitted").textContent = status.admitted;
  $("inside").textContent = status.inside;
  const recent = $("recent");
  recent.replaceChildren(...status.recent.map((r) => {
    const li = document.createElement("li");
    li.className = r.colour;
    li.dataset.code = r.code;
    const mark = document.createElement("span"); mark.className = "mark";
    const time = document.createElement("time"); time.textContent = r.time;
    const text = document.createElement("span");
    text.textContent = r.seat ? `${r.title} — ${r.seat} — ${r.reason}` : `${r.title} — ${r.reason}`;
    li.append(mark, time, text);
    return li;
  }));
  $("doubles").hidden = status.doubles.length === 0;
  $("doubles-list").replaceChildren(...status.doubles.map((d) => {
    const li = document.createElement("li"); li.textContent = d; return li;
  }));
}

// ---------- camera: decoded in Rust, off the UI thread; the preview is a JPEG per load ----------

const previewUrl = window.__TAURI__.core.convertFileSrc("frame", "camera");
let previewing = false;
let previewCount = 0;

function visiblePreview() {
  if (camera.state !== "running") return null;
  return [...document.querySelectorAll("img.preview")].find((img) => !img.parentElement.closest("[hidden]")) ?? null;
}

// One frame at a time: the next is asked for when the last has loaded, so a slow machine
// shows fewer frames, never a growing backlog.
function pumpPreview() {
  const img = visiblePreview();
  previewing = img !== null;
  if (!img) return;
  img.onload = () => { img.hidden = false; setTimeout(pumpPreview, 30); };
  img.onerror = () => setTimeout(pumpPreview, 100);
  img.src = `${previewUrl}?n=${++previewCount}`;
}

function renderCamera() {
  if (camera.state !== "running") for (const img of document.querySelectorAll("img.preview")) img.hidden = true;
  $("camera-note").hidden = !camera.message;
  $("camera-note").textContent = camera.message ?? "";
  if (!previewing) pumpPreview();
}

// A code the camera read takes the hand scanner's path: a ticket on the scan screen, the
// enrollment code on the enrollment screen (the PIN still has to be typed).
window.__TAURI__.event.listen("camera-code", ({ payload }) => {
  if (!$("scan-screen").hidden && $("manual-form").hidden) {
    scan(payload);
  } else if (!$("enroll-screen").hidden && !$("enroll-submit").disabled) {
    $("enroll-text").value = payload;
    $("enroll-error").textContent = "";
    $("enroll-pin").focus();
  }
});

// ---------- scanning -----------------------------------------------------------------------

const tones = { green: [[880, 0.12]], amber: [[520, 0.12], [520, 0.12]], red: [[220, 0.45]] };
let audio = null;
function beep(colour) {
  try {
    audio ??= new AudioContext();
    let t = audio.currentTime;
    for (const [freq, len] of tones[colour] || []) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = colour === "red" ? "square" : "sine";
      osc.frequency.value = freq;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(audio.destination);
      osc.start(t); osc.stop(t + len);
      t += len + 0.06;
    }
  } catch { /* no sound device: the colour still shows */ }
}

// `seat`: a seated ticket's "Stalls · Row F · Seat 12", large, so staff can point the way.
function showVerdict(colour, title, reason, code, seat) {
  const v = $("verdict");
  v.className = colour;
  v.dataset.code = code;
  $("verdict-title").textContent = title;
  $("verdict-seat").textContent = seat || "";
  $("verdict-seat").hidden = !seat;
  $("verdict-reason").textContent = reason;
  clearTimeout(verdictTimer);
  if (colour !== "ready") {
    verdictTimer = setTimeout(() => showVerdict("ready", "Ready", "Scan a ticket", "ready"), status.verdict_ms);
  }
}

async function scan(text) {
  if (!text) return;
  try {
    const shown = await invoke("scan", { text, offset: offset() });
    showVerdict(shown.colour, shown.title, shown.reason, shown.code, shown.seat);
    beep(shown.colour);
  } catch (message) {
    // Nothing was recorded: say so plainly, in amber (staff act: scan again).
    showVerdict("amber", "Not checked", String(message), "not_checked");
    beep("amber");
  }
  await refresh();
}

// A hardware scanner types the code and ends it with CR or LF (Enter).
$("wedge").addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    const text = $("wedge").value;
    $("wedge").value = "";
    scan(text);
  }
});
$("wedge").addEventListener("blur", () => setTimeout(focusWedge, 0));
document.addEventListener("click", () => setTimeout(focusWedge, 0));

$("manual-open").addEventListener("click", (e) => {
  e.stopPropagation();
  $("manual-form").hidden = false;
  $("manual-text").focus();
});
$("manual-cancel").addEventListener("click", () => { $("manual-form").hidden = true; focusWedge(); });
$("manual-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("manual-text").value.trim();
  $("manual-text").value = "";
  $("manual-form").hidden = true;
  scan(text);
});

// ---------- enrollment ---------------------------------------------------------------------

$("enroll-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("enroll-error").textContent = "";
  $("enroll-submit").disabled = true;
  try {
    const hub = $("enroll-hub").value.trim();
    status = await invoke("enroll", {
      text: $("enroll-text").value, hubUrl: hub || null, pin: $("enroll-pin").value, offset: offset(),
    });
    reenrolling = false;
    pin = $("enroll-pin").value;  // straight on to choosing the gate, without asking again
    settingsOpen = true;
    route();
  } catch (message) {
    $("enroll-error").textContent = String(message);
  } finally {
    $("enroll-submit").disabled = false;
  }
});

// ---------- settings -----------------------------------------------------------------------

function openSettings() {
  show("settings-screen");
  const unlocked = pin !== null;
  $("unlock-form").hidden = unlocked;
  $("settings-form").hidden = !unlocked;
  $("settings-close").hidden = !status.ready;
  renderDeviceName();
  if (unlocked) fillChoices(true); else $("unlock-pin").focus();
}

// Which device this is, as the organizer named it (renamed from the console at the next sync).
function renderDeviceName() {
  $("device-name").textContent = status.device_name ? `This device: ${status.device_name}` : "";
}

function option(value, label, selected) {
  const o = document.createElement("option");
  o.value = value; o.textContent = label; o.selected = selected;
  return o;
}

// Fills the event and gate lists; `initial` also sets the fields from the saved settings.
function fillChoices(initial) {
  const eventSel = $("event"), gateSel = $("gate");
  const keepEvent = initial ? status.event : Number(eventSel.value) || status.event;
  const keepGate = initial ? status.gate : Number(gateSel.value) || status.gate;
  const signature = JSON.stringify(status.events);
  if (initial || eventSel.dataset.signature !== signature) {
    eventSel.dataset.signature = signature;
    eventSel.replaceChildren(...status.events.map((ev) => option(ev.id, ev.name, ev.id === keepEvent)));
    const event = status.events.find((ev) => ev.id === Number(eventSel.value));
    const gates = event ? event.gates : [];
    gateSel.replaceChildren(...gates.map((g) => option(g.id, g.name, g.id === keepGate)));
  }
  const waiting = (status.events.find((ev) => ev.id === Number(eventSel.value))?.gates.length ?? 0) === 0;
  $("settings-wait").hidden = !waiting;
  $("settings-save").disabled = waiting;
  if (initial) {
    $(status.direction === "exit" ? "direction-exit" : "direction-entry").checked = true;
    $("verdict-seconds").value = status.verdict_ms / 1000;
    $("peer-port").value = status.peer_port ?? "";
    $("peer-address").value = status.peer_address ?? "";
    $("kiosk").checked = status.kiosk;
  }
}

$("event").addEventListener("change", () => { $("event").dataset.signature = ""; fillChoices(false); });

$("unlock-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("unlock-error").textContent = "";
  try {
    await invoke("unlock", { pin: $("unlock-pin").value });
    pin = $("unlock-pin").value;
    $("unlock-pin").value = "";
    $("unlock-error").textContent = "";
    openSettings();
  } catch (message) {
    $("unlock-error").textContent = String(message);
  }
});

$("settings-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("settings-error").textContent = "";
  const port = $("peer-port").value.trim();
  const choice = {
    event: Number($("event").value),
    gate: Number($("gate").value),
    direction: $("direction-exit").checked ? "exit" : "entry",
    verdict_ms: Math.round(Number($("verdict-seconds").value) * 1000),
    peer_port: port ? Number(port) : null,
    peer_address: $("peer-address").value.trim() || null,
    kiosk: $("kiosk").checked,
  };
  try {
    status = await invoke("configure", { pin, choice, offset: offset() });
    renderBar();
    closeSettings();
  } catch (message) {
    $("settings-error").textContent = String(message);
  }
});

$("quit").addEventListener("click", async () => {
  try {
    await invoke("quit", { pin });
  } catch (message) {
    $("settings-error").textContent = String(message);
  }
});

// A kiosk offers no menu of the web view's own (reload, back, inspect).
document.addEventListener("contextmenu", (e) => { if (status?.kiosk) e.preventDefault(); });

function closeSettings() {
  pin = null;
  settingsOpen = false;
  $("unlock-form").hidden = false;
  $("settings-form").hidden = true;
  route();
}
$("settings-close").addEventListener("click", closeSettings);
$("settings-open").addEventListener("click", (e) => { e.stopPropagation(); settingsOpen = true; route(); });

// ---------- start --------------------------------------------------------------------------

await refresh();
route();
setInterval(refresh, 1000);
