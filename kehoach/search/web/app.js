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

// Every request of the page goes through here: the one place to add a header (e.g. Authorization).
function request(url, accept) {
  return fetch(url, { headers: { Accept: accept || "application/json" } });
}

async function failure(r) {
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  let msg = body && body.detail;
  if (Array.isArray(msg)) msg = msg.map((d) => (d.loc || []).slice(-1)[0] + ": " + d.msg).join("; ");
  return new Error(msg || ("HTTP " + r.status));
}

async function getJSON(url) {
  const r = await request(url, "application/json");
  if (!r.ok) throw await failure(r);
  return r.json();
}

async function getText(url, accept) {
  const r = await request(url, accept || "text/plain");
  if (!r.ok) throw await failure(r);
  return r.text();
}

const VIEWS = ["search-view", "plan-view", "tasks-view", "registry-view", "legal-view", "charts-view"];

function show(view) {
  for (const v of VIEWS) $("#" + v).hidden = v !== view;
  $("#search-form").hidden = view !== "search-view";
  const nav = view === "plan-view" ? "search-view" : view;
  document.querySelectorAll("nav.views a").forEach((a) => {
    if (a.dataset.view === nav) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
}

// a view's filter form <-> the hash's parameters
function formToParams(form, names) {
  const params = new URLSearchParams();
  for (const n of names) {
    const input = form.elements[n];
    if (!input) continue;
    if (input.type === "checkbox") { if (input.checked) params.set(n, "true"); }
    else if (input.value.trim()) params.set(n, input.value.trim());
  }
  return params;
}

function paramsToForm(form, names, params) {
  for (const n of names) {
    const input = form.elements[n];
    if (!input) continue;
    if (input.type === "checkbox") input.checked = params.get(n) === "true";
    else input.value = params.get(n) || "";
  }
}

function pick(params, names) {
  const out = new URLSearchParams();
  for (const n of names) if (params.get(n)) out.set(n, params.get(n));
  return out;
}

function withFormat(base, params, format) {
  const p = new URLSearchParams(params);
  p.set("format", format);
  return base + "?" + p.toString();
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
    fact("Mục:", h.heading_path || h.section);
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

function renderCites(plans) {
  const ol = $("#cite-plans");
  ol.replaceChildren();
  for (const p of plans) {
    const href = `#/plan/${encodeURIComponent(p.plan_id)}`;
    const refs = el("ul", { class: "refs" });
    for (const r of (p.refs || []).slice(0, 3)) refs.append(el("li", { class: "ref", text: "căn cứ: " + (r.text || r.symbol || "") }));
    const label = [p.number || "(không số)", p.province, p.date ? fmtDate(p.date) : ""].filter(Boolean).join(" · ");
    ol.append(el("li", { class: "hit cite" },
      el("p", { class: "plan-line" }, el("a", { href, class: "open-plan", text: label })),
      p.title ? el("p", { class: "snippet", text: p.title }) : null,
      refs));
  }
  $("#cites").hidden = plans.length === 0;
}

async function runSearch(params) {
  const q = params.get("q");
  show("search-view");
  // the last search's answer is hidden at once: it must not stand, clickable, beside a new question
  $("#who").hidden = true; $("#results").hidden = true; $("#cites").hidden = true;
  if (!q) { setStatus(""); return; }
  fillForm(params);
  setStatus("Đang tìm…");
  try {
    const [res, who] = await Promise.all([
      getJSON("/api/search?" + params.toString()),
      getJSON("/api/who?" + params.toString()),
    ]);
    const notes = (res.notes || []).join(" ");
    if (res.mode === "cites") {                 // "kế hoạch nào căn cứ Luật ...": plans, not tasks
      $("#who").hidden = true; $("#results").hidden = true;
      renderCites(res.plans || []);
      const empty = (res.understood || {}).empty;
      setStatus(res.plans.length ? `${res.plans.length} kế hoạch căn cứ ${res.cites_written}` : empty);
      return;
    }
    $("#cites").hidden = true;
    renderOwners(who.owners || []);
    renderHits(res.hits || []);
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
    const ul = $("#plans"), sel = $("#plan-select"), legal = $("#legal-plan");
    ul.replaceChildren();
    for (const p of res.plans) {
      ul.append(el("li", {}, el("a", { href: `#/plan/${encodeURIComponent(p.id)}`, text: planLabel(p) }),
        el("span", { class: "meta", text: ` — ${p.title || ""} (${p.task_count} nhiệm vụ)` })));
      for (const s of [sel, legal]) {
        const keep = s.value;
        s.append(el("option", { value: String(p.id), text: (p.number || "#" + p.id) + " — " + (p.issuer || "") }));
        s.value = keep;
      }
    }
    if (legal.dataset.want) legal.value = legal.dataset.want;
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
  show("plan-view");
  setStatus("Đang tải văn bản…");
  $("#plan-legal").setAttribute("href", "#/legal/" + encodeURIComponent(id));
  $("#plan-tasks-link").setAttribute("href", "#/tasks?plan=" + encodeURIComponent(id));
  try {
    const res = await getJSON("/api/plans/" + encodeURIComponent(id));
    const p = res.plan, ex = res.extraction || { tasks: [], legal_refs: [] };
    $("#plan-title").textContent = planLabel(p);
    $("#plan-meta").textContent = [p.title, (p.source || "").split(/[\\/]/).pop()].filter(Boolean).join(" — ");
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

// ---------------------------------------------------------------- tasks view

const TASK_FILTERS = ["owner", "role", "province", "plan", "kind", "deadline_from", "deadline_to", "status", "as_of", "text"];

async function showTasks(params) {
  show("tasks-view");
  paramsToForm($("#tasks-form"), TASK_FILTERS, params);
  const api = pick(params, TASK_FILTERS);
  $("#export-csv").setAttribute("href", withFormat("/api/tasks", api, "csv"));
  $("#export-xlsx").setAttribute("href", withFormat("/api/tasks", api, "xlsx"));
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

// ---------------------------------------------------------------- registry view

const REGISTRY_FILTERS = ["status", "owner", "province", "plan", "text", "as_of", "linked"];

function planHref(key) {
  const i = (key || "").indexOf(":");
  if (i < 0) return null;
  return `#/plan/${encodeURIComponent(key.slice(0, i))}?task=${encodeURIComponent(key.slice(i + 1))}`;
}

function planName(r) {
  return r.plan_number || String(r.source || "").split(/[\\/]/).pop() || "(không số)";
}

function linkCell(links) {
  const td = el("td", { class: "links" });
  for (const l of (links || []).slice(0, 3)) {
    const pct = typeof l.prob === "number" ? l.prob.toFixed(2).replace(".", ",") : "";
    const href = planHref(l.task);
    td.append(el("div", { class: "link-ev" },
      "↔ ", href ? el("a", { href, text: `${l.plan_number || ""} ${l.task_id || ""}`.trim() })
                 : `${l.plan_number || ""} ${l.task_id || ""}`.trim(),
      el("span", { class: "meta", text: ` ${pct}` + ((l.shared_words || []).length ? " · " + l.shared_words.join(", ") : "") })));
  }
  if ((links || []).length > 3) td.append(el("div", { class: "meta", text: `và ${links.length - 3} liên kết khác` }));
  return td;
}

async function showRegistry(params) {
  show("registry-view");
  paramsToForm($("#registry-form"), REGISTRY_FILTERS, params);
  const api = pick(params, REGISTRY_FILTERS);
  $("#registry-csv").setAttribute("href", withFormat("/api/registry/rows", api, "csv"));
  $("#registry-xlsx").setAttribute("href", withFormat("/api/registry/rows", api, "xlsx"));
  setStatus("Đang lập sổ theo dõi… (lần đầu có thể mất vài phút)");
  const body = $("#registry-table tbody");
  try {
    const res = await getJSON("/api/registry/rows?" + api.toString());
    body.replaceChildren();
    for (const c of res.clusters || []) {
      const rows = c.rows || [];
      if ((c.size || rows.length) > 1) {
        body.append(el("tr", { class: "cluster" }, el("td", { colspan: "9" },
          el("code", { text: c.id + " " }), el("strong", { text: c.label || c.id }),
          el("span", { class: "meta", text: ` — ${c.size || rows.length} nhiệm vụ, ${(c.plans || []).length} văn bản: `
                                            + (c.plans || []).join(", ") }))));
      }
      for (const r of rows) {
        const href = planHref(r.key);
        body.append(el("tr", { class: "status-" + String(r.status || "").replace(/\s+/g, "-"), "data-cluster": c.id },
          el("td", {}, href ? el("a", { href, text: planName(r) }) : planName(r),
            el("div", { class: "id", text: `${r.task_id} · ${r.cluster_id || c.id}` })),
          el("td", { text: r.section }), el("td", { class: "text", text: clip(r.text, 260), title: r.text }),
          el("td", { text: r.lead }), el("td", { text: r.support }),
          el("td", { text: fmtDate(r.deadline_date) || r.deadline_text }), el("td", { text: r.status }),
          el("td", { text: r.legal_refs }), linkCell(r.links)));
      }
    }
    const counts = Object.entries(res.statuses || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    setStatus(`${res.count} nhiệm vụ trong ${(res.clusters || []).length} nhóm` + (counts ? ` — ${counts}` : "")
              + (res.as_of ? ` (tính đến ${fmtDate(res.as_of)})` : ""));
  } catch (e) { body.replaceChildren(); setStatus("Lỗi: " + e.message, true); }
}

// ---------------------------------------------------------------- legal view

const LEGAL_VI = { expired: "Hết hiệu lực", replaced: "Bị thay thế", abolished: "Bị bãi bỏ", in_force: "Còn hiệu lực",
  unknown: "Chưa rõ", partly_expired: "Hết hiệu lực một phần", amended: "Được sửa đổi, bổ sung",
  not_yet_in_force: "Chưa có hiệu lực", period_ended: "Hết thời kỳ thực hiện" };
// problems first: what no longer holds, then what changed, then what is not known
const LEGAL_ORDER = ["expired", "replaced", "abolished", "period_ended", "partly_expired", "amended",
  "not_yet_in_force", "unknown", "in_force"];
const PROBLEMS = new Set(["expired", "replaced", "abolished", "period_ended", "partly_expired"]);
const EVIDENCE_VI = { rule: "quy tắc", registry: "cơ sở dữ liệu văn bản", corpus: "văn bản trong kho", text: "văn bản" };

// "…/seeds/000_x.txt@237-518; …" -> "000_x.txt@237-518; …": the file names, not the server's folders
function shortWhere(where) {
  return String(where).split("; ").map((w) => w.replace(/^.*[\\/]/, "")).join("; ");
}

function clip(text, n) {
  const t = text || "";
  return t.length > n ? t.slice(0, n - 1) + "…" : t;
}

function legalStatus(r) {
  return r.status_vi || r.tinh_trang || r.status_label || LEGAL_VI[r.status] || r.status || "Chưa rõ";
}

function legalRank(r) {
  const i = LEGAL_ORDER.indexOf(r.status);
  return i < 0 ? LEGAL_ORDER.length : i;
}

function renderLegalRef(r, planId) {
  const cls = PROBLEMS.has(r.status) ? "problem" : r.status === "in_force" ? "ok" : "unclear";
  const head = el("p", { class: "ref-head" }, el("span", { class: "badge " + cls, text: legalStatus(r) }), " ",
    el("strong", { text: r.symbol || r.text || "" }),
    el("span", { class: "meta", text: " " + [r.type, r.date ? "ngày " + fmtDate(r.date) : "", r.issuer].filter(Boolean).join(" · ") }));
  const li = el("li", { class: "legal-ref " + cls, "data-status": r.status || "" }, head);
  if (r.text && r.text !== r.symbol) li.append(el("p", { class: "cite", text: r.text }));
  const facts = [];
  if (r.since) facts.push("từ ngày " + fmtDate(r.since));
  if (r.replaced_by) facts.push("thay thế bởi " + r.replaced_by);
  if (r.last_known && r.last_known.status) facts.push(`lần cuối ghi nhận: ${LEGAL_VI[r.last_known.status] || r.last_known.status}`
    + (r.last_known.date ? " ngày " + fmtDate(r.last_known.date) : ""));
  if (facts.length) li.append(el("p", { class: "facts", text: facts.join(" · ") }));
  const ev = r.evidence || [];
  if (ev.length) {
    const ul = el("ul", { class: "evidence" });
    for (const e of ev.slice(0, 4)) {
      ul.append(el("li", {}, el("span", { class: "kind", text: (EVIDENCE_VI[e.kind] || e.kind || "") + ": " }),
        e.text || "", e.where ? el("span", { class: "meta", text: " — " + shortWhere(e.where) }) : null));
    }
    li.append(el("p", { class: "meta", text: "Bằng chứng:" }), ul);
  }
  const tasks = r.tasks || [];
  if (tasks.length) {
    const ul = el("ul", { class: "relying" });
    for (const t of tasks) {
      const id = t.id || t.task_id;
      ul.append(el("li", {}, el("a", { href: `#/plan/${encodeURIComponent(planId)}?task=${encodeURIComponent(id)}`, text: id }),
        " " + (t.text || ""), (t.lead || []).length ? el("span", { class: "meta", text: " — chủ trì: " + t.lead.join("; ") }) : null));
    }
    li.append(el("p", { class: "meta", text: `Nhiệm vụ dựa trên văn bản này (${tasks.length}):` }), ul);
  }
  return li;
}

async function showLegal(id, params) {
  show("legal-view");
  const form = $("#legal-form");
  form.elements.plan.value = id || "";
  form.elements.plan.dataset.want = id || "";
  form.elements.as_of.value = params.get("as_of") || "";
  const ol = $("#legal-refs"), bodies = $("#legal-bodies");
  ol.replaceChildren(); bodies.replaceChildren();
  $("#legal-bodies-box").hidden = true;
  $("#legal-title").textContent = ""; $("#legal-summary").textContent = "";
  if (!id) { setStatus("Chọn một văn bản để xem tình trạng pháp lý của các văn bản nó viện dẫn."); return; }
  setStatus("Đang kiểm tra…");
  try {
    const q = params.get("as_of") ? "?as_of=" + encodeURIComponent(params.get("as_of")) : "";
    const res = await getJSON("/api/legal/" + encodeURIComponent(id) + q);
    const rep = res.legal || {};
    const p = (rep.plans || [])[0] || {};
    const planId = (res.plan && res.plan.id) || id;
    $("#legal-title").textContent = res.plan ? planLabel(res.plan) : (p.number || p.source || "");
    const refs = (p.refs || []).slice().sort((a, b) => legalRank(a) - legalRank(b));
    const counts = {};
    for (const r of refs) counts[legalStatus(r)] = (counts[legalStatus(r)] || 0) + 1;
    const text = typeof rep.summary === "string" ? rep.summary : (rep.summary && (rep.summary.text || rep.summary.vi)) || "";
    $("#legal-summary").textContent = text || (`Tính đến ${fmtDate(rep.as_of)}: ${refs.length} văn bản được viện dẫn`
      + (refs.length ? " — " + Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(", ") : ""));
    for (const r of refs) ol.append(renderLegalRef(r, planId));
    for (const b of p.bodies || []) {
      bodies.append(el("li", {}, el("strong", { text: b.name || "" }),
        ` không còn từ ${fmtDate(b.since) || "?"}` + (b.successor ? ` → ${b.successor}` : " (chưa rõ cơ quan kế thừa)"),
        (b.tasks || []).length ? el("span", { class: "meta", text: " — nhiệm vụ còn hạn: " + b.tasks.join(", ") }) : null));
    }
    $("#legal-bodies-box").hidden = !(p.bodies || []).length;
    const bad = refs.filter((r) => PROBLEMS.has(r.status)).length;
    setStatus(`${refs.length} văn bản được viện dẫn, ${bad} cần xem lại`);
  } catch (e) { setStatus("Lỗi: " + e.message, true); }
}

// ---------------------------------------------------------------- charts view

const CHART_FILTERS = ["owner", "province", "kind", "status", "as_of", "top"];

async function drawChart(box, api) {
  const url = `/api/charts/${box.dataset.chart}.svg?` + api.toString();
  try {
    const svg = await getText(url, "image/svg+xml");
    const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
    const root = doc.documentElement;
    if (!root || root.nodeName !== "svg") throw new Error("biểu đồ không đọc được");
    box.replaceChildren(document.importNode(root, true),
      el("figcaption", {}, el("a", { href: url, text: "Mở ảnh SVG" })));
  } catch (e) { box.replaceChildren(el("p", { class: "status error", text: "Lỗi: " + e.message })); }
}

async function showCharts(params) {
  show("charts-view");
  paramsToForm($("#charts-form"), CHART_FILTERS, params);
  setStatus("Đang vẽ…");
  const api = pick(params, CHART_FILTERS);
  await Promise.all([...document.querySelectorAll("#charts-view .chart-box")].map((box) => drawChart(box, api)));
  setStatus("");
}

// ---------------------------------------------------------------- routing

function route() {
  const h = location.hash.replace(/^#/, "") || "/";
  const [path, query] = h.split("?");
  const params = new URLSearchParams(query || "");
  if (path === "/tasks") return showTasks(params);
  if (path === "/registry") return showRegistry(params);
  if (path === "/charts") return showCharts(params);
  const legal = path.match(/^\/legal(?:\/([^/]+))?$/);
  if (legal) return showLegal(legal[1] ? decodeURIComponent(legal[1]) : "", params);
  const m = path.match(/^\/plan\/([^/]+)$/);
  if (m) return showPlan(decodeURIComponent(m[1]), params.get("task"));
  return runSearch(params);
}

function go(target) {
  if (location.hash === target) route(); else location.hash = target;
}

function onFilterSubmit(formSel, path, names) {
  $(formSel).addEventListener("submit", (ev) => {
    ev.preventDefault();
    go(`#/${path}?` + formToParams($(formSel), names).toString());
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("#search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = readForm();
    if (!params.get("q")) return;
    go("#/search?" + params.toString());
  });
  onFilterSubmit("#tasks-form", "tasks", TASK_FILTERS);
  onFilterSubmit("#registry-form", "registry", REGISTRY_FILTERS);
  onFilterSubmit("#charts-form", "charts", CHART_FILTERS);
  $("#legal-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = $("#legal-form");
    if (!form.elements.plan.value) return;
    const q = form.elements.as_of.value ? "?as_of=" + encodeURIComponent(form.elements.as_of.value) : "";
    go("#/legal/" + encodeURIComponent(form.elements.plan.value) + q);
  });
  window.addEventListener("hashchange", route);
  loadPlans();
  route();
});
