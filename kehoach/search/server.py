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
  GET|POST /login             with ``serve --token``: sets the session cookie (HttpOnly, SameSite=Strict)

Every GET reads the corpus through a read-only connection. The registry and the legal reports are
cached by the corpus generation (``ReportCache``): one computation per generation, the registry in
a worker process of its own so that search keeps answering while it runs.

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

from starlette.requests import Request   # route signatures are resolved in this module (annotations are strings)
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
    """A corpus home, read through read-only connections (every GET route): the search index is
    reloaded when the corpus generation changes, and the registry and legal reports are cached by
    generation (``ReportCache``): computed once per generation, whatever the number of requests."""

    def __init__(self, home: Path, embedder: Optional[str] = "e5", link_embedder: Any = None, *,
                 registry_worker: str = "process"):
        """``link_embedder``: an embedder object for the registry's linker (None: the corpus default, e5);
        an object cannot cross to a worker process, so with one the registry is computed in a thread."""
        self.home = Path(home)
        self.embedder = embedder
        self.link_embedder = link_embedder
        if link_embedder is not None:
            registry_worker = "thread"
        self._index: Optional[SearchIndex] = None
        self._generation: Optional[int] = None
        self._refresher: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self._gen_corpus = None
        self.reports = ReportCache(self.home, worker=registry_worker, embedder=link_embedder)

    def _corpus(self, readonly: bool = True):
        from kehoach.search.service import open_corpus
        return open_corpus(self.home, readonly=readonly)

    def generation(self) -> int:
        """The corpus generation, read on one kept read-only connection (opening a corpus runs
        SQLite's quick_check, too slow to do per request on a large corpus)."""
        with self._gen_lock:
            if self._gen_corpus is None:
                self._gen_corpus = self._corpus()
            try:
                return int(self._gen_corpus.generation())
            except Exception:
                self._gen_corpus.close()
                self._gen_corpus = None
                raise

    def call(self, fn, *args, readonly: bool = True):
        """``fn(corpus, *args)`` on a read-only connection; the registry and legal reports come from
        the cache (views may call ``backend.call(registry_report, as_of)`` and get it too)."""
        if fn is registry_report:
            return self.registry(*args)
        if fn is legal_report:
            return self.legal(*args)
        c = self._corpus(readonly=readonly)
        try:
            return fn(c, *args)
        finally:
            if hasattr(c, "close"):
                c.close()

    def registry(self, as_of: Optional[str] = None) -> dict:
        """The registry on ``as_of`` (default today), computed once per corpus generation."""
        return self.reports.registry(self.generation(), as_of)

    def legal(self, plan_id: int, as_of: Optional[str] = None) -> dict:
        """The legal report of one plan on ``as_of``, computed once per corpus generation."""
        def compute():
            return self.call(_legal_readonly, plan_id, as_of)
        return self.reports.get(("legal", self.generation(), int(plan_id), as_of or _today()), compute)

    def close(self) -> None:
        self.reports.close()
        with self._gen_lock:
            if self._gen_corpus is not None:
                self._gen_corpus.close()
                self._gen_corpus = None

    def index(self) -> SearchIndex:
        """The search index to answer with, never built in a request: the first call loads it; after
        the corpus generation moves, the index the ``add`` hook saved for the new generation is
        loaded in a background thread (``refresh``) and swapped in when ready, the old one answering
        meanwhile. A corpus changed without the hook (``add --no-index``) is indexed by that thread."""
        idx = self._index
        if idx is None:
            with self._lock:
                if self._index is None:
                    gen = self.generation()
                    self._index = self._build(gen)
                    self._generation = int(self._index.meta.get("generation", gen))
                return self._index
        if self.generation() != self._generation:
            self.refresh()
        return idx

    def refresh(self) -> threading.Thread:
        """Start (or return) the thread that swaps in the index of the current generation."""
        with self._lock:
            t = self._refresher
            if t is None or not t.is_alive():
                t = self._refresher = threading.Thread(target=self._refresh_loop, name="kehoach-index",
                                                       daemon=True)
                t.start()
            return t

    def wait_current(self, timeout: float = 120.0) -> SearchIndex:
        """Block until the index answering is the current generation's (tests, ``serve`` start-up)."""
        import time
        deadline = time.monotonic() + timeout
        while True:
            idx = self.index()
            if self.generation() == self._generation:
                return idx
            if time.monotonic() > deadline:
                raise SearchError(f"{self.home}: the search index did not reach generation {self.generation()} "
                                  f"in {timeout:.0f} s")
            self.refresh().join(timeout=0.2)

    REFRESH_POLL_S = 0.5

    def _refresh_loop(self) -> None:
        """Swap in newer indexes until the answering one is of the current generation. While an ``add``
        still owes its hooks (``index_pending``), its hook is left to write the index; a corpus
        changed without hooks is indexed here (the only index writes a GET can cause)."""
        import time
        from kehoach.search.service import INDEX_DIR, read_manifest
        seen, since = None, time.monotonic()
        try:
            while True:
                gen = self.generation()
                if gen == self._generation:
                    return
                if gen != seen:
                    seen, since = gen, time.monotonic()
                meta = read_manifest(self.home / INDEX_DIR) or {}
                if meta.get("generation") != gen and self._hooks_pending() and \
                        (self._hooks_running() or time.monotonic() - since < self.ADD_QUIET_S):
                    time.sleep(self.REFRESH_POLL_S)
                    continue
                idx = self._build(gen)
                with self._lock:
                    self._index = idx
                    self._generation = int(idx.meta.get("generation", gen))
                log.info("search index of generation %s swapped in", self._generation)
        except Exception:
            log.exception("search index refresh failed; the previous index keeps answering")

    ADD_QUIET_S = 60.0   # hooks owed but none running and no plan stored for this long: an add was
                         # killed before its hooks (the next add catches up); the server indexes

    def _hooks_running(self) -> bool:
        """An ``add``'s index hooks hold the store's index lock right now."""
        with self._gen_lock:
            try:
                return self._gen_corpus.hooks_running()
            except Exception:
                return False

    def _hooks_pending(self) -> bool:
        """An ``add`` stored plans whose index hooks have not run yet."""
        with self._gen_lock:
            try:
                return self._gen_corpus.hooks_pending()
            except Exception:
                return False

    def _build(self, gen: int) -> SearchIndex:
        from kehoach.search.service import open_index
        c = self._corpus()
        try:
            return open_index(self.home, embedder=self.embedder, dense=bool(self.embedder), corpus=c)
        finally:
            c.close()

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

