// kehoach web page: plain DOM, textContent only (a plan's text can never inject markup).
"use strict";

const $ = (sel) => document.querySelector(sel);
const FILTERS = ["province", "issuer", "owner", "plan", "year", "type", "deadline_after", "deadline_before", "indicators"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function setStatus(msg, isError) {
  const s = $("#status");
  s.textContent = msg || "";
  s.classList.toggle("error", !!isError);
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    let msg = body && body.detail;
    if (Array.isArray(msg)) msg = msg.map((d) => (d.loc || []).slice(-1)[0] + ": " + d.msg).join("; ");
    throw new Error(msg || ("HTTP " + r.status));
  }
  return body;
}

// ---------------------------------------------------------------- formatting

function fmtDate(iso) {
  if (!iso) return "";
  const p = iso.split("-");
  return p.length === 3 ? `${p[2]}/${p[1]}/${p[0]}` : p.length === 2 ? `${p[1]}/${p[0]}` : iso;
}

const RECURRENCE = { continuous: "Thường xuyên", daily: "Hằng ngày", weekly: "Hằng tuần", monthly: "Hằng tháng",
  quarterly: "Hằng quý", semiannual: "6 tháng một lần", yearly: "Hằng năm" };

function fmtDeadline(d) {
  if (!d) return "";
  if (d.date) return fmtDate(d.date) + (d.text ? ` (${d.text})` : "");
  if (d.recurrence) return RECURRENCE[d.recurrence] || d.recurrence;
  return d.text || "";
}

function planLabel(p) {
  const parts = [];
  parts.push((p.type || "Văn bản") + (p.number ? " số " + p.number : ""));
  if (p.issuer) parts.push(p.issuer);
  if (p.date) parts.push(fmtDate(p.date));
  return parts.join(" · ");
}

// text with [start, end) marks -> nodes (mark elements), windowed around the marks
function markedText(text, marks, width) {
  const frag = document.createDocumentFragment();
  let a = 0, b = text.length;
  if (width && text.length > width) {
    const first = marks.length ? marks[0][0] : 0;
    a = Math.max(0, first - Math.floor(width / 4));
    b = Math.min(text.length, a + width);
    if (a > 0) frag.append("…");
  }
  let pos = a;
  for (const [x, y] of marks) {
    if (x < a || y > b || x < pos) continue;
    frag.append(text.slice(pos, x));
    frag.append(el("mark", { text: text.slice(x, y) }));
    pos = y;
  }
  frag.append(text.slice(pos, b));
  if (b < text.length) frag.append("…");
  return frag;
}

// ---------------------------------------------------------------- search view

function readForm() {
  const form = $("#search-form");
  const params = new URLSearchParams();
  params.set("q", form.q.value.trim());
  for (const name of FILTERS) {
    const input = form.elements[name];
    if (!input) continue;
    if (input.type === "checkbox") { if (input.checked) params.set(name, "true"); }
    else if (input.value.trim()) params.set(name, input.value.trim());
  }
  return params;
}

function fillForm(params) {
  const form = $("#search-form");
  form.q.value = params.get("q") || "";
  for (const name of FILTERS) {
    const input = form.elements[name];
    if (!input) continue;
    if (input.type === "checkbox") input.checked = params.get(name) === "true";
    else input.value = params.get(name) || "";
  }
  if (FILTERS.some((n) => params.get(n))) $("#filters").open = true;
}

function renderOwners(owners) {
  const ol = $("#owners");
  ol.replaceChildren();
  for (const o of owners.slice(0, 5)) {
    const tasks = o.tasks.length;
    ol.append(el("li", { class: "owner" },
      el("span", { class: "owner-name", text: o.body }),
      el("span", { class: "role " + o.role, text: o.role === "lead" ? "chủ trì" : "phối hợp" }),
      el("span", { class: "meta", text: ` — ${tasks} nhiệm vụ, ${o.plans.length} văn bản` })));
  }
  $("#who").hidden = owners.length === 0;
}

