"""HTTP API (FastAPI; OpenAPI schema at /openapi.json) and the web page.

Routes
  GET /                       the page (Vietnamese), assets under /static/<name> (a fixed whitelist)
  GET /api/search?q=...       hybrid search with filters
  GET /api/who?q=...          ranked owners with evidence tasks
  GET /docs                   the API reference (rendered from the OpenAPI schema on the server, offline)
  GET /api/tasks?owner=...    tasks without a query (owner, province, plan, kind, deadline range, status), JSON/CSV/XLSX
  GET /api/plans              the plans of the corpus
  GET /api/plans/{ref}        one plan: info, extraction records and normalized text (spans index into it)
  GET /api/registry           the commitments registry (``kehoach.corpus.registry``), 501 when absent
  GET /api/legal/{ref}        legal status of a plan's citations (``kehoach.corpus.legal.check``), 501 when absent

Inputs are untrusted: lengths and ranges are validated (422/400), no route maps a
parameter to a file path, responses are JSON (the page builds DOM with textContent)
and snippets are HTML-escaped on the server as well.
"""
from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path
from typing import Any, Callable, Optional, Protocol

from kehoach.errors import KehoachError
from kehoach.search.hybrid import MAX_QUERY_CHARS, Filters, SearchError, SearchIndex, plan_dict

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent / "web"
ASSETS = {  # name -> media type: the only files the app serves
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


# ---------------------------------------------------------------- backends

class Backend(Protocol):
    def index(self) -> SearchIndex: ...
    def plans(self) -> list[dict]: ...
    def plan(self, ref: str) -> Optional[dict]: ...          # {"plan", "extraction", "text"} or None
    def call(self, fn: Callable, *args) -> Any: ...           # run fn(corpus, *args) for optional modules


class CorpusBackend:
    """A corpus home: the index is reloaded when the corpus generation changes."""

    def __init__(self, home: Path, embedder: Optional[str] = "e5", link_embedder: Any = None):
        self.home = Path(home)
        self.embedder = embedder
        self.link_embedder = link_embedder      # the registry's linker embedder (None: the default, e5)
        self._index: Optional[SearchIndex] = None
        self._generation: Optional[int] = None
        self._lock = threading.Lock()

    def _corpus(self, readonly: bool = False):
        from kehoach.search.service import open_corpus
        return open_corpus(self.home, readonly=readonly)

    def call(self, fn, *args, readonly: bool = True):
        c = self._corpus(readonly=readonly)
        try:
            return fn(c, *args)
        finally:
            if hasattr(c, "close"):
                c.close()

    def index(self) -> SearchIndex:
        from kehoach.search.service import open_index
        with self._lock:
            c = self._corpus()
            try:
                gen = int(c.generation())
                if self._index is None or gen != self._generation:
                    self._index = open_index(self.home, embedder=self.embedder, dense=bool(self.embedder), corpus=c)
                    self._generation = gen
            finally:
                if hasattr(c, "close"):
                    c.close()
            return self._index

    @staticmethod
    def _info(p) -> dict:
        d = plan_dict(p.id, p.source, p)
        d.update({"task_count": p.task_count, "added_at": getattr(p, "added_at", None), "path": p.path,
                  "province": p.province})
        return d

    def plans(self) -> list[dict]:
        return self.call(lambda c: [self._info(p) for p in c.plans()])

    def plan(self, ref: str) -> Optional[dict]:
        def get(c):
            p = c.plan(int(ref) if ref.isdigit() else ref)
            if p is None:
                return None
            return {"plan": self._info(p), "extraction": c.extraction(p.id).to_dict(), "text": c.text(p.id)}
        return self.call(get)


class MemoryBackend:
    """Extractions (and their normalized texts) held in memory: tests, demos, the gold records."""

    def __init__(self, index: SearchIndex, extractions: dict[int, Any], texts: dict[int, str]):
        self._index = index
        self.extractions = extractions
        self.texts = texts

    def index(self) -> SearchIndex:
        return self._index

    def call(self, fn, *args, readonly: bool = True):
        raise NotImplementedError("in-memory records have no corpus database")

    def _info(self, pid: int) -> dict:
        ex = self.extractions[pid]
        d = plan_dict(pid, ex.source, ex.document)
        d["task_count"] = len(ex.tasks)
        return d

    def plans(self) -> list[dict]:
        return [self._info(pid) for pid in sorted(self.extractions)]

    def plan(self, ref: str) -> Optional[dict]:
        pid = int(ref) if ref.isdigit() else None
        if pid is None:
            for k, ex in self.extractions.items():
                if ref in (ex.document.number, ex.source, Path(ex.source).stem):
                    pid = k
        if pid not in self.extractions:
            return None
        return {"plan": self._info(pid), "extraction": self.extractions[pid].to_dict(), "text": self.texts.get(pid, "")}


# ---------------------------------------------------------------- optional stages

def registry_report(corpus, as_of: Optional[str] = None, embedder: Any = None) -> dict:
    """The commitments registry (``kehoach.corpus.registry.registry_from_corpus``)."""
    import datetime as _dt
    from kehoach.corpus.registry import parse_as_of, registry_from_corpus
    return registry_from_corpus(corpus, parse_as_of(as_of) if as_of else _dt.date.today(), embedder=embedder)


def legal_report(corpus, plan_id: int, as_of: Optional[str] = None) -> dict:
    """Legal status of a plan's citations (``kehoach.corpus.legal.check.check``), like ``kehoach legal check``."""
    import datetime as _dt
    from kehoach.corpus.legal.check import PlanInput, check
    from kehoach.corpus.legal.registry import Registry, ensure_schema
    ensure_schema(corpus.conn, corpus.ensure_schema)
    reg = Registry.load(corpus.conn)
    everything = {p.id: PlanInput(corpus.extraction(p.id), corpus.text(p.id)) for p in corpus.plans()}
    day = _dt.date.fromisoformat(as_of) if as_of else _dt.date.today()
    return check([everything[plan_id]], reg, day, corpus=list(everything.values()))


def available(*modules: str) -> bool:
    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError:
            return False
    return True


def _jsonable(x):
    if hasattr(x, "to_dict"):
        return x.to_dict()
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if hasattr(x, "__dataclass_fields__"):
        from dataclasses import asdict
        return asdict(x)
    return x


# ---------------------------------------------------------------- the app

def valid_date(value: Optional[str], name: str, partial: bool = True) -> Optional[str]:
    """``value`` when it is a real calendar date (ISO; "YYYY" or "YYYY-MM" too when ``partial``), else a 422."""
    import datetime as _dt
    import re
    from fastapi import HTTPException
    if value is None:
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value)
    try:
        if not m or (not partial and not m.group(3)):
            raise ValueError
        y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
        _dt.date(y, mo, d)
    except ValueError:
        raise HTTPException(422, f"{name}: not a date (expected {'YYYY[-MM[-DD]]' if partial else 'YYYY-MM-DD'})") \
            from None
    return value


