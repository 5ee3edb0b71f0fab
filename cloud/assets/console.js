// The console's forms: each <form data-api="/api/v1/..."> is sent to that API endpoint as
// JSON, with the session's CSRF token (the form's hidden "csrf" input) as x-csrf-token.
// A refusal's problem details name the field at fault: the message is shown beside it.
//
//   data-method="DELETE"   another method than POST
//   data-then="/events/{id}"  where to go on success ({x} from the answer); else reload
//   data-show="element-id" on success, fill that element ([data-field] text, [data-html-field]
//                          markup the hub made) and show it, instead of leaving the page
//   data-confirm="…"       destructive: ask in place first
//   data-upload            send the form's chosen file as the body (application/octet-stream)
//   data-keep              with data-show: leave the form as it is (else it is reset)
//
// A submit button may carry its own data-api, data-method, data-show and data-keep (a form
// with two actions: save, or preview what is typed), and data-extra: JSON merged into the body.
//
// Input names are the JSON paths (ticket_types[0].price_minor); data-kind converts:
// int, money (12.50 → 1250, exactly, by money.js, in the currency of the input's data-currency
// or of the form's field named like it with "currency" as the last part; else two decimals),
// datetime (local → Unix ms), ints ("1, 2" → [1, 2]), bool ("true" → true);
// data-key="k" puts the value at key k of the object the name names (categories → {k: value});
// data-optional leaves an empty field out; names ending in [] collect checked boxes, a
// checkbox of another name is true or false. A fieldset's data-drop-empty="list:field" leaves
// out the items of that list whose field is empty or 0 (a bundle's parts not chosen).

import { MoneyError, parseMoney } from "./money.js";

function setPath(target, path, value) {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  let node = target;
  parts.forEach((part, i) => {
    const key = /^\d+$/.test(part) ? Number(part) : part;
    if (i === parts.length - 1) { node[key] = value; return; }
    if (node[key] === undefined) node[key] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    node = node[key];
  });
}

// A value the browser refuses before the hub sees it, shown beside its field.
class FieldError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

// The currency a money input is in: its data-currency, or the form's field named like it with
// "currency" as the last part (ticket_types[0].currency). null when there is none or it is not
// a code yet (two decimals then; the hub refuses a bad code beside its own field).
function currencyOf(el) {
  const input = el.form?.elements.namedItem(el.name.replace(/[^.]*$/, "currency"));
  const code = el.dataset.currency ?? (input && "value" in input ? input.value.trim() : "");
  return /^[A-Z]{3}$/.test(code) ? code : null;
}

function moneyOf(el) {
  try {
    return parseMoney(el.value, currencyOf(el));
  } catch (e) {
    if (e instanceof MoneyError) throw new FieldError(el.name, e.message);
    throw e;
  }
}

function valueOf(el) {
  const raw = el.value.trim();
  switch (el.dataset.kind) {
    case "int": return raw === "" ? null : Number(raw);
    case "money": return raw === "" ? null : moneyOf(el);
    case "datetime": return raw === "" ? null : new Date(raw).getTime();
    case "ints": return raw.split(/[\s,]+/).filter(Boolean).map(Number);
    case "bool": return raw === "true";
    default: return el.value;
  }
}

export function collect(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.name === "csrf" || el.disabled) continue;
    if (el.name.endsWith("[]")) {
      const key = el.name.slice(0, -2);
      if (body[key] === undefined) body[key] = [];
      if (el.checked) body[key].push(valueOf(el));
      continue;
    }
    if (el.type === "checkbox") { setPath(body, el.name, el.checked); continue; }
    const value = valueOf(el);
    if ((value === null || value === "") && "optional" in el.dataset) continue;
    if (el.dataset.key !== undefined) {
      if (body[el.name] === undefined) body[el.name] = {};
      body[el.name][el.dataset.key] = value;
      continue;
    }
    setPath(body, el.name, value);
  }
  for (const set of form.querySelectorAll("[data-drop-empty]")) {
    const [list, field] = set.dataset.dropEmpty.split(":");
    if (Array.isArray(body[list])) body[list] = body[list].filter((item) => item && item[field]);
  }
  return body;
}

