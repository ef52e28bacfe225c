"""Views of the web page beyond search: charts (server-side SVG) and the registry table, with
the routes they need.

``register(app, backend)`` is called by ``server.create_app`` after the core API routes;
``EXTRA_ASSETS`` (name -> media type) widens the static whitelist of ``server.ASSETS``.

Routes
  GET /api/charts/{name}.svg   name: owners | deadlines | provinces; the /api/tasks filters, top, width
  GET /api/charts/{name}.json  the same chart's bars (label, value, parts, the tasks-view filters of each bar)
  GET /api/registry/rows       the registry (``kehoach.corpus.registry``) filtered by status / owner /
                               province / plan / text / linked, as JSON (clusters of rows with their
                               link evidence), CSV (UTF-8 with BOM) or XLSX: the registry's own writers
"""
from __future__ import annotations

import io
import os
import tempfile
from typing import Any, Optional

from kehoach.search.text import fold, folded_tokens

EXTRA_ASSETS: dict[str, str] = {}
CHARTS = ("owners", "deadlines", "provinces")
TASK_LEVEL = ("owner", "role", "deadline_from", "deadline_to", "status", "text")   # filters on tasks, not plans


# ---------------------------------------------------------------- the registry, filtered (pure)

def _words(s: Optional[str]) -> str:
    return " " + " ".join(folded_tokens(s or "")) + " "


def status_label(value: str) -> str:
    """A status as the registry shows it (``tinh_trang``): "Quá hạn" from "Quá hạn", "qua han" or "overdue"."""
    from kehoach.search.tasks import STATUS_ALIASES, STATUS_VI, TasksError
    code = STATUS_ALIASES.get(fold(value).strip().replace(" ", "-").replace("_", "-")) \
        or STATUS_ALIASES.get(value.strip())
    if code is None:
        raise TasksError(f"status: expected one of {', '.join(STATUS_VI.values())}, got {value!r}")
    return STATUS_VI[code]


def task_matches(t: dict, *, status: Optional[str] = None, owner: Optional[str] = None,
                 province: Optional[str] = None, plan: Optional[str] = None, text: Optional[str] = None) -> bool:
    """One registry task against the filters (``status`` already a ``status_label``)."""
    from kehoach.search.tasks import owner_key
    p = t.get("plan") or {}
    if status and t.get("tinh_trang") != status:
        return False
    if owner:
        want = owner_key(owner)
        if not any(want in owner_key(n) for n in (t.get("lead") or []) + (t.get("support") or [])):
            return False
    if province and _words(province) not in _words(p.get("province")) and _words(province) not in _words(p.get("issuer")):
        return False
    if plan:
        src = t.get("source") or ""
        stem = os.path.splitext(os.path.basename(src))[0]
        if fold(plan.strip()) != fold(p.get("number") or "") and plan.strip() not in (src, stem):
            return False
    if text and _words(text) not in _words(t.get("text")):
        return False
    return True


def filter_registry(reg: dict, *, status: Optional[str] = None, owner: Optional[str] = None,
                    province: Optional[str] = None, plan: Optional[str] = None, text: Optional[str] = None,
                    linked: bool = False, limit: Optional[int] = None) -> dict:
    """The registry with only the tasks that pass the filters (clusters left empty dropped; ``linked``:
    only clusters of 2+ tasks). A cluster keeps its ``size`` (its tasks before filtering)."""
    status = status_label(status) if status else None
    out, n = [], 0
    for c in reg.get("clusters", []):
        if linked and len(c.get("tasks", [])) < 2:
            continue
        kept = [t for t in c.get("tasks", []) if task_matches(t, status=status, owner=owner, province=province,
                                                             plan=plan, text=text)]
        if not kept:
            continue
        if limit is not None and n + len(kept) > limit:
            kept = kept[:max(0, limit - n)]
            if not kept:
                break
        out.append(dict(c, tasks=kept, size=c.get("size", len(c.get("tasks", [])))))
        n += len(kept)
    return dict(reg, clusters=out)


def link_evidence(cluster: dict, key_of: dict[tuple[str, str], str]) -> dict[str, list[dict]]:
    """Task key -> the links of ``cluster`` it takes part in, strongest first: the other task, the
    probability and the shared words (the linker's evidence)."""
    by_key = {}
    for t in cluster.get("tasks", []):
        k = key_of.get((t.get("source"), t.get("task_id")))
        if k:
            by_key[k] = t
    out: dict[str, list[dict]] = {}
    for l in cluster.get("links") or []:
        for me, other in ((l.get("a"), l.get("b")), (l.get("b"), l.get("a"))):
            o = by_key.get(other)
            ev = l.get("evidence") or {}
            out.setdefault(me, []).append({
                "task": other, "task_id": (o or {}).get("task_id") or str(other).split(":")[-1],
                "plan_number": ((o or {}).get("plan") or {}).get("number")
                or os.path.basename((o or {}).get("source") or "") or None,
                "prob": l.get("prob"), "shared_words": list(ev.get("shared_words") or [])[:8]})
    for v in out.values():
        v.sort(key=lambda x: -(x["prob"] or 0))
    return out


