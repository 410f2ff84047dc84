"use strict";
// Operator console: what happened to each missed call, and whether the WhatsApp
// follow-up brought a booking. Every text coming from the API (caller names
// especially) is written with textContent, never parsed as HTML.

const PAGE_SIZE = 50;
const SVG_NS = "http://www.w3.org/2000/svg";

// ---------- words (messages/*.ftl, compiled by the server into the page) ----------

const LANG = document.documentElement.lang || "en";
// English days and times as a British reader writes them ("Mon 7 Dec, 19:42"), French as a
// French one ("lun. 7 déc., 19:42").
const LOCALE = LANG === "fr" ? "fr-FR" : "en-GB";
const MESSAGES = JSON.parse(document.getElementById("messages").textContent);
const PLURAL = new Intl.PluralRules(LOCALE);
const NUMBER = new Intl.NumberFormat(LOCALE);
const PERCENT = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 0 });

// A message with its arguments: text, {v: variable}, {m: message}, and {s: variable, k: variants,
// d: default}, whose variant is the value itself or its plural category.
function format(pattern, args) {
  if (typeof pattern === "string") return pattern;
  return pattern.map((part) => {
    if (typeof part === "string") return part;
    if (part.v !== undefined) {
      const value = args[part.v];
      return typeof value === "number" ? NUMBER.format(value) : String(value ?? "");
    }
    if (part.m !== undefined) return t(part.m, args);
    const value = args[part.s];
    let key = String(value);
    if (!(key in part.k) && typeof value === "number") key = PLURAL.select(value);
    return format(part.k[key] ?? part.k[part.d], args);
  }).join("");
}

function t(id, args = {}) {
  const pattern = MESSAGES[id];
  return pattern === undefined ? id : format(pattern, args);
}

// Badge colour by what the manager should feel: green = handled, blue = still
// going, amber = something the restaurant can fix (credit, template, switch),
// grey = skipped on purpose, red = the customer never got the message.
const TONE = {
  SENT: "ok", DISPATCHING: "info", UNDELIVERABLE: "bad", FAILED: "bad",
  SKIPPED_LOW_BALANCE: "warn", SKIPPED_NO_TEMPLATE: "warn", SKIPPED_FEATURE_DISABLED: "warn",
};
const INDICATORS = ["missed_calls", "messages_sent", "booking_conversions", "conversion_rate"];

const $ = (sel) => document.querySelector(sel);
const state = {
  restaurant: null,   // id sent with every call once known
  timezone: "UTC",    // the restaurant's zone: every time is shown in it
  today: null,        // restaurant-local "YYYY-MM-DD", from the last /daily entry
  daily: [],
  applied: null,      // filters the log and indicators currently show
  cursor: null,       // cursor of the page on screen (null = first page)
  back: [],           // cursors of the pages before it, for "Newer calls"
  next: null,
  datesTouched: false,
  redirecting: false,
};
const STALE = Symbol("stale");
const tickets = {};

// ---------- API ----------

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  // Commas are legal in a query string; keeping them readable makes the CSV link easy to share.
  const s = q.toString().replace(/%2C/g, ",");
  return s ? "?" + s : "";
}

async function api(path, params = {}) {
  // The page's language for every word the API answers (a page opened with ?lang= included).
  const res = await fetch(path + query({ ...params, lang: LANG }), { headers: { Accept: "application/json" } });
  if (res.status === 401) {
    // Session expired (or never existed): the login page is the only useful place.
    state.redirecting = true;
    location = "/console/login";
    throw STALE;
  }
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON: described below */ }
  if (!res.ok || !body) {
    const err = (body && body.error) || { message: t("error-server-status", { status: res.status }) };
    throw Object.assign(new Error(err.message), { api: err });
  }
  return body;
}

// Only the newest answer of each kind may touch the page: switching restaurant
// twice quickly must not leave the first restaurant's rows on screen.
async function latest(kind, path, params) {
  const ticket = (tickets[kind] = (tickets[kind] || 0) + 1);
  const body = await api(path, params);
  if (tickets[kind] !== ticket) throw STALE;
  return body;
}