function clearErrors(form) {
  for (const e of form.querySelectorAll(".field-error")) e.remove();
  for (const e of form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
  const general = form.querySelector(".form-error");
  if (general) { general.hidden = true; general.textContent = ""; }
}

export function showProblem(form, problem) {
  const message = problem.detail || problem.title || "The hub refused this.";
  const field = problem.field && (form.querySelector(`[name="${CSS.escape(problem.field)}"]`)
    || form.querySelector(`[name="${CSS.escape(problem.field)}[]"]`)
    || form.querySelector(`[data-field="${CSS.escape(problem.field)}"]`));
  if (field) {
    const note = document.createElement("span");
    note.className = "field-error";
    note.setAttribute("role", "alert");
    note.textContent = message.replace(/^[\w.\[\]]+: /, "");
    field.setAttribute("aria-invalid", "true");
    (field.closest("label") || field).after(note);
    field.focus();
    return;
  }
  const general = form.querySelector(".form-error");
  if (general) { general.textContent = message; general.hidden = false; } else { alert(message); }
}

function fill(target, data) {
  for (const el of target.querySelectorAll("[data-field]")) el.textContent = data[el.dataset.field] ?? "";
  for (const el of target.querySelectorAll("[data-html-field]")) el.innerHTML = data[el.dataset.htmlField] ?? "";
  target.hidden = false;
  target.scrollIntoView({ block: "nearest" });
}

// Destructive actions: the first press asks, in place; "Yes" sends, "No" puts it back.
function confirmFirst(form) {
  if (!form.dataset.confirm || form.dataset.confirmed) return false;
  if (form.querySelector(".confirm")) return true;
  const box = document.createElement("div");
  box.className = "confirm";
  box.setAttribute("role", "alertdialog");
  const text = document.createElement("span");
  text.textContent = form.dataset.confirm;
  const yes = document.createElement("button");
  yes.type = "button"; yes.className = "danger small confirm-yes"; yes.textContent = "Yes";
  const no = document.createElement("button");
  no.type = "button"; no.className = "secondary small"; no.textContent = "No";
  yes.addEventListener("click", () => { form.dataset.confirmed = "1"; box.remove(); form.requestSubmit(); });
  no.addEventListener("click", () => box.remove());
  box.append(text, yes, no);
  form.append(box);
  yes.focus();
  return true;
}

async function submit(form, submitter) {
  clearErrors(form);
  if (confirmFirst(form)) return;
  delete form.dataset.confirmed;
  // The pressed button's own action, if it has one; else the form's.
  const own = submitter?.dataset.api ? submitter.dataset : null;
  const action = own ?? form.dataset;
  const method = action.method || "POST";
  const csrf = form.querySelector("input[name=csrf]");
  const upload = "upload" in form.dataset;
  const headers = { "content-type": upload ? "application/octet-stream" : "application/json" };
  if (csrf) headers["x-csrf-token"] = csrf.value;
  let body;
  try {
    if (upload) {
      const input = form.querySelector("input[type=file]");
      body = input?.files?.[0];
      if (!body) throw new FieldError(input?.name ?? "file", "Choose the file first.");
    } else {
      const data = collect(form);
      if (own?.extra) Object.assign(data, JSON.parse(own.extra));
      body = method === "DELETE" ? undefined : JSON.stringify(data);
    }
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    showProblem(form, { field: e.field, detail: e.message });
    return;
  }
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const response = await fetch(action.api, { method, headers, credentials: "same-origin", body });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      if (action.show) {
        fill(document.getElementById(action.show), data);
        if (!("keep" in action)) form.reset();
        return;
      }
      const then = action.then;
      if (then) location.assign(then.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(data[k])));
      else location.reload();
      return;
    }
    if (response.status === 401 && action.api !== "/api/v1/login") { location.assign("/login"); return; }
    showProblem(form, data.detail ? data : { detail: `The hub answered ${response.status}.` });
  } catch {
    showProblem(form, { detail: "The hub cannot be reached. Check the connection and try again." });
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// "Add a gate", "Add a ticket type": a copy of the row template with the next index.
function addRow(button) {
  const into = document.getElementById(button.dataset.into);
  const index = into.querySelectorAll("[data-row]").length;
  const html = document.getElementById(button.dataset.addRow).innerHTML
    .replaceAll("__i__", String(index)).replaceAll("__n__", String(index + 1));
  into.insertAdjacentHTML("beforeend", html);
  into.lastElementChild.querySelector("input")?.focus();
}

// Times the hub rendered as Unix ms, shown in the browser's own zone (as they are read back).
for (const input of document.querySelectorAll("input[type=datetime-local][data-ms]")) {
  const at = new Date(Number(input.dataset.ms));
  at.setMinutes(at.getMinutes() - at.getTimezoneOffset());
  input.value = at.toISOString().slice(0, 16);
}

for (const form of document.querySelectorAll("form[data-api]")) {
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(form, e.submitter); });
}
for (const button of document.querySelectorAll("[data-add-row]")) {
  button.addEventListener("click", () => addRow(button));
}
