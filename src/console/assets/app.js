"use strict";
// Operator console: what happened to each missed call, and whether the WhatsApp
// follow-up brought a booking. Every text coming from the API (caller names
// especially) is written with textContent, never parsed as HTML.

const PAGE_SIZE = 50;
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const NUMBER = new Intl.NumberFormat("en");
const SVG_NS = "http://www.w3.org/2000/svg";

// Badge colour by what the manager should feel: green = handled, blue = still
// going, amber = something the restaurant can fix (credit, template, switch),
// grey = skipped on purpose, red = the customer never got the message.
const TONE = {
  SENT: "ok", DISPATCHING: "info", UNDELIVERABLE: "bad", FAILED: "bad",
  SKIPPED_LOW_BALANCE: "warn", SKIPPED_NO_TEMPLATE: "warn", SKIPPED_FEATURE_DISABLED: "warn",
};
const TEMPLATES = { MISSED_CALL: "Missed call", MISSED_CALL_WITH_RESERVATION: "With reservation" };
const DELIVERY = { sent: "Sent", delivered: "Delivered", read: "Read", failed: "Failed" };
const INDICATORS = ["missed_calls", "messages_sent", "booking_conversions", "conversion_rate"];

const $ = (sel) => document.querySelector(sel);
const state = {
  restaurant: null,   // id sent with every call once known
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
  const res = await fetch(path + query(params), { headers: { Accept: "application/json" } });
  if (res.status === 401) {
    // Session expired (or never existed): the login page is the only useful place.
    state.redirecting = true;
    location = "/console/login";
    throw STALE;
  }
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON: described below */ }
  if (!res.ok || !body) {
    const err = (body && body.error) || { message: `The server answered ${res.status}. Please try again.` };
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
  banner.textContent = (e && e.message) || "Something went wrong. Please try again.";
  banner.hidden = false;
  const field = e && e.api && e.api.details && e.api.details.field;
  const input = field && document.getElementById(field);
  if (input) input.setAttribute("aria-invalid", "true");
}

function clearError() {
  $("#error").hidden = true;
  document.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
}

// ---------- dates (restaurant wall-clock, never the browser's zone) ----------

// "2026-11-25T19:42:10+01:00" → its own date and time parts; the offset is ignored
// on purpose: the manager thinks in the restaurant's local time.
function parseLocal(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(s || "");
  if (!m) return null;
  const y = +m[1], mo = +m[2], d = +m[3];
  return { y, mo, d, time: m[4] ? `${m[4]}:${m[5]}` : "", date: m[0].slice(0, 10),
    wd: new Date(Date.UTC(y, mo - 1, d)).getUTCDay() };
}

function dayLabel(p) {
  const year = state.today && p.y !== +state.today.slice(0, 4) ? ` ${p.y}` : "";
  return `${DAYS[p.wd]} ${p.d} ${MONTHS[p.mo - 1]}${year}`;
}

function dateTimeLabel(s) {
  const p = parseLocal(s);
  return p ? `${dayLabel(p)}, ${p.time}` : "—";
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
  $("#export-csv").href = "/console/export.csv" + query(state.applied || formFilters());
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
  const pf = parseLocal(from), pt = parseLocal(to);
  $("#period").textContent = pf && pt ? `${dayLabel(pf)} – ${dayLabel(pt)}` : "Summary";
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
        ? (v === null || v === undefined ? "—" : `${Math.round(v * 100)} %`)
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
    return el("span", "none", r.caller_display || "Hidden number");
  }
  // A tap on a phone calls the customer back directly.
  const a = el("a", "tel", r.caller_display || r.caller_phone_number);
  a.href = "tel:" + r.caller_phone_number;
  return a;
}

function customerContent(r) {
  if (r.customer_name) return el("span", "name", r.customer_name);
  if (r.new_customer) return el("span", "new", "New customer");
  // A customer without a name whom an earlier call created.
  if (r.customer_id) return el("span", "none", "Returning caller");
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
  return el("span", `delivery ${r.delivery_state}`, DELIVERY[r.delivery_state] || r.delivery_state);
}