function showError(e) {
  if (e === STALE || state.redirecting) return;
  const banner = $("#error");
  banner.textContent = (e && e.message) || t("error-generic");
  banner.hidden = false;
  const field = e && e.api && e.api.details && e.api.details.field;
  const input = field && document.getElementById(field);
  if (input) input.setAttribute("aria-invalid", "true");
}

function clearError() {
  $("#error").hidden = true;
  document.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
}

// ---------- dates (in the restaurant's zone, never the browser's) ----------

function dateTimeFormat(options) {
  return new Intl.DateTimeFormat(LOCALE, { timeZone: state.timezone, hourCycle: "h23", ...options });
}

// An instant (RFC 3339) as the manager reads it: "Mon 7 Dec, 19:42", the year only when it is
// not this one.
function dateTimeLabel(iso) {
  if (!iso) return "—";
  const at = new Date(iso);
  const year = dateTimeFormat({ year: "numeric" });
  const sameYear = !state.today || year.format(at) === state.today.slice(0, 4);
  return dateTimeFormat({ weekday: "short", day: "numeric", month: "short",
    year: sameYear ? undefined : "numeric", hour: "2-digit", minute: "2-digit" }).format(at);
}

function timeLabel(iso) {
  return dateTimeFormat({ hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

function localDay(iso) {
  // "sv" writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("sv", { timeZone: state.timezone }).format(new Date(iso));
}

// A restaurant-local day "YYYY-MM-DD" (no time, no zone): "Mon 7 Dec".
function dayLabel(day, withWeekday = true) {
  const [y, m, d] = day.split("-").map(Number);
  const sameYear = !state.today || y === +state.today.slice(0, 4);
  return new Intl.DateTimeFormat(LOCALE, { timeZone: "UTC", weekday: withWeekday ? "short" : undefined,
    day: "numeric", month: "short", year: sameYear ? undefined : "numeric" }).format(new Date(Date.UTC(y, m - 1, d)));
}

function addDays(iso, n) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// ---------- filters ----------

function formFilters() {
  const status = [...document.querySelectorAll("#statuses input:checked")].map((c) => c.value);
  return { restaurant: state.restaurant, from: $("#from").value, to: $("#to").value,
    status: status.join(","), caller: $("#caller").value.trim() };
}

// The download holds exactly the rows on screen: the filters last applied, not the ones being
// edited.
function updateExport() {
  $("#export-csv").href = "/console/export.csv" + query({ ...(state.applied || formFilters()), lang: LANG });
}

function setDefaultDates() {
  $("#from").value = addDays(state.today, -29);
  $("#to").value = state.today;
  state.datesTouched = false;
  updateExport();
}

// ---------- loading ----------

async function loadRestaurant() {
  try {
    const body = await latest("daily", "/console/api/daily", { restaurant: state.restaurant, days: 30 });
    state.daily = body.data;
  } catch (e) {
    if (e === STALE) return;
    state.daily = [];
    showError(e);
  }
  const last = state.daily[state.daily.length - 1];
  // Without the daily series, the browser's own date ("sv" formats as YYYY-MM-DD) is close enough.
  state.today = last ? last.date : new Date().toLocaleDateString("sv");
  if (!state.datesTouched || !$("#from").value || !$("#to").value) setDefaultDates();
  drawChart();
  await applyFilters(false);
}

async function applyFilters(clear = true) {
  if (clear) clearError();
  state.applied = formFilters();
  state.cursor = null;
  state.back = [];
  updateExport();
  const { from, to } = state.applied;
  const valid = /^\d{4}-\d{2}-\d{2}$/;
  $("#period").textContent = valid.test(from) && valid.test(to)
    ? t("period", { from: dayLabel(from), to: dayLabel(to) }) : t("summary");
  await Promise.all([loadIndicators(), loadCalls()]);
}

async function loadIndicators() {
  const { restaurant, from, to } = state.applied;
  const box = $("#indicators");
  box.setAttribute("aria-busy", "true");
  try {
    const { data } = await latest("indicators", "/console/api/indicators", { restaurant, from, to });
    for (const key of INDICATORS) {
      const v = data[key];
      const text = key === "conversion_rate"
        ? (v === null || v === undefined ? "—" : PERCENT.format(v))
        : NUMBER.format(v || 0);
      box.querySelector(`[data-indicator="${key}"] .value`).textContent = text;
    }
  } catch (e) {
    if (e === STALE) return;  // a newer request owns the cards now
    box.querySelectorAll(".value").forEach((n) => { n.textContent = "—"; });
    showError(e);
  }
  box.removeAttribute("aria-busy");
}

async function loadCalls() {
  const table = $("#calls");
  table.setAttribute("aria-busy", "true");
  $("#prev-page").disabled = $("#next-page").disabled = true;
  try {
    const body = await latest("calls", "/console/api/calls",
      { ...state.applied, limit: PAGE_SIZE, cursor: state.cursor });
    state.next = body.next_cursor || null;
    renderRows(body.data);
  } catch (e) {
    if (e === STALE) return;  // a newer request owns the table now
    // An error is not "no calls": leave the empty message hidden, the banner explains.
    state.next = null;
    $("#calls tbody").replaceChildren();
    $("#calls-empty").hidden = true;
    $("#page-info").textContent = "";
    showError(e);
  }
  table.removeAttribute("aria-busy");
  $("#prev-page").disabled = state.back.length === 0;
  $("#next-page").disabled = !state.next;
}

// ---------- call log ----------

function el(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined && text !== null) n.textContent = text;
  return n;
}

function cell(tr, label, className, ...content) {
  const td = el("td", className);
  td.dataset.label = label;  // shown as the field name when rows become cards on a phone
  td.append(...content);
  // Nothing to say: a phone card leaves the field out instead of printing a dash.
  if (content.length === 1 && content[0].classList && content[0].classList.contains("dash")) td.classList.add("blank");
  tr.append(td);
}

const dash = () => el("span", "none dash", "—");

function callerContent(r) {
  // A hidden caller id ("anonymous", "private"…) is shown as received, and cannot be called.
  if (!r.customer_id || !String(r.caller_phone_number || "").startsWith("+")) {
    return el("span", "none", r.caller_display || t("caller-hidden"));
  }
  // A tap on a phone calls the customer back directly.
  const a = el("a", "tel", r.caller_display || r.caller_phone_number);
  a.href = "tel:" + r.caller_phone_number;
  return a;
}

function customerContent(r) {
  if (r.customer_name) return el("span", "name", r.customer_name);
  if (r.new_customer) return el("span", "new", t("customer-new"));
  // A customer without a name whom an earlier call created.
  if (r.customer_id) return el("span", "none", t("customer-returning"));
  return dash();
}

function statusContent(r) {
  const wrap = el("div", "status");
  wrap.append(el("span", `badge ${TONE[r.outcome] || "neutral"}`, r.status_label || r.outcome));
  if (r.reason) wrap.append(el("span", "reason", r.reason));
  return wrap;
}

function deliveryContent(r) {
  if (!r.delivery_state) return dash();
  return el("span", `delivery ${r.delivery_state}`, t(`delivery-${r.delivery_state}`));
}

function clickedContent(r) {
  if (!r.clicked_at) return dash();
  // Same day as the call: the time alone says enough.
  const sameDay = localDay(r.clicked_at) === localDay(r.occurred_at);
  const wrap = el("span", "clicked");
  wrap.append(el("span", "when", sameDay ? timeLabel(r.clicked_at) : dateTimeLabel(r.clicked_at)));
  if (r.clicks > 1) wrap.append(el("span", "sub", t("clicks", { n: r.clicks })));
  return wrap;
}

function bookedContent(r) {
  if (!r.converted_reservation_id) return dash();
  if (r.converted_reservation_status === "CANCELED") {
    const s = el("span", "conv canceled", t("booked") + " ");
    s.append(el("span", "tag", t("booked-canceled")));
    return s;
  }
  return el("span", "conv", t("booked"));
}

// "Stop messages" / "Resume messages" for the row's customer, or who stopped them when only the
// guest can undo it.
function suppressionContent(r) {
  const wrap = el("div", "suppression");
  if (!r.customer_id) return wrap;
  const who = r.customer_suppression;
  if (who === "reply" || who === "131050") {
    wrap.append(el("span", "stopped", t(`stopped-by-${who}`)));
    wrap.title = t("stopped-only-guest");
    return wrap;
  }
  if (who === "operator") wrap.append(el("span", "stopped", t("stopped-by-operator")));
  const button = el("button", "secondary small", t(who ? "customer-resume" : "customer-stop"));
  button.type = "button";
  button.dataset.action = who ? "resume" : "stop";
  button.addEventListener("click", () => setSuppressed(r, !who));
  wrap.append(button);
  return wrap;
}

function rowFor(r) {
  const tr = document.createElement("tr");
  tr.dataset.callId = r.id;
  const time = el("time", null, dateTimeLabel(r.occurred_at));
  time.dateTime = r.occurred_at_local || "";
  // What was sent, one tap away from the call it answered.
  const open = el("button", "secondary small open", t("detail-open"));
  open.type = "button";
  open.addEventListener("click", () => openDetail(r.id));
  const when = el("div", "when");
  when.append(time, open);
  cell(tr, t("column-date"), "c-date", when);
  cell(tr, t("column-caller"), "c-caller", callerContent(r));
  const customer = el("div", "customer");
  customer.append(customerContent(r), suppressionContent(r));
  cell(tr, t("column-customer"), "c-customer", customer);
  cell(tr, t("column-status"), "c-status", statusContent(r));
  cell(tr, t("column-template"), "c-template", r.template_type ? t(`template-${r.template_type}`) : dash());
  cell(tr, t("column-delivery"), "c-delivery", deliveryContent(r));
  cell(tr, t("column-clicked"), "c-clicked", clickedContent(r));
  cell(tr, t("column-booked"), "c-booked", bookedContent(r));
  return tr;
}

function renderRows(rows) {
  $("#calls tbody").replaceChildren(...rows.map(rowFor));
  $("#calls-empty").hidden = rows.length > 0;
  $("#calls").classList.toggle("is-empty", rows.length === 0);
  const page = state.back.length + 1;
  $("#page-info").textContent = rows.length
    ? t("calls-count", { n: rows.length }) + (page > 1 || state.next ? " · " + t("page-number", { page }) : "")
    : "";
}

// ---------- chart (always the last 30 days, whatever the filters) ----------

function svg(tag, attrs, parent) {
  const n = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (parent) parent.append(n);
  return n;
}

// A step of 1, 2 or 5 × 10ⁿ gives round gridline labels.
function niceStep(raw) {
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);
  return Math.max(1, step);
}

function daySummary(d) {
  return t("day-summary", { missed: d.missed_calls, sent: d.messages_sent, booked: d.booking_conversions });
}

function showTotals() {
  const totals = { missed_calls: 0, messages_sent: 0, booking_conversions: 0 };
  for (const d of state.daily) for (const k in totals) totals[k] += d[k] || 0;
  $("#chart-detail").textContent = state.daily.length ? t("chart-total", { summary: daySummary(totals) }) : "";
}

function drawChart() {
  const box = $("#chart");
  const days = state.daily;
  const W = Math.max(280, Math.floor(box.clientWidth || 600));
  const H = W < 560 ? 190 : 230;
  const pad = { l: 30, r: 4, t: 10, b: 26 };
  const ih = H - pad.t - pad.b;
  const slot = (W - pad.l - pad.r) / Math.max(1, days.length);
  const max = Math.max(1, ...days.map((d) => Math.max(d.missed_calls, d.messages_sent, d.booking_conversions)));
  const step = niceStep(max / 4);
  const top = Math.ceil(max / step) * step;
  const y = (v) => pad.t + ih - (v / top) * ih;

  const root = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": t("chart-label") });
  for (let v = 0; v <= top; v += step) {
    svg("line", { class: v ? "grid" : "baseline", x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }, root);
    svg("text", { class: "axis", x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, root).textContent = v;
  }
  days.forEach((d, i) => {
    const x = pad.l + i * slot;
    const g = svg("g", { class: "day", "data-date": d.date }, root);
    svg("title", {}, g).textContent = `${dayLabel(d.date)}: ${daySummary(d)}`;
    svg("rect", { class: "hit", x, y: pad.t, width: slot, height: ih }, g);
    // Bars nest (missed ⊃ sent ⊃ booked) so 30 days stay readable on a phone.
    const bars = [["missed", d.missed_calls, 0.84], ["sent", d.messages_sent, 0.54], ["booked", d.booking_conversions, 0.26]];
    for (const [cls, v, share] of bars) {
      const h = v > 0 ? Math.max(2, (v / top) * ih) : 0;
      svg("rect", { class: cls, x: x + (slot * (1 - share)) / 2, y: pad.t + ih - h,
        width: slot * share, height: h, rx: Math.min(2, slot * share / 4) }, g);
    }
    // A quiet day still gets a visible stub, so "no calls" reads as zero, not missing data.
    if (!d.missed_calls && !d.messages_sent && !d.booking_conversions) {
      svg("rect", { class: "zero", x: x + slot * 0.08, y: pad.t + ih - 2, width: slot * 0.84, height: 2 }, g);
    }
    const fromEnd = days.length - 1 - i;
    // On a narrow chart the label a week back would run into "Today".
    if (fromEnd % 7 === 0 && !(fromEnd === 7 && W < 560)) {
      svg("text", { class: "axis", x: fromEnd ? x + slot / 2 : x + slot, y: H - 8,
        "text-anchor": fromEnd ? "middle" : "end" }, root).textContent = fromEnd ? dayLabel(d.date, false) : t("chart-today");
    }
    // Hover titles don't exist on a touch screen: tapping a day writes it out below the title.
    const pick = () => {
      root.querySelectorAll(".day.active").forEach((n) => n.classList.remove("active"));
      g.classList.add("active");
      $("#chart-detail").textContent = `${dayLabel(d.date)}: ${daySummary(d)}`;
    };
    g.addEventListener("pointerenter", pick);
    g.addEventListener("click", pick);
  });
  root.addEventListener("pointerleave", () => {
    root.querySelectorAll(".day.active").forEach((n) => n.classList.remove("active"));
    showTotals();
  });
  const old = box.querySelector("svg");
  if (old) old.replaceWith(root); else box.append(root);
  showTotals();
}

// ---------- the manager acts ----------

// A state-changing request: JSON in, JSON out, from this page (the server checks the origin).
async function post(path, body) {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json",
    Accept: "application/json" }, body: JSON.stringify(body) });
  if (res.status === 401) { state.redirecting = true; location = "/console/login"; throw STALE; }
  let answer = null;
  try { answer = await res.json(); } catch (_) { /* described below */ }
  if (!res.ok || !answer) {
    const err = (answer && answer.error) || { message: t("error-server-status", { status: res.status }) };
    throw Object.assign(new Error(err.message), { api: err });
  }
  return answer;
}