def valid_plan_ref(ref: str) -> str:
    """A plan id (digits, at most 18 of them: SQLite's integer range), number ("116/KH-UBND") or source name."""
    from fastapi import HTTPException
    if len(ref) > 300 or any(ord(ch) < 32 or ord(ch) == 127 for ch in ref) \
            or ("/" in ref and not _is_number_like(ref)) or (ref.isdigit() and len(ref) > 18):
        raise HTTPException(400, "bad plan reference")
    return ref


def default_hosts(bind: str) -> list[str]:
    """Host headers the server answers by default: its bind address and the loopback names (DNS rebinding guard)."""
    hosts = {"localhost", "127.0.0.1", "::1", "[::1]"}
    if bind not in ("0.0.0.0", "::", ""):
        hosts.add(bind)
    return sorted(hosts)


def create_app(backend: Backend, allowed_hosts: Optional[list[str]] = None):
    from fastapi import Depends, FastAPI, HTTPException, Query, Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

    app = FastAPI(title="kehoach", version=_version(), docs_url=None, redoc_url=None,
                  description="Tìm kiếm nhiệm vụ trong các kế hoạch của cơ quan nhà nước — search the tasks of "
                              "Vietnamese government plans.")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        resp = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp

    if allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    @app.exception_handler(KehoachError)
    async def kehoach_error(request: Request, exc: KehoachError):
        # the corpus being unusable is the server's state (503); any other project error comes from the input
        from kehoach.corpus.store import CorpusError
        status = 503 if isinstance(exc, CorpusError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    Q = Query(..., min_length=1, max_length=MAX_QUERY_CHARS, description="query, any language, accents optional")
    Short = dict(max_length=200)

    date_re = r"^\d{4}(-\d{2}(-\d{2})?)?$"

    def filter_params(province: Optional[str] = Query(None, **Short), issuer: Optional[str] = Query(None, **Short),
                      owner: Optional[str] = Query(None, **Short), plan: Optional[str] = Query(None, **Short),
                      year: Optional[int] = Query(None, ge=1900, le=2200), type: Optional[str] = Query(None, **Short),
                      deadline_before: Optional[str] = Query(None, pattern=date_re),
                      deadline_after: Optional[str] = Query(None, pattern=date_re),
                      indicators: bool = False) -> Filters:
        """The filters shared by /api/search and /api/who (a FastAPI dependency)."""
        return Filters(province=province, issuer=issuer, owner=owner, plan=plan, year=year, type=type,
                       deadline_before=valid_date(deadline_before, "deadline_before"),
                       deadline_after=valid_date(deadline_after, "deadline_after"),
                       indicators=indicators).validate()

    @app.get("/api/search", summary="Hybrid search over tasks")
    def api_search(q: str = Q, limit: int = Query(10, ge=1, le=200),
                   mode: str = Query("hybrid", pattern="^(hybrid|lexical|dense)$"),
                   literal: bool = Query(False, description="no filters read from the query"),
                   f: Filters = Depends(filter_params)):
        from kehoach.search.question import ask
        return ask(backend.index(), q, limit=limit, filters=f, mode=mode, literal=literal).to_dict()

    @app.get("/api/who", summary="Which bodies own the tasks about a topic")
    def api_who(q: str = Q, limit: int = Query(10, ge=1, le=50), literal: bool = False,
                f: Filters = Depends(filter_params)):
        from kehoach.search.who import who
        return who(backend.index(), q, limit=limit, filters=f, understand=not literal).to_dict()

    def _date_param(value: Optional[str], name: str, end: bool = False) -> Optional[str]:
        """dd/mm/yyyy (or mm/yyyy) made ISO, then ``valid_date``."""
        from kehoach.search.tasks import parse_date
        if value is None:
            return None
        if len(value) > 20:
            raise HTTPException(422, f"{name}: not a date")
        iso = parse_date(value, name, end=end) if "/" in value or "." in value else value
        return valid_date(iso, name)

    @app.get("/api/tasks", summary="Tasks without a query: owner, province, plan, kind, deadline range, status")
    def api_tasks(owner: Optional[str] = Query(None, **Short), role: Optional[str] = Query(None, pattern="^(lead|support)$"),
                  province: Optional[str] = Query(None, **Short), plan: Optional[str] = Query(None, **Short),
                  kind: Optional[str] = Query(None, **Short),
                  deadline_from: Optional[str] = Query(None, max_length=20, description="dd/mm/yyyy or ISO"),
                  deadline_to: Optional[str] = Query(None, max_length=20, description="dd/mm/yyyy or ISO"),
                  status: Optional[str] = Query(None, pattern="^(overdue|due_soon|continuous|no_deadline|open)$"),
                  within: int = Query(30, ge=0, le=3660), as_of: Optional[str] = Query(None, max_length=20),
                  text: Optional[str] = Query(None, **Short), limit: int = Query(500, ge=1, le=100000),
                  format: str = Query("json", pattern="^(json|csv|xlsx)$")):
        from kehoach.search import tasks as T
        q = T.TaskQuery(owner=owner, role=role, province=province, plan=plan, kind=kind,
                        deadline_from=_date_param(deadline_from, "deadline_from"),
                        deadline_to=_date_param(deadline_to, "deadline_to", end=True), status=status,
                        within=within, as_of=_date_param(as_of, "as_of"), text=text, limit=limit).normalized()
        rs = T.rows(T.select(backend.index().docs, q), q.as_of, q.within)
        if format == "csv":
            return Response(T.csv_bytes(rs), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="nhiem-vu.csv"'})
        if format == "xlsx":
            return Response(T.xlsx_bytes(rs),
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": 'attachment; filename="nhiem-vu.xlsx"'})
        return {"filters": {k: v for k, v in vars(q).items() if v not in (None, "")}, "notes": q.notes(),
                "count": len(rs), "tasks": rs}

    @app.get("/api/plans", summary="The plans of the corpus")
    def api_plans():
        return {"plans": backend.plans()}

    @app.get("/api/plans/{ref}", summary="One plan: info, records, and its normalized text")
    def api_plan(ref: str):
        got = backend.plan(valid_plan_ref(ref))
        if got is None:
            raise HTTPException(404, f"no plan {ref!r}")
        return got

    as_of_q = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="status date (default today)")

    @app.get("/api/registry", summary="Registry of commitments across plans (when the corpus stage provides it)")
    def api_registry(as_of: Optional[str] = as_of_q):
        if isinstance(backend, MemoryBackend) or not available("kehoach.corpus.registry"):
            raise HTTPException(501, "registry not available in this build")
        return {"registry": _jsonable(backend.call(registry_report, valid_date(as_of, "as_of", partial=False),
                                                   getattr(backend, "link_embedder", None), readonly=False))}

    @app.get("/api/legal/{ref}", summary="Legal status of the documents a plan cites (when available)")
    def api_legal(ref: str, as_of: Optional[str] = as_of_q):
        valid_plan_ref(ref)
        as_of = valid_date(as_of, "as_of", partial=False)
        if isinstance(backend, MemoryBackend) or not available("kehoach.corpus.legal.check",
                                                                "kehoach.corpus.legal.registry"):
            raise HTTPException(501, "legal status check not available in this build")
        got = backend.plan(ref)
        if got is None:
            raise HTTPException(404, f"no plan {ref!r}")
        return {"plan": got["plan"], "legal": _jsonable(backend.call(legal_report, got["plan"]["id"], as_of,
                                                                     readonly=False))}

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs():
        """The API reference, rendered on the server from the OpenAPI schema (offline: no CDN, no script)."""
        return HTMLResponse(docs_html(app.openapi()))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        return HTMLResponse((WEB / "index.html").read_text("utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        from kehoach.search.views import EXTRA_ASSETS
        media = ASSETS.get(name) or EXTRA_ASSETS.get(name)   # whitelist: the parameter never reaches the file system otherwise
        if media is None:
            raise HTTPException(404, "not found")
        return FileResponse(WEB / name, media_type=media)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    from kehoach.search import views
    views.register(app, backend)
    return app


def docs_html(schema: dict) -> str:
    """OpenAPI schema -> one plain HTML page: each route, its summary and its parameters."""
    from html import escape as e
    info = schema.get("info", {})
    out = ["<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>kehoach API</title>",
           "<link rel='stylesheet' href='/static/style.css'></head><body><main>",
           f"<h1>{e(info.get('title', 'API'))} {e(str(info.get('version', '')))}</h1>",
           f"<p>{e(info.get('description', ''))}</p><p>Schema: <a href='/openapi.json'>/openapi.json</a></p>"]
    for path, ops in sorted(schema.get("paths", {}).items()):
        for method, op in ops.items():
            out.append(f"<section><h2><code>{e(method.upper())} {e(path)}</code></h2><p>{e(op.get('summary', ''))}</p>")
            params = op.get("parameters") or []
            if params:
                out.append("<table><tr><th>tham số</th><th>ở</th><th>kiểu</th><th>bắt buộc</th><th>mô tả</th></tr>")
                for prm in params:
                    sch = prm.get("schema") or {}
                    typ = sch.get("type") or " | ".join(x.get("type", "") for x in sch.get("anyOf", []) if x.get("type"))
                    if sch.get("pattern"):
                        typ += f" {sch['pattern']}"
                    out.append(f"<tr><td><code>{e(prm.get('name', ''))}</code></td><td>{e(prm.get('in', ''))}</td>"
                               f"<td>{e(typ)}</td><td>{'có' if prm.get('required') else ''}</td>"
                               f"<td>{e(prm.get('description') or sch.get('description') or '')}</td></tr>")
                out.append("</table>")
            out.append("</section>")
    out.append("</main></body></html>")
    return "\n".join(out)


def _is_number_like(ref: str) -> bool:
    """Plan numbers contain "/" ("116/KH-UBND"); anything else with "/" is refused."""
    import re
    return re.fullmatch(r"[\w\-.]+/[\w\-.Đđ]+", ref) is not None


def _version() -> str:
    try:
        from kehoach import __version__
        return __version__
    except Exception:
        return "0"


def serve(home: Path, host: str = "127.0.0.1", port: int = 8000, embedder: Optional[str] = "e5",
          extra_hosts: Optional[list[str]] = None) -> int:
    import uvicorn
    if not 0 < port < 65536:
        raise SearchError(f"--port must be 1..65535, got {port}")
    backend = CorpusBackend(home, embedder)
    backend.index()   # build or load before the first request
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: reachable from other machines", host)
    uvicorn.run(create_app(backend, allowed_hosts=default_hosts(host) + list(extra_hosts or ())),
                host=host, port=port, log_level="warning")
    return 0