def with_headings(backend, answer: dict) -> dict:
    """A search or who answer (a dict) with the heading path of each task it shows (``question.add_headings``):
    from the stored extractions (one read per plan shown), or the in-memory ones."""
    from kehoach.search.question import add_headings, answer_plan_ids, extraction_headings, heading_paths
    ids = answer_plan_ids(answer)
    if not ids:
        return answer
    if isinstance(backend, MemoryBackend):
        paths = {i: extraction_headings(backend.extractions[i]) for i in ids if i in backend.extractions}
    else:
        paths = backend.call(heading_paths, ids)
    return add_headings(answer, paths)


def _today() -> str:
    import datetime as _dt
    return _dt.date.today().isoformat()


def registry_report(corpus, as_of: Optional[str] = None, embedder: Any = None) -> dict:
    """The commitments registry (``kehoach.corpus.registry.registry_from_corpus``)."""
    import datetime as _dt
    from kehoach.corpus.registry import parse_as_of, registry_from_corpus
    try:
        return registry_from_corpus(corpus, parse_as_of(as_of) if as_of else _dt.date.today(), embedder=embedder)
    except Exception as e:
        if getattr(corpus, "readonly", False) and _is_readonly_write(e):
            from kehoach.corpus.store import CorpusError
            raise CorpusError(f"{corpus.home}: the link index is not up to date (plans added with --no-index); "
                              f"run 'kehoach link' once") from None
        raise


def _is_readonly_write(e: BaseException) -> bool:
    """A write refused by a read-only connection, or a schema upgrade refused by the store."""
    from kehoach.corpus.backend import is_readonly_write
    return is_readonly_write(e) or "needs an upgrade" in str(e)