def registry_json(reg: dict, key_of: dict[tuple[str, str], str]) -> dict:
    """Clusters of table rows (``registry_rows``) with each row's key and its link evidence."""
    from kehoach.corpus.registry import registry_rows
    clusters, counts = [], {}
    for c in reg.get("clusters", []):
        rows = registry_rows({"as_of": reg.get("as_of"), "clusters": [c]})
        ev = link_evidence(c, key_of)
        for r, t in zip(rows, c["tasks"]):
            r["key"] = key_of.get((t.get("source"), t.get("task_id")))
            r["links"] = ev.get(r["key"], [])
            r["cluster_size"] = c.get("size", r["cluster_size"])
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        plans = []
        for r in rows:
            label = r["plan_number"] or os.path.basename(r["source"])
            if label not in plans:
                plans.append(label)
        clusters.append({"id": c["id"], "label": c.get("label"), "size": c.get("size", len(rows)), "plans": plans,
                         "rows": rows})
    return {"as_of": reg.get("as_of"), "count": sum(len(c["rows"]) for c in clusters), "statuses": counts,
            "clusters": clusters}


def registry_csv(reg: dict) -> bytes:
    from kehoach.corpus.registry import write_csv
    buf = io.StringIO(newline="")
    write_csv(reg, buf)
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")


def registry_xlsx(reg: dict) -> bytes:
    from kehoach.corpus.registry import write_xlsx
    with tempfile.TemporaryDirectory(prefix="kehoach-registry-") as d:
        path = os.path.join(d, "registry.xlsx")
        write_xlsx(reg, path)
        with open(path, "rb") as f:
            return f.read()


# ---------------------------------------------------------------- routes

def register(app: Any, backend: Any) -> None:
    """Add the view routes to ``app`` (a FastAPI app) for ``backend`` (a ``server.Backend``)."""
    from fastapi import Depends, HTTPException, Path, Query
    from fastapi.responses import Response

    from kehoach.search import charts as C
    from kehoach.search import tasks as T
    from kehoach.search.server import MemoryBackend, _task_query_dependency, available, registry_report, valid_date

    Short = dict(max_length=200)

    task_query = _task_query_dependency()      # the filters of /api/tasks, one definition

    def chart_of(name: str, q: T.TaskQuery, top: int) -> "C.Chart":
        from datetime import date
        docs = T.select(backend.index().docs, q)
        if name == "owners":
            return C.owner_bars(docs, top)
        if name == "deadlines":
            return C.month_bars(docs, date.fromisoformat(q.as_of), q.within)
        plans = backend.plans()
        if any(getattr(q, f) for f in TASK_LEVEL + ("province", "plan", "kind")):
            ids = {d.plan_id for d in docs}
            plans = [p for p in plans if p.get("id") in ids]
        return C.province_bars(plans)

    name_q = Path(..., pattern="^(" + "|".join(CHARTS) + ")$")
    top_q = Query(15, ge=1, le=50, description="owners chart: how many bodies")

    @app.get("/api/charts/{name}.svg", summary="A chart as SVG: tasks per owner, deadlines per month, plans per province",
             response_class=Response)
    def api_chart_svg(name: str = name_q, top: int = top_q, width: int = Query(760, ge=320, le=1600),
                      q: T.TaskQuery = Depends(task_query)):
        svg = C.render(chart_of(name, q, top), width)
        return Response(svg, media_type="image/svg+xml; charset=utf-8", headers={"Cache-Control": "no-store"})

    @app.get("/api/charts/{name}.json", summary="A chart's bars as JSON (label, value, parts, tasks-view filters)")
    def api_chart_json(name: str = name_q, top: int = top_q, q: T.TaskQuery = Depends(task_query)):
        return chart_of(name, q, top).to_dict()

    @app.get("/api/registry/rows", summary="The registry as rows, filtered (status, owner, province, plan, text); "
                                           "JSON, CSV or XLSX")
    def api_registry_rows(as_of: Optional[str] = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                                        description="status date (default today)"),
                          status: Optional[str] = Query(None, **Short, description="Quá hạn, Sắp đến hạn, "
                                                        "Thường xuyên, Chưa có thời hạn, Còn hạn (or overdue, ...)"),
                          owner: Optional[str] = Query(None, **Short), province: Optional[str] = Query(None, **Short),
                          plan: Optional[str] = Query(None, **Short), text: Optional[str] = Query(None, **Short),
                          linked: bool = Query(False, description="only commitments shared by 2+ tasks"),
                          limit: int = Query(1000, ge=1, le=100000),
                          format: str = Query("json", pattern="^(json|csv|xlsx)$")):
        if isinstance(backend, MemoryBackend) or not available("kehoach.corpus.registry"):
            raise HTTPException(501, "registry not available in this build")
        # the backend's cached registry (one computation per corpus generation, its own linker embedder)
        reg = backend.call(registry_report, valid_date(as_of, "as_of", partial=False))
        reg = filter_registry(reg, status=status or None, owner=owner or None, province=province or None,
                              plan=plan or None, text=text or None, linked=linked, limit=limit)
        if format == "csv":
            return Response(registry_csv(reg), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="so-theo-doi-nhiem-vu.csv"'})
        if format == "xlsx":
            return Response(registry_xlsx(reg),
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": 'attachment; filename="so-theo-doi-nhiem-vu.xlsx"'})
        key_of = {}
        for p in backend.plans():
            key_of[p["source"]] = p["id"]
        keys = {(t.get("source"), t.get("task_id")): f"{key_of[t.get('source')]}:{t.get('task_id')}"
                for c in reg["clusters"] for t in c["tasks"] if t.get("source") in key_of}
        return registry_json(reg, keys)