function notice(text) {
  const box = $("#notice");
  box.textContent = text;
  box.hidden = false;
}

async function setSuppressed(r, suppressed) {
  const caller = r.caller_display || r.caller_phone_number;
  if (suppressed && !window.confirm(t("customer-stop-confirm", { caller }))) return;
  clearError();
  $("#notice").hidden = true;
  try {
    await post(`/console/api/customers/${encodeURIComponent(r.customer_id)}/suppression`, { suppressed });
    notice(t(suppressed ? "customer-stopped" : "customer-resumed", { caller }));
    await loadCalls();
  } catch (e) {
    showError(e);
  }
}

async function setLanguage(lang) {
  try {
    await post("/console/api/me", { lang });
    location.reload();
  } catch (e) {
    showError(e);
  }
}

// One line of the detail: a label and its value (or "not known").
function detailLine(list, label, value) {
  list.append(el("dt", null, label));
  const dd = el("dd");
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value === null || value === undefined || value === "" ? t("detail-unknown") : value;
  list.append(dd);
}

async function openDetail(id) {
  clearError();
  let call;
  try {
    ({ data: call } = await api(`/console/api/calls/${encodeURIComponent(id)}`, { restaurant: state.restaurant }));
  } catch (e) {
    showError(e);
    return;
  }
  $("#detail-heading").textContent = `${dateTimeLabel(call.occurred_at)} · ${call.caller_display}`;
  const body = $("#detail-body");
  body.replaceChildren();
  const head = el("div", "detail-status");
  head.append(statusContent(call));
  if (call.customer_id && String(call.caller_phone_number).startsWith("+")) {
    const back = el("a", "secondary small", t("detail-call-back"));
    back.href = "tel:" + call.caller_phone_number;
    head.append(back);
  }
  head.append(suppressionContent(call));
  body.append(head);
  body.append(el("h3", null, t("detail-title")));
  const m = call.message;
  if (!m) {
    body.append(el("p", "muted", t("detail-nothing")));
  } else {
    const list = el("dl", "detail-list");
    detailLine(list, t("detail-template"), m.template ? `${m.template} (${t(`template-${call.template_type}`)})` : null);
    detailLine(list, t("detail-language"), m.language);
    const params = el("ol", "params");
    for (const p of m.parameters || []) params.append(el("li", null, p));
    detailLine(list, t("detail-parameters"), (m.parameters || []).length ? params : null);
    let link = null;
    if (m.booking_link) {
      link = el("a", null, m.booking_link);
      link.href = m.booking_link;
      link.rel = "noreferrer";
      link.target = "_blank";
    }
    detailLine(list, t("detail-link"), link);
    detailLine(list, t("detail-message-id"), m.message_id);
    detailLine(list, t("detail-sent-at"), m.sent_at && dateTimeLabel(m.sent_at));
    detailLine(list, t("detail-delivered-at"), m.delivered_at && dateTimeLabel(m.delivered_at));
    detailLine(list, t("detail-read-at"), m.read_at && dateTimeLabel(m.read_at));
    detailLine(list, t("detail-clicks"), NUMBER.format(call.clicks || 0));
    body.append(list);
  }
  // The dialog's own buttons act on this call's customer; the log shows the change once closed.
  body.querySelectorAll(".suppression button").forEach((b) => b.addEventListener("click", () => $("#detail").close()));
  $("#detail").showModal();
}