def legal_report(corpus, plan_id: int, as_of: Optional[str | Any] = None) -> dict:
    """Legal status of a plan's citations, like ``kehoach legal check``: the legal stage's
    ``plan_report(corpus, plan_id, day)`` when it has one, else ``check`` over the stored registry.
    On a read-only corpus no table is created: a corpus without legal data is checked against an
    empty registry (only what the corpus itself says) and the answer says so (``note``)."""
    import datetime as _dt
    L = importlib.import_module("kehoach.corpus.legal.check")
    day = as_of if isinstance(as_of, _dt.date) else (_dt.date.fromisoformat(as_of) if as_of else _dt.date.today())
    plan_report = getattr(L, "plan_report", None)
    if plan_report is not None:
        return plan_report(corpus, plan_id, day)
    from kehoach.corpus.legal.registry import MIGRATIONS, Registry, ensure_schema
    note = None
    if getattr(corpus, "readonly", False):
        if corpus.schema_version("legal") < len(MIGRATIONS):
            reg, note = Registry(), "no legal data in this corpus (import it with 'kehoach legal import')"
        else:
            reg = Registry.load(corpus.conn)
    else:
        ensure_schema(corpus.conn, corpus.ensure_schema)
        reg = Registry.load(corpus.conn)
    everything = {p.id: L.PlanInput(corpus.extraction(p.id), corpus.text(p.id)) for p in corpus.plans()}
    out = L.check([everything[plan_id]], reg, day, corpus=list(everything.values()))
    if note:
        out["note"] = note
    return out


def _legal_readonly(corpus, plan_id: int, as_of: Optional[str]) -> dict:
    return legal_report(corpus, plan_id, as_of)


def _registry_job(home: str, generation: int, as_of: Optional[str], embedder: Any = None) -> dict:
    """The registry computed in the report worker (a process of its own: the web server's threads
    keep the interpreter for search). Reads through a read-only connection."""
    from kehoach.search.service import open_corpus
    c = open_corpus(Path(home), readonly=True)
    try:
        if int(c.generation()) != generation:       # changed since asked: the caller asks again
            return {"_generation": int(c.generation()), **registry_report(c, as_of, embedder)}
        return {"_generation": generation, **registry_report(c, as_of, embedder)}
    finally:
        c.close()


