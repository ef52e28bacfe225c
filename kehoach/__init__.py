"""kehoach: Vietnamese government plans (Kế hoạch, Quyết định, Chỉ thị) to structured, searchable records.

Stages, each a subpackage, data flowing one way:
ingest (file -> normalized text with provenance) -> extract (records) -> corpus (store, link,
registry, legal status) -> search.

The Python API (imports are lazy, so ``import kehoach`` stays cheap)::

    import kehoach
    ex = kehoach.extract("plan.pdf")                       # an Extraction (SPEC.md record: ex.to_dict())
    with kehoach.Corpus("./home") as c:
        c.add(["plans/"])                                  # store (no embedding unless link=True)
        rows = c.tasks(owner="Sở Y tế", province="Đắk Lắk")  # dicts, one per task, plan on every row
        hits = c.search("thanh toán trực tuyến", mode="lexical")
        owners = c.who("ai chủ trì cấp phát nhu yếu phẩm ở Đắk Lắk", mode="lexical")
        reg = c.registry(as_of="31/12/2025")               # the cross-plan registry (links with e5)
        legal = c.legal_check("116/KH-UBND")
        df = c.dataframe(status="overdue")                 # pandas, when installed
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

__version__ = "0.1.0"
__all__ = ["extract", "Corpus", "SAMPLES", "__version__"]

SAMPLES = Path(__file__).resolve().parent / "samples"      # the five sample plans shipped in the package


class _ExtractEntry:
    """``kehoach.extract(path)``: one file (PDF, DOCX, DOC/ODT/RTF, HTML, TXT) -> its
    ``kehoach.models.Extraction``. The name is also the ``kehoach.extract`` stage package: other
    attributes (``kehoach.extract.extract``, ``.cli``, ...) are the package's."""

    def __call__(self, path: str | Path, source: Optional[str] = None):
        from kehoach.extract import extract as _extract
        from kehoach.ingest import read
        return _extract(read(path, source))

    def __getattr__(self, name: str):
        import importlib
        return getattr(importlib.import_module("kehoach.extract"), name)

    def __setattr__(self, name: str, value) -> None:   # monkeypatching goes to the package
        import importlib
        setattr(importlib.import_module("kehoach.extract"), name, value)

    def __delattr__(self, name: str) -> None:
        import importlib
        delattr(importlib.import_module("kehoach.extract"), name)

    def __repr__(self) -> str:
        return "<kehoach.extract(path) -> Extraction>"


extract = _ExtractEntry()


def _keep_api_names() -> None:
    """Importing the ``kehoach.extract`` package sets ``kehoach.extract`` to it; keep the callable."""
    import sys
    import types

    class _Package(types.ModuleType):
        def __setattr__(self, name, value):
            if name == "extract" and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    sys.modules[__name__].__class__ = _Package


class Corpus:
    """A corpus home (SQLite store + search index) with the questions staff ask of it."""

    def __init__(self, home: str | Path, *, embedder: Optional[str] = "e5", store: Optional[str] = None):
        """``store``: a PostgreSQL URL (default ``$KEHOACH_STORE``; else SQLite in ``home``)."""
        from kehoach.corpus.store import Corpus as _Store
        self.home = Path(home)
        self.embedder = embedder
        self.store = _Store(self.home, store=store)

    # -- lifecycle
    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Corpus":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- adding
    def add(self, paths: str | Path | Sequence[str | Path], *, link: bool = False, accept_any: bool = False,
            progress: bool = False):
        """Ingest, extract and store files/folders/globs; ``link=True`` also updates the link index
        (embeds every new task: ~10 tasks/s). Returns the ``AddReport`` (``.summary()``)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        if link:
            from kehoach.corpus.cli import attach_hooks
            attach_hooks(self.store)
        return self.store.add([str(p) for p in paths], progress=progress, accept_any=accept_any)

    def plans(self) -> list[dict]:
        return [p.to_dict() for p in self.store.plans()]

    # -- questions
    def index(self, mode: str = "lexical"):
        from kehoach.search.service import open_index
        dense = mode != "lexical" and self.embedder is not None
        return open_index(self.home, embedder=self.embedder if dense else None, dense=dense, corpus=self.store)

    def tasks(self, **filters: Any) -> list[dict]:
        """Tasks without a query; filters of ``kehoach.search.tasks.TaskQuery``: owner, role, province,
        plan, kind, deadline_from, deadline_to (dd/mm/yyyy or ISO), status, within, as_of, text, limit."""
        from kehoach.search import tasks as T
        q = T.TaskQuery(**filters).normalized()
        return T.rows(T.select(self.index().docs, q), q.as_of, q.within)

    def dataframe(self, **filters: Any):
        """``tasks(...)`` as a pandas DataFrame (dates as datetimes); needs pandas installed."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Corpus.dataframe needs pandas: pip install pandas") from e
        df = pd.DataFrame(self.tasks(**filters))
        for col in ("plan_date", "deadline_date"):
            if col in df:
                df[col] = pd.to_datetime(df[col], errors="coerce")
        return df

    def search(self, query: str, *, limit: int = 10, mode: str = "hybrid", literal: bool = False,
               **filters: Any) -> dict:
        """Hybrid search; a place/owner/deadline in ``query`` becomes a filter (``literal`` to keep it
        as words). Filters: province, issuer, owner, plan, year, type, deadline_before/after, indicators."""
        from kehoach.search.hybrid import Filters
        from kehoach.search.question import ask
        return ask(self.index(mode), query, limit=limit, filters=Filters(**filters).validate(), mode=mode,
                   literal=literal, corpus=self.store).to_dict()

    def who(self, query: str, *, limit: int = 10, mode: str = "hybrid", literal: bool = False,
            **filters: Any) -> dict:
        """The bodies that own the tasks about ``query``, ranked, with evidence."""
        from kehoach.search.hybrid import Filters
        from kehoach.search.who import who
        return who(self.index(mode), query, limit=limit, filters=Filters(**filters).validate(), mode=mode,
                   understand=not literal).to_dict()

    def registry(self, as_of: Optional[str] = None, *, format: Optional[str] = None, out: Optional[str] = None,
                 embedder=None) -> dict:
        """The cross-plan registry (links need embeddings: e5 by default, cached in the corpus);
        ``format="csv"|"xlsx"|"json"`` with ``out`` also writes it (CSV with BOM)."""
        from kehoach.corpus.embed import CachedEmbedder, get_embedder
        from kehoach.corpus.registry import parse_as_of, registry_from_corpus, write_registry
        emb = embedder if embedder is not None else CachedEmbedder(get_embedder(None), self.store)
        reg = registry_from_corpus(self.store, parse_as_of(as_of), embedder=emb)
        if format:
            write_registry(reg, format, out)
        return reg

    def legal_check(self, plan: str | int | None = None, as_of: Optional[str] = None) -> dict | list[dict]:
        """Legal status of what a plan cites (every plan when ``plan`` is None)."""
        from kehoach.corpus.store import CorpusError
        from kehoach.search.server import legal_report
        from kehoach.search.tasks import parse_date
        day = parse_date(as_of, "as_of") if as_of else None
        if plan is None:
            return [legal_report(self.store, p.id, day) for p in self.store.plans()]
        info = self.store.plan(plan)
        if info is None:
            raise CorpusError(f"{plan}: no such plan in {self.home}")
        return legal_report(self.store, info.id, day)


_keep_api_names()