function renderHits(hits) {
  const ol = $("#hits");
  ol.replaceChildren();
  for (const h of hits) {
    const facts = el("dl", { class: "facts" });
    const fact = (k, v) => { if (v) facts.append(el("div", {}, el("dt", { text: k }), el("dd", { text: v }))); };
    fact("Chủ trì:", (h.lead || []).join("; "));
    fact("Phối hợp:", (h.support || []).join("; "));
    fact("Thời hạn:", fmtDeadline(h.deadline));
    if (h.kind === "indicator") fact("Loại:", "chỉ tiêu");
    const page = h.span && h.span.page ? ` · trang ${h.span.page}` : "";
    const href = `#/plan/${encodeURIComponent(h.plan.id)}?task=${encodeURIComponent(h.task_id)}`;
    ol.append(el("li", { class: "hit" },
      el("p", { class: "snippet" }, markedText(h.text, h.marks || [], 360)),
      facts,
      el("p", { class: "plan-line" }, planLabel(h.plan) + page + " · ",
        el("a", { href, class: "open-plan", text: "Xem văn bản" }))));
  }
  $("#results").hidden = false;
}

async function runSearch(params) {
  const q = params.get("q");
  $("#plan-view").hidden = true;
  $("#search-view").hidden = false;
  if (!q) { $("#who").hidden = true; $("#results").hidden = true; setStatus(""); return; }
  fillForm(params);
  setStatus("Đang tìm…");
  try {
    const [res, who] = await Promise.all([
      getJSON("/api/search?" + params.toString()),
      getJSON("/api/who?" + params.toString()),
    ]);
    renderOwners(who.owners || []);
    renderHits(res.hits || []);
    const notes = (res.notes || []).join(" ");
    setStatus((res.hits.length ? `${res.hits.length} kết quả cho “${q}”` : `Không tìm thấy kết quả cho “${q}”`)
              + (notes ? ` — ${notes}` : ""));
  } catch (e) {
    $("#who").hidden = true; $("#results").hidden = true;
    setStatus("Lỗi: " + e.message, true);
  }
}

async function loadPlans() {
  try {
    const res = await getJSON("/api/plans");
    const ul = $("#plans"), sel = $("#plan-select");
    ul.replaceChildren();
    for (const p of res.plans) {
      ul.append(el("li", {}, el("a", { href: `#/plan/${encodeURIComponent(p.id)}`, text: planLabel(p) }),
        el("span", { class: "meta", text: ` — ${p.title || ""} (${p.task_count} nhiệm vụ)` })));
      const keep = sel.value;
      sel.append(el("option", { value: String(p.id), text: (p.number || "#" + p.id) + " — " + (p.issuer || "") }));
      sel.value = keep;
    }
  } catch (e) { setStatus("Không tải được danh sách văn bản: " + e.message, true); }
}

// ---------------------------------------------------------------- plan view

function renderPlanText(text, tasks, refs) {
  // cut the text at every span boundary; each piece knows the task/reference covering it
  const cuts = new Set([0, text.length]);
  const spans = [];
  for (const t of tasks) if (t.span) spans.push({ kind: "task", start: t.span.start, end: t.span.end, item: t });
  for (const r of refs) if (r.span) spans.push({ kind: "ref", start: r.span.start, end: r.span.end, item: r });
  for (const s of spans) {
    s.start = Math.max(0, Math.min(text.length, s.start));
    s.end = Math.max(s.start, Math.min(text.length, s.end));
    cuts.add(s.start); cuts.add(s.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const art = $("#plan-text");
  art.replaceChildren();
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i], b = points[i + 1];
    const piece = text.slice(a, b);
    const task = spans.find((s) => s.kind === "task" && s.start <= a && s.end >= b);
    const ref = spans.find((s) => s.kind === "ref" && s.start <= a && s.end >= b);
    if (!task && !ref) { art.append(piece); continue; }
    const classes = [task ? "task" : "", ref ? "ref" : ""].join(" ").trim();
    const title = [];
    if (task) {
      const t = task.item;
      title.push(`${t.id}` + (t.lead.length ? ` · Chủ trì: ${t.lead.join("; ")}` : "") +
        (t.deadline ? ` · Thời hạn: ${fmtDeadline(t.deadline)}` : ""));
    }
    if (ref) title.push(ref.item.symbol || ref.item.text);
    art.append(el("span", { class: classes, title: title.join("\n"), "data-task": task ? task.item.id : null }, piece));
  }
}

function focusTask(id) {
  document.querySelectorAll("span.task.focus").forEach((n) => n.classList.remove("focus"));
  const nodes = document.querySelectorAll(`span.task[data-task="${CSS.escape(id)}"]`);
  nodes.forEach((n) => n.classList.add("focus"));
  if (nodes.length) nodes[0].scrollIntoView({ block: "center" });
}