function clickedContent(r) {
  if (!r.clicked_at_local) return dash();
  const at = parseLocal(r.clicked_at_local), call = parseLocal(r.occurred_at_local);
  // Same day as the call: the time alone says enough.
  const wrap = el("span", "clicked");
  wrap.append(el("span", "when", at && call && at.date === call.date ? at.time : dateTimeLabel(r.clicked_at_local)));
  if (r.clicks > 1) wrap.append(el("span", "sub", `${r.clicks} clicks`));
  return wrap;
}

function bookedContent(r) {
  if (!r.converted_reservation_id) return dash();
  if (r.converted_reservation_status === "CANCELED") {
    const s = el("span", "conv canceled", "Booked ");
    s.append(el("span", "tag", "canceled"));
    return s;
  }
  return el("span", "conv", "Booked");
}

function rowFor(r) {
  const tr = document.createElement("tr");
  tr.dataset.callId = r.id;
  const time = el("time", null, dateTimeLabel(r.occurred_at_local));
  time.dateTime = r.occurred_at_local || "";
  cell(tr, "Date & time", "c-date", time);
  cell(tr, "Caller", "c-caller", callerContent(r));
  cell(tr, "Customer", "c-customer", customerContent(r));
  cell(tr, "Status", "c-status", statusContent(r));
  cell(tr, "Template", "c-template", TEMPLATES[r.template_type] ? TEMPLATES[r.template_type] : dash());
  cell(tr, "Delivery", "c-delivery", deliveryContent(r));
  cell(tr, "Clicked", "c-clicked", clickedContent(r));
  cell(tr, "Booked", "c-booked", bookedContent(r));
  return tr;
}

function renderRows(rows) {
  $("#calls tbody").replaceChildren(...rows.map(rowFor));
  $("#calls-empty").hidden = rows.length > 0;
  $("#calls").classList.toggle("is-empty", rows.length === 0);
  const page = state.back.length + 1;
  $("#page-info").textContent = rows.length
    ? `${rows.length} call${rows.length > 1 ? "s" : ""}${page > 1 || state.next ? ` · page ${page}` : ""}`
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
  return `${d.missed_calls} missed · ${d.messages_sent} sent · ${d.booking_conversions} booked`;
}

function showTotals() {
  const t = { missed_calls: 0, messages_sent: 0, booking_conversions: 0 };
  for (const d of state.daily) for (const k in t) t[k] += d[k] || 0;
  $("#chart-detail").textContent = state.daily.length ? `Total: ${daySummary(t)}` : "";
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
    "aria-label": "Missed calls, messages sent and bookings per day over the last 30 days" });
  for (let v = 0; v <= top; v += step) {
    svg("line", { class: v ? "grid" : "baseline", x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }, root);
    svg("text", { class: "axis", x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, root).textContent = v;
  }
  days.forEach((d, i) => {
    const x = pad.l + i * slot;
    const g = svg("g", { class: "day", "data-date": d.date }, root);
    svg("title", {}, g).textContent =
      `${d.date}: ${d.missed_calls} missed, ${d.messages_sent} sent, ${d.booking_conversions} booked`;
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
    if (fromEnd % 7 === 0) {
      const p = parseLocal(d.date);
      svg("text", { class: "axis", x: fromEnd ? x + slot / 2 : x + slot, y: H - 8,
        "text-anchor": fromEnd ? "middle" : "end" }, root).textContent = fromEnd ? `${p.d} ${MONTHS[p.mo - 1]}` : "Today";
    }
    // Hover titles don't exist on a touch screen: tapping a day writes it out below the title.
    const pick = () => {
      root.querySelectorAll(".day.active").forEach((n) => n.classList.remove("active"));
      g.classList.add("active");
      $("#chart-detail").textContent = `${dayLabel(parseLocal(d.date))}: ${daySummary(d)}`;
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
    if (!restaurants.length) throw new Error("No restaurant is linked to this account yet.");
    const current = restaurants.find((r) => r.id === me.data.restaurant_id) || restaurants[0];
    state.restaurant = current.id;
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