class ReportCache:
    """Reports keyed by (kind, corpus generation, ...): each computed once, concurrent requests for
    the same key wait for that one computation; entries of older generations are dropped.

    The registry (tens of seconds on a large corpus) is computed by a single worker thread that runs
    it in a fresh process (``worker="process"``; ``"thread"`` computes it in the thread itself), so
    a long computation never holds the interpreter the search routes run in; it is
    also kept on disk in ``HOME/cache/registry-g<generation>-<as_of>.json`` for the next server start."""

    MAX_ENTRIES = 64

    def __init__(self, home: Path, worker: str = "process", embedder: Any = None):
        self.home = Path(home)
        self.worker = worker
        self.embedder = embedder                      # the linker's embedder ("thread" worker only)
        self._lock = threading.Lock()
        self._entries: dict[tuple, Any] = {}          # key -> value, insertion order = age
        self._pending: dict[tuple, Any] = {}          # key -> concurrent.futures.Future
        self._pool = None
        self._last: dict[str, tuple[int, dict]] = {}  # day -> (generation, registry): the last good one
        self.computed = 0                             # computations run (tests count them)

    def _executor(self):
        if self._pool is None:
            import concurrent.futures as cf
            self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kehoach-report")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def get(self, key: tuple, compute: Callable[[], Any], *, submit: Optional[Callable[[], Any]] = None) -> Any:
        """The cached value of ``key``, else ``compute()`` (in the caller's thread) or the future that
        ``submit()`` returns, once for all concurrent callers."""
        import concurrent.futures as cf
        with self._lock:
            if key in self._entries:
                return self._entries[key]
            fut = self._pending.get(key)
            owner = fut is None
            if owner:
                fut = cf.Future() if submit is None else submit()
                self._pending[key] = fut
        if owner and submit is None:
            try:
                with self._lock:
                    self.computed += 1
                fut.set_result(compute())
            except BaseException as e:
                fut.set_exception(e)
        try:
            value = fut.result()
        finally:
            if owner:
                with self._lock:
                    self._pending.pop(key, None)
        if owner:
            with self._lock:
                gen = key[1]
                for k in [k for k in self._entries if k[0] == key[0] and k[1] != gen]:
                    del self._entries[k]
                self._entries[key] = value
                while len(self._entries) > self.MAX_ENTRIES:
                    del self._entries[next(iter(self._entries))]
        return value

    def _disk(self, generation: int, day: str) -> Path:
        return self.home / "cache" / f"registry-g{generation}-{day}.json"

    def registry(self, generation: int, as_of: Optional[str]) -> dict:
        day = as_of or _today()
        key = ("registry", generation, day)
        with self._lock:
            if key in self._entries:
                return self._entries[key]

        def submit():
            import concurrent.futures as cf
            saved = self._load(generation, day)
            if saved is not None:
                f = cf.Future()
                f.set_result(saved)
                return f
            self.computed += 1          # (called by ``get`` under the lock)
            if self.worker == "process":
                return self._executor().submit(_registry_subprocess, str(self.home), generation, as_of)
            return self._executor().submit(_registry_job, str(self.home), generation, as_of, self.embedder)

        try:
            reg = self.get(key, lambda: None, submit=submit)
        except KehoachError as e:
            # an add stored plans and its link hook has not finished: the last registry answers,
            # marked stale, until the links are up to date
            last = self._last.get(day)
            if last is None or "not up to date" not in str(e):
                raise
            return {**last[1], "stale": {"generation": last[0], "reason": str(e)}}
        reg = dict(reg)
        got = reg.pop("_generation", generation)
        if got == generation:
            self._save(generation, day, reg)
            self._last[day] = (generation, reg)
        return reg

    def _load(self, generation: int, day: str) -> Optional[dict]:
        import json
        p = self._disk(generation, day)
        try:
            return {"_generation": generation, **json.loads(p.read_text("utf-8"))}
        except (OSError, ValueError):
            return None

    def _save(self, generation: int, day: str, reg: dict) -> None:
        """Write the registry next to the corpus (atomically), drop other generations' files."""
        import json
        import os
        p = self._disk(generation, day)
        if p.exists():
            return
        try:
            p.parent.mkdir(exist_ok=True)
            tmp = p.with_name(p.name + f".tmp{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(_jsonable(reg), ensure_ascii=False), "utf-8")
            os.replace(tmp, p)
            for old in p.parent.glob("registry-g*.json"):
                if not old.name.startswith(f"registry-g{generation}-"):
                    old.unlink(missing_ok=True)
        except OSError as e:          # a read-only home: the cache stays in memory
            log.info("registry cache not saved in %s: %s", p.parent, e)


def _registry_subprocess(home: str, generation: int, as_of: Optional[str]) -> dict:
    """``_registry_job`` in a fresh Python process (JSON on its stdout): a computation of tens of
    seconds never holds this process's interpreter, and nothing of ``__main__`` is re-imported."""
    import json
    import subprocess
    import sys
    from kehoach.corpus.store import CorpusError
    code = "import sys; from kehoach.search.server import _registry_main; sys.exit(_registry_main(sys.argv[1:]))"
    r = subprocess.run([sys.executable, "-c", code, home, str(generation), as_of or ""],
                       capture_output=True, timeout=3600)
    if r.returncode != 0:
        lines = r.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CorpusError(lines[-1] if lines else f"registry worker failed (exit status {r.returncode})")
    return json.loads(r.stdout)


def _registry_main(argv: list[str]) -> int:
    """The registry worker process: ``HOME GENERATION AS_OF`` -> the registry JSON on stdout."""
    import json
    import sys
    from kehoach.errors import KehoachError
    home, generation, as_of = argv[0], int(argv[1]), argv[2] or None
    try:
        reg = _registry_job(home, generation, as_of)
    except KehoachError as e:
        print(str(e), file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(_jsonable(reg), ensure_ascii=False))
    return 0


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


def date_param(value: Optional[str], name: str, end: bool = False) -> Optional[str]:
    """dd/mm/yyyy (or mm/yyyy) made ISO, then ``valid_date``; empty is none."""
    from fastapi import HTTPException
    from kehoach.search.tasks import parse_date
    if value is None or value == "":
        return None
    if len(value) > 20:
        raise HTTPException(422, f"{name}: not a date")
    iso = parse_date(value, name, end=end) if "/" in value or "." in value else value
    return valid_date(iso, name)


def _task_query_dependency():
    """The filters of /api/tasks as one FastAPI dependency (the tasks, charts and their exports share it)."""
    from fastapi import Query
    from kehoach.search.tasks import TaskQuery
    Short = dict(max_length=200)

    def task_query(owner: Optional[str] = Query(None, **Short),
                   role: Optional[str] = Query(None, pattern="^(lead|support)$"),
                   province: Optional[str] = Query(None, **Short), plan: Optional[str] = Query(None, **Short),
                   kind: Optional[str] = Query(None, **Short),
                   deadline_from: Optional[str] = Query(None, max_length=20, description="dd/mm/yyyy or ISO"),
                   deadline_to: Optional[str] = Query(None, max_length=20, description="dd/mm/yyyy or ISO"),
                   status: Optional[str] = Query(None, pattern="^(overdue|due_soon|continuous|no_deadline|open)$"),
                   within: int = Query(30, ge=0, le=3660), as_of: Optional[str] = Query(None, max_length=20),
                   text: Optional[str] = Query(None, **Short)) -> TaskQuery:
        return TaskQuery(owner=owner or None, role=role or None, province=province or None, plan=plan or None,
                         kind=kind or None, deadline_from=date_param(deadline_from, "deadline_from"),
                         deadline_to=date_param(deadline_to, "deadline_to", end=True), status=status or None,
                         within=within, as_of=date_param(as_of, "as_of"), text=text or None).normalized()
    return task_query


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


SESSION_COOKIE = "kehoach_session"
OPEN_PATHS = ("/", "/login", "/favicon.ico")     # and /static/*: the page and its assets carry no data
LOGIN_HTML = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>kehoach: đăng nhập</title>
<link rel="stylesheet" href="/static/style.css"></head><body><main>
<h1>kehoach</h1>{message}
<form method="post" action="/login"><label>Mã truy cập (token)
<input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Đăng nhập</button></form></main></body></html>"""


def session_value(token: str) -> str:
    """The cookie the page carries after logging in: derived from the token, not the token itself."""
    import hashlib
    import hmac
    return hmac.new(token.encode("utf-8"), b"kehoach-session-v1", hashlib.sha256).hexdigest()


def token_ok(request, token: str) -> bool:
    """``Authorization: Bearer TOKEN`` or the session cookie, compared in constant time."""
    import hmac
    auth = request.headers.get("authorization", "")
    scheme, _, given = auth.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        return True
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode("utf-8"), session_value(token).encode("utf-8"))


def create_app(backend: Backend, allowed_hosts: Optional[list[str]] = None, token: Optional[str] = None):
    """The app. With ``token``, every route but the login page and the static assets needs
    ``Authorization: Bearer TOKEN`` or the session cookie that ``/login`` sets (401 otherwise)."""
    from fastapi import Depends, FastAPI, HTTPException, Query, Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

    app = FastAPI(title="kehoach", version=_version(), docs_url=None, redoc_url=None,
                  description="Tìm kiếm nhiệm vụ trong các kế hoạch của cơ quan nhà nước — search the tasks of "
                              "Vietnamese government plans.")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        resp = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp

    if token:
        @app.middleware("http")
        async def require_token(request: Request, call_next):
            path = request.url.path
            if path in OPEN_PATHS or path.startswith("/static/") or token_ok(request, token):
                return await call_next(request)
            return JSONResponse({"detail": "authentication required: Authorization: Bearer <token>, "
                                           "or log in at /login"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})

        def login_page(message: str = "", status: int = 200):
            from html import escape
            return HTMLResponse(LOGIN_HTML.format(message=f"<p>{escape(message)}</p>" if message else ""),
                                status_code=status)

        def login_answer(given: Optional[str]):
            import hmac
            if not given:
                return login_page()
            if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
                return login_page("Mã truy cập không đúng.", 401)
            resp = RedirectResponse("/", status_code=303)
            resp.set_cookie(SESSION_COOKIE, session_value(token), httponly=True, samesite="strict", path="/")
            return resp

        @app.get("/login", include_in_schema=False)
        def login_get(token: Optional[str] = Query(None, max_length=500)):
            return login_answer(token)

        @app.post("/login", include_in_schema=False)
        async def login_post(request: Request):
            from urllib.parse import parse_qs
            body = await request.body()
            if len(body) > 4096:
                return login_page("Mã truy cập quá dài.", 400)
            given = parse_qs(body.decode("utf-8", "replace")).get("token", [None])[0]
            return login_answer(given)

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
        from kehoach.search.question import ask, cited_law, cites_answer
        if not literal and cited_law(q) is not None and not isinstance(backend, MemoryBackend):
            # "kế hoạch nào căn cứ Luật Đất đai": the plans whose stored legal references cite the law
            return backend.call(cites_answer, q, limit).to_dict()
        return with_headings(backend, ask(backend.index(), q, limit=limit, filters=f, mode=mode,
                                          literal=literal).to_dict())

    @app.get("/api/who", summary="Which bodies own the tasks about a topic")
    def api_who(q: str = Q, limit: int = Query(10, ge=1, le=50), literal: bool = False,
                f: Filters = Depends(filter_params)):
        from kehoach.search.who import who
        return with_headings(backend, who(backend.index(), q, limit=limit, filters=f,
                                          understand=not literal).to_dict())

    task_query = _task_query_dependency()

    @app.get("/api/tasks", summary="Tasks without a query: owner, province, plan, kind, deadline range, status")
    def api_tasks(q=Depends(task_query), limit: int = Query(500, ge=1, le=100000),
                  format: str = Query("json", pattern="^(json|csv|xlsx)$")):
        import dataclasses
        from kehoach.search import tasks as T
        q = dataclasses.replace(q, limit=limit).normalized()
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
        return {"registry": _jsonable(backend.call(registry_report, valid_date(as_of, "as_of", partial=False)))}

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
        return {"plan": got["plan"], "legal": _jsonable(backend.call(legal_report, got["plan"]["id"], as_of))}

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs():
        """The API reference, rendered on the server from the OpenAPI schema (offline: no CDN, no script)."""
        return HTMLResponse(docs_html(app.openapi()))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request):
        if token and not token_ok(request, token):
            return login_page()
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


LOOPBACK = ("127.0.0.1", "localhost", "::1")
MIN_TOKEN_CHARS = 16


def serve(home: Path, host: str = "127.0.0.1", port: int = 8000, embedder: Optional[str] = "e5",
          extra_hosts: Optional[list[str]] = None, token: Optional[str] = None) -> int:
    import sys
    import uvicorn
    if not 0 < port < 65536:
        raise SearchError(f"--port must be 1..65535, got {port}")
    token = token or None
    if token is not None and (len(token) > 500 or any(ord(ch) <= 32 or ord(ch) == 127 for ch in token)):
        raise SearchError("--token: at most 500 printable characters, no spaces")
    backend = CorpusBackend(home, embedder)
    backend.index()   # build or load before the first request
    if host not in LOOPBACK:
        if token is None:
            print(f"kehoach: warning: serving on {host} without --token: anyone who reaches this address "
                  f"can read the corpus (set --token or KEHOACH_TOKEN)", file=sys.stderr, flush=True)
        else:
            print(f"kehoach: serving on {host}; the API needs the token (log in at /login)",
                  file=sys.stderr, flush=True)
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        print(f"kehoach: warning: the token has {len(token)} characters; use {MIN_TOKEN_CHARS} or more "
              f"(python -c 'import secrets; print(secrets.token_urlsafe())')", file=sys.stderr, flush=True)
    try:
        uvicorn.run(create_app(backend, allowed_hosts=default_hosts(host) + list(extra_hosts or ()), token=token),
                    host=host, port=port, log_level="warning")
    finally:
        backend.close()
    return 0