async function showPlan(id, taskId) {
  $("#search-view").hidden = true;
  $("#plan-view").hidden = false;
  setStatus("Đang tải văn bản…");
  try {
    const res = await getJSON("/api/plans/" + encodeURIComponent(id));
    const p = res.plan, ex = res.extraction || { tasks: [], legal_refs: [] };
    $("#plan-title").textContent = planLabel(p);
    $("#plan-meta").textContent = [p.title, p.source].filter(Boolean).join(" — ");
    renderPlanText(res.text || "", ex.tasks || [], ex.legal_refs || []);
    const ol = $("#plan-tasks");
    ol.replaceChildren();
    for (const t of ex.tasks || []) {
      ol.append(el("li", { onclick: () => focusTask(t.id), "data-task": t.id },
        el("strong", { text: t.id + " " }), t.text.length > 140 ? t.text.slice(0, 140) + "…" : t.text,
        t.lead.length ? el("div", { class: "meta", text: "Chủ trì: " + t.lead.join("; ") }) : null));
    }
    setStatus(`${(ex.tasks || []).length} nhiệm vụ, ${(ex.legal_refs || []).length} văn bản được viện dẫn`);
    if (taskId) focusTask(taskId);
  } catch (e) { setStatus("Lỗi: " + e.message, true); }
}

// ---------------------------------------------------------------- routing

// ---------------------------------------------------------------- tasks view

const TASK_FILTERS = ["owner", "province", "plan", "kind", "deadline_from", "deadline_to", "status", "as_of", "text"];

async function showTasks(params) {
  $("#plan-view").hidden = true;
  $("#search-view").hidden = true;
  $("#tasks-view").hidden = false;
  const form = $("#tasks-form");
  for (const n of TASK_FILTERS) form.elements[n].value = params.get(n) || "";
  const api = new URLSearchParams();
  for (const n of TASK_FILTERS) if (params.get(n)) api.set(n, params.get(n));
  const csv = new URLSearchParams(api), xlsx = new URLSearchParams(api);
  csv.set("format", "csv"); xlsx.set("format", "xlsx");
  $("#export-csv").setAttribute("href", "/api/tasks?" + csv.toString());
  $("#export-xlsx").setAttribute("href", "/api/tasks?" + xlsx.toString());
  setStatus("Đang tải…");
  try {
    const res = await getJSON("/api/tasks?" + api.toString());
    const body = $("#tasks-table tbody");
    body.replaceChildren();
    for (const t of res.tasks) {
      const href = `#/plan/${encodeURIComponent(t.plan_id)}?task=${encodeURIComponent(t.task_id)}`;
      body.append(el("tr", { class: "status-" + t.status.replace(/\s+/g, "-") },
        el("td", {}, el("a", { href, text: t.plan_number || "(không số)" })),
        el("td", { text: t.province }), el("td", { text: t.text, title: t.plan_title }),
        el("td", { text: t.lead }), el("td", { text: t.support }),
        el("td", { text: fmtDate(t.deadline_date) || t.deadline_text }), el("td", { text: t.status })));
    }
    const notes = (res.notes || []).join("; ");
    setStatus(`${res.count} nhiệm vụ` + (notes ? ` — lọc: ${notes}` : ""));
  } catch (e) { setStatus("Lỗi: " + e.message, true); }
}

function route() {
  const h = location.hash.replace(/^#/, "") || "/";
  const [path, query] = h.split("?");
  const params = new URLSearchParams(query || "");
  if (path === "/tasks") return showTasks(params);
  $("#tasks-view").hidden = true;
  const m = path.match(/^\/plan\/([^/]+)$/);
  if (m) return showPlan(decodeURIComponent(m[1]), params.get("task"));
  return runSearch(params);
}

document.addEventListener("DOMContentLoaded", () => {
  $("#search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = readForm();
    if (!params.get("q")) return;
    const target = "#/search?" + params.toString();
    if (location.hash === target) route(); else location.hash = target;
  });
  $("#tasks-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = $("#tasks-form"), params = new URLSearchParams();
    for (const n of TASK_FILTERS) if (form.elements[n].value.trim()) params.set(n, form.elements[n].value.trim());
    const target = "#/tasks?" + params.toString();
    if (location.hash === target) route(); else location.hash = target;
  });
  window.addEventListener("hashchange", route);
  loadPlans();
  route();
});