// ---------- start ----------

function wire() {
  const form = $("#filters");
  form.addEventListener("submit", (ev) => { ev.preventDefault(); applyFilters(); });
  form.addEventListener("input", (ev) => {
    if (ev.target.type === "date") state.datesTouched = true;
  });
  $("#reset").addEventListener("click", () => {
    document.querySelectorAll("#statuses input").forEach((c) => { c.checked = false; });
    $("#caller").value = "";
    if (state.today) setDefaultDates();
    applyFilters();
  });
  $("#restaurant").addEventListener("change", (ev) => {
    state.restaurant = ev.target.value;
    const chosen = (state.restaurants || []).find((r) => r.id === state.restaurant);
    state.timezone = (chosen && chosen.timezone) || "UTC";
    clearError();
    loadRestaurant();
  });
  $("#next-page").addEventListener("click", () => {
    if (!state.next) return;
    state.back.push(state.cursor);
    state.cursor = state.next;
    loadCalls().then(() => $("#log-title").scrollIntoView({ block: "start" }));
  });
  $("#prev-page").addEventListener("click", () => {
    if (!state.back.length) return;
    state.cursor = state.back.pop();
    loadCalls();
  });
  $("#language").addEventListener("change", (ev) => setLanguage(ev.target.value));
  $("#detail-close").addEventListener("click", () => $("#detail").close());
  let width = 0;
  window.addEventListener("resize", () => {
    const w = $("#chart").clientWidth;
    if (w !== width && state.daily.length) { width = w; drawChart(); }
  });
}

async function start() {
  wire();
  try {
    const [me, list] = await Promise.all([api("/console/api/me"), api("/console/api/restaurants")]);
    $("#username").textContent = me.data.username;
    const restaurants = list.data || [];
    $("#language").value = LANG;
    if (!restaurants.length) throw new Error(t("error-no-restaurant"));
    state.restaurants = restaurants;
    const current = restaurants.find((r) => r.id === me.data.restaurant_id) || restaurants[0];
    state.restaurant = current.id;
    state.timezone = current.timezone || "UTC";
    const picker = $("#restaurant");
    picker.replaceChildren(...restaurants.map((r) => {
      const o = el("option", null, r.name);
      o.value = r.id;
      return o;
    }));
    picker.value = current.id;
    // One restaurant: no choice to make, but its name still tells the manager where they are.
    picker.hidden = restaurants.length < 2;
    $("#restaurant-name").textContent = restaurants.length < 2 ? current.name : "";
    await loadRestaurant();
  } catch (e) {
    showError(e);
  }
}

start();
