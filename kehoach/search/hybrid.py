"""Hybrid search: lexical BM25 + dense vectors, fused by reciprocal rank, with filters.

``SearchIndex`` holds the searchable task records (``SearchDoc``), the BM25
fields, the vectors and the query-vector cache. It is built from a ``Corpus``
(``docs_from_corpus``) or from extractions in memory (``docs_from_extractions``),
and can be saved next to the corpus and reloaded while the corpus generation is
unchanged.
"""
from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from kehoach.errors import KehoachError
from kehoach.search.columns import ChainedDocs, DocColumns, TableColumns
from kehoach.search.dense import DenseIndex, QueryCache, _Part
from kehoach.search.lexical import LexicalIndex, LexSegment, top_k
from kehoach.search.text import (ParsedQuery, fold, folded_tokens, match_marks, parse_query, snippet_html,
                                 snippet_plain)

MAX_QUERY_CHARS = 500
MAX_LIMIT = 200
RRF_K = 60                 # reciprocal-rank constant (Cormack et al.)
WEIGHTS = {"lexical": 1.0, "dense": 1.0}
WHO_BOOST = 0.5            # "who ..." questions: tasks that name a lead rank higher
INDEX_VERSION = 3         # 2: columnar records, one .npy per array, segments; 3: one folder per segment
SEGMENTS_DIR = "seg"
PRUNE_AFTER_S = 120        # an unreferenced segment folder is removed this long after it was written
                           # (a reader that read the previous manifest still finds its files)


def _segment_id(meta: dict) -> str:
    import uuid
    gen = meta.get("generation")
    return (f"g{gen}-" if gen is not None else "") + uuid.uuid4().hex[:12]


def _prune(segdir: Path, keep: set) -> None:
    """Remove the segment folders no manifest names any more (a process that has them memory-mapped
    keeps reading them: the files go when it lets them go)."""
    import shutil
    import time
    now = time.time()
    for d in segdir.iterdir():
        if d.name in keep:
            continue
        try:
            if now - d.stat().st_mtime > PRUNE_AFTER_S:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


class SearchError(KehoachError):
    """A bad query or filter, or an index that cannot be used."""


# ---------------------------------------------------------------- records

@dataclass
class SearchDoc:
    key: str
    source: str
    plan_id: int
    task_id: str
    kind: str
    section: str
    text: str
    lead: list[str]
    support: list[str]
    deadline: Optional[dict]
    targets: list[dict]
    span: Optional[dict]
    plan: dict               # id, number, type, issuer, date, title, province, source

    def to_dict(self) -> dict:
        return asdict(self)


def plan_dict(plan_id: int, source: str, doc) -> dict:
    """The plan fields a hit carries, from a DocumentInfo-like or PlanInfo-like object."""
    g = (lambda k: getattr(doc, k, None)) if not isinstance(doc, dict) else doc.get
    return {"id": plan_id, "number": g("number"), "type": g("type"), "issuer": g("issuer"), "date": g("date"),
            "title": g("title"), "province": g("province"), "source": source}


def docs_from_extractions(items: Iterable[tuple[int, "object"]]) -> list[SearchDoc]:
    """(plan_id, Extraction) pairs -> SearchDocs (tests, gold records, in-memory use)."""
    out = []
    for plan_id, ex in items:
        plan = plan_dict(plan_id, ex.source, ex.document)
        if not plan.get("province"):
            plan["province"] = province_of(plan.get("issuer"))
        for t in ex.tasks:
            d = t.to_dict()
            out.append(SearchDoc(key=f"{plan_id}:{t.id}", source=ex.source, plan_id=plan_id, task_id=t.id,
                                 kind=t.kind, section=t.section, text=t.text, lead=d["lead"], support=d["support"],
                                 deadline=d["deadline"], targets=d["targets"], span=d["span"], plan=plan))
    return out


def docs_from_corpus(corpus, plan_ids: Optional[Sequence[int]] = None) -> list[SearchDoc]:
    """The tasks of a ``kehoach.corpus.store.Corpus`` (of ``plan_ids``, else every plan) as SearchDocs."""
    out = []
    if plan_ids is not None and not plan_ids:
        return out
    for r in corpus.tasks(plan_ids):
        p = r.plan
        plan = plan_dict(r.plan_id, p.source, p)
        if not plan.get("province"):
            plan["province"] = province_of(plan.get("issuer"))
        out.append(SearchDoc(key=r.key, source=p.source, plan_id=r.plan_id, task_id=r.task_id, kind=r.kind,
                             section=r.section, text=r.text, lead=list(r.lead), support=list(r.support),
                             deadline=r.deadline, targets=list(r.targets or []), span=r.span, plan=plan))
    return out


_PROVINCE = re.compile(r"\b(?:tỉnh|thành phố)\s+", re.IGNORECASE)


def province_of(issuer: Optional[str]) -> Optional[str]:
    """"Ủy ban nhân dân tỉnh Tuyên Quang" -> "Tuyên Quang" (what follows the last "tỉnh/thành phố")."""
    ms = list(_PROVINCE.finditer(issuer or ""))
    return (issuer[ms[-1].end():].strip() or None) if ms else None


# ---------------------------------------------------------------- filters

@dataclass
class Filters:
    province: Optional[str] = None
    issuer: Optional[str] = None
    owner: Optional[str] = None
    plan: Optional[str] = None
    year: Optional[int] = None
    type: Optional[str] = None
    deadline_before: Optional[str] = None
    deadline_after: Optional[str] = None
    indicators: bool = False

    def active(self) -> bool:
        return any(v not in (None, "", False) for v in asdict(self).values())

    def validate(self) -> "Filters":
        for name in ("deadline_before", "deadline_after"):
            v = getattr(self, name)
            if v and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", v):
                raise SearchError(f"--{name.replace('_', '-')}: expected a date YYYY-MM-DD, got {v!r}")
        if self.year is not None and not (1900 <= int(self.year) <= 2200):
            raise SearchError(f"--year: expected a year like 2024, got {self.year!r}")
        for name in ("province", "issuer", "owner", "plan", "type"):
            v = getattr(self, name)
            if v is not None and len(v) > 200:
                raise SearchError(f"--{name}: longer than 200 characters")
        return self


def _contains(hay: Optional[str], needle: str) -> bool:
    return bool(hay) and fold(needle).strip() in fold(hay)


class DocTable:
    """Column arrays over the docs for vectorized filtering (``columns.TableColumns``)."""

    def __init__(self, docs: Sequence[SearchDoc] = (), columns: Optional[TableColumns] = None):
        c = columns if columns is not None else TableColumns.build(docs)
        self.columns = c
        self.plan_list = c.plans
        self.plan_idx = c.plan_idx
        self.deadline = c.deadline
        self.indicator = c.indicator
        self.has_lead = c.has_lead
        self.owner_idx = c.owner_idx
        self.owner_combos = c.owner_combos
        self.n = len(c.plan_idx)

    def _plan_mask(self, pred) -> np.ndarray:
        ok = np.array([bool(pred(p)) for p in self.plan_list] or [False], bool)
        return ok[self.plan_idx] if self.n else np.zeros(0, bool)

    def mask(self, f: Filters) -> Optional[np.ndarray]:
        if not f.active():
            return None
        m = np.ones(self.n, bool)
        if f.province:
            m &= self._plan_mask(lambda p: _contains(p.get("province"), f.province)
                                 or _contains(p.get("issuer"), f.province))
        if f.issuer:
            m &= self._plan_mask(lambda p: _contains(p.get("issuer"), f.issuer))
        if f.type:
            m &= self._plan_mask(lambda p: _contains(p.get("type"), f.type))
        if f.year:
            m &= self._plan_mask(lambda p: (p.get("date") or "")[:4] == str(f.year))
        if f.plan:
            ref = f.plan.strip()
            m &= self._plan_mask(lambda p: ref == str(p.get("id")) or fold(ref) == fold(p.get("number") or "")
                                 or ref == p.get("source") or ref == Path(p.get("source") or "").stem)
        if f.owner:
            ok = np.array([_contains(c, f.owner) for c in self.owner_combos] or [False], bool)
            m &= ok[self.owner_idx]
        if f.deadline_before:
            m &= (self.deadline != "") & (self.deadline <= f.deadline_before)
        if f.deadline_after:
            m &= (self.deadline != "") & (self.deadline >= f.deadline_after)
        if f.indicators:
            m &= self.indicator
        return m


# ---------------------------------------------------------------- hits

@dataclass
class Hit:
    doc: SearchDoc
    score: float
    lexical_rank: Optional[int] = None
    dense_rank: Optional[int] = None
    marks: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = self.doc
        return {"source": d.source, "task_id": d.task_id, "key": d.key, "kind": d.kind, "section": d.section,
                "text": d.text, "lead": d.lead, "support": d.support, "deadline": d.deadline,
                "targets": d.targets, "plan": d.plan, "score": round(float(self.score), 6),
                "snippet": snippet_html(d.text, self.marks), "marks": [list(m) for m in self.marks],
                "span": d.span, "ranks": {"lexical": self.lexical_rank, "dense": self.dense_rank}}

    def snippet_text(self, width: int = 200) -> str:
        return snippet_plain(self.doc.text, self.marks, width)


@dataclass
class SearchResult:
    query: ParsedQuery
    hits: list[Hit]
    mode: str
    understood: Optional[dict] = None      # filters taken from the query (kehoach.search.question)

    def notes(self) -> list[str]:
        return list((self.understood or {}).get("notes") or [])

    def to_dict(self) -> dict:
        d = {"query": self.query.raw, "retrieval_query": self.query.text, "who": self.query.who,
             "mode": self.mode, "hits": [h.to_dict() for h in self.hits]}
        if self.understood:
            d["understood"] = self.understood
            d["notes"] = ["lọc: " + "; ".join(self.notes())]
        return d


# ---------------------------------------------------------------- the index

def rrf(rankings: dict[str, np.ndarray], weights: dict[str, float], k: int = RRF_K) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: sum over lists of w / (k + rank)."""
    out: dict[int, float] = {}
    for name, idx in rankings.items():
        w = weights.get(name, 1.0)
        for r, i in enumerate(idx.tolist(), 1):
            out[i] = out.get(i, 0.0) + w / (k + r)
    return out


class SearchIndex:
    """Task records (a list, or ``columns.DocColumns`` segments memory-mapped from disk), their
    BM25 fields and vectors, in the same order. ``append`` adds a batch as a new segment; a
    record that changed or went away needs a full rebuild (``service.open_index`` decides)."""

    def __init__(self, docs: Sequence[SearchDoc], lexical: LexicalIndex, dense: Optional[DenseIndex] = None,
                 embedder=None, meta: Optional[dict] = None, *, table: Optional[DocTable] = None,
                 parts: Optional[list] = None, seg_ids: Optional[list] = None):
        self.docs = docs
        self.lexical = lexical
        self.dense = dense
        self.table = table if table is not None else DocTable(docs)
        self._parts = parts            # [(DocColumns, TableColumns)] per segment, when columnar
        self._seg_ids = seg_ids        # the saved segments' folder names, when loaded or saved
        self._embedder = embedder
        self._query_vec = QueryCache(embedder) if embedder is not None else None
        self.meta = meta or {}

    # -- building
    @classmethod
    def build(cls, docs: list[SearchDoc], *, embedder=None, vectors: Optional[np.ndarray] = None,
              words=None, meta: Optional[dict] = None) -> "SearchIndex":
        lexical = LexicalIndex.build([d.text for d in docs], words)
        if vectors is None and embedder is not None and docs:
            vectors = embedder.embed_passages([d.text for d in docs])
        dense = DenseIndex(vectors) if vectors is not None and len(vectors) else None
        return cls(docs, lexical, dense, embedder, meta)

    def _segments(self) -> list:
        if self._parts is None:
            self._parts = [(DocColumns.build(self.docs), self.table.columns)]
        return self._parts

    def append(self, docs: list[SearchDoc], *, vectors: Optional[np.ndarray] = None, words=None,
               meta: Optional[dict] = None) -> "SearchIndex":
        """A new index: this one with ``docs`` added as a segment (their vectors beside them).
        Costs the batch, not the corpus."""
        parts = list(self._segments())
        if not docs:
            return SearchIndex(self.docs, self.lexical, self.dense, self._embedder, meta or self.meta,
                               table=self.table, parts=parts, seg_ids=self._seg_ids)
        cols, tcols = DocColumns.build(docs), TableColumns.build(docs)
        parts.append((cols, tcols))
        lexical = self.lexical.append([d.text for d in docs], words)
        dense = self.dense
        if dense is not None:
            if vectors is None and self._embedder is not None:
                vectors = self._embedder.embed_passages([d.text for d in docs])
            dense = dense.append(vectors) if vectors is not None else None
        table = DocTable(columns=TableColumns.concat([t for _, t in parts]))
        return SearchIndex(ChainedDocs([c for c, _ in parts]), lexical, dense, self._embedder, meta or self.meta,
                           table=table, parts=parts, seg_ids=self._seg_ids)

    def set_embedder(self, embedder) -> None:
        self._embedder = embedder
        self._query_vec = QueryCache(embedder) if embedder is not None else None

    def keys(self) -> list[str]:
        """Every record's key, in index order."""
        return self.docs.keys() if hasattr(self.docs, "keys") else [d.key for d in self.docs]

    # -- persistence (JSON + .npy + faiss; no pickle); arrays are memory-mapped on load.
    # Layout: ``folder/meta.json`` (the manifest: generation, embedder, the segment ids in order)
    # and one folder per segment, ``folder/seg/<id>/``, written once and never rewritten: saving
    # an index that was loaded and appended to writes only the new segment and the manifest, and
    # the manifest is replaced atomically, so a reader sees the old index or the new one, whole.
    def save(self, folder: Path | str) -> None:
        folder = Path(folder)
        segdir = folder / SEGMENTS_DIR
        segdir.mkdir(parents=True, exist_ok=True)
        parts = self._segments()
        ids = list(self._seg_ids or [])
        ids += [None] * (len(parts) - len(ids))
        for k, (cols, tcols) in enumerate(parts):
            if ids[k] is not None and (segdir / ids[k] / "done").exists():
                continue
            ids[k] = _segment_id(self.meta)
            tmp = segdir / f"{ids[k]}.tmp"
            tmp.mkdir()
            cols.save(tmp, "docs")
            tcols.save(tmp, "table")
            self.lexical.segments[k].save(tmp)
            if self.dense is not None:
                self.dense.parts[k].save(tmp)
            (tmp / "done").write_text("", "utf-8")
            os.replace(tmp, segdir / ids[k])
        self._seg_ids = ids
        manifest = {**self.meta, "version": INDEX_VERSION, "segments": ids, "n": len(self.docs),
                    "dense": self.dense is not None}
        tmp = folder / f"meta.json.tmp{os.getpid()}"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
        os.replace(tmp, folder / "meta.json")
        self.meta = {k: v for k, v in manifest.items() if k not in ("version", "segments")}
        _prune(segdir, set(ids))

    @classmethod
    def load(cls, folder: Path | str, embedder=None) -> "SearchIndex":
        folder = Path(folder)
        try:
            meta = json.loads((folder / "meta.json").read_text("utf-8"))
            if meta.get("version") != INDEX_VERSION:
                raise ValueError(f"index version {meta.get('version')}, expected {INDEX_VERSION}")
            ids = list(meta["segments"])
            parts, lex, dense_parts, offset = [], [], [], 0
            for sid in ids:
                d = folder / SEGMENTS_DIR / sid
                cols = DocColumns.load(d, "docs")
                parts.append((cols, TableColumns.load(d, "table")))
                lex.append(LexSegment.load(d, offset))
                if meta.get("dense"):
                    part = _Part.load(d, offset)
                    if part is None:
                        raise ValueError(f"segment {sid} has no vectors")
                    dense_parts.append(part)
                offset += len(cols)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SearchError(f"{folder}: search index unreadable ({type(e).__name__}: {e})") from e
        if not parts:
            raise SearchError(f"{folder}: search index unreadable (no segment)")
        docs = parts[0][0] if len(parts) == 1 else ChainedDocs([c for c, _ in parts])
        table = DocTable(columns=TableColumns.concat([t for _, t in parts]))
        dense = DenseIndex(parts=dense_parts, dim=dense_parts[0].dim()) if dense_parts else None
        meta = {k: v for k, v in meta.items() if k not in ("version", "segments")}
        return cls(docs, LexicalIndex(lex), dense, embedder, meta, table=table, parts=parts, seg_ids=ids)

    def head(self, k: int) -> "SearchIndex":
        """This index's first ``k`` segments (``service`` merges the ones after them)."""
        parts = self._segments()[:k]
        docs = parts[0][0] if k == 1 else ChainedDocs([c for c, _ in parts])
        dense = None
        if self.dense is not None:
            dense = DenseIndex(threads=self.dense.threads, parts=self.dense.parts[:k], dim=self.dense.dim)
        return SearchIndex(docs, LexicalIndex(self.lexical.segments[:k]), dense, self._embedder, dict(self.meta),
                           table=DocTable(columns=TableColumns.concat([t for _, t in parts])), parts=parts,
                           seg_ids=list(self._seg_ids or [])[:k] or None)

    def segment_sizes(self) -> list[int]:
        return [s.n_docs for s in self.lexical.segments]

    # -- querying
    def search(self, query: str, *, limit: int = 10, filters: Optional[Filters] = None, mode: str = "hybrid",
               depth: int = 100) -> SearchResult:
        pq = check_query(query)
        if not 1 <= int(limit) <= MAX_LIMIT:
            raise SearchError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if mode not in ("hybrid", "lexical", "dense"):
            raise SearchError(f"mode must be hybrid, lexical or dense, got {mode!r}")
        filters = (filters or Filters()).validate()
        mask = self.table.mask(filters)
        depth = max(depth, limit * 3)
        rankings: dict[str, np.ndarray] = {}
        if pq.folded:  # typed without diacritics: write them back from the corpus's words when all are known
            restored = self.lexical.restore(pq.text)
            if restored:
                pq = replace(pq, text=restored, folded=False, restored=True)
        dense = mode in ("hybrid", "dense") and self.dense is not None and self._query_vec is not None
        if mode == "dense" and not dense:
            raise SearchError("dense search needs vectors: the index was built without an embedder")
        # hybrid: the vector scan (faiss releases the GIL) runs on a second core while this thread scores the
        # lexical postings (numpy's scatter-add holds the GIL, so the query is embedded before, not beside it);
        # the rankings are the same as one after the other
        qv = self._query_vec(pq.text) if dense else None
        pending = _DENSE_POOL.submit(self._dense_ranking, qv, depth, mask) if dense and mode == "hybrid" else None
        if mode in ("hybrid", "lexical"):
            s = self.lexical.scores(pq.text, pq.folded)
            rankings["lexical"], _ = top_k(s, depth, mask)
        if dense:
            rankings["dense"] = pending.result() if pending is not None else self._dense_ranking(qv, depth, mask)
        fused = rrf(rankings, WEIGHTS)
        if pq.who and fused:
            for i in fused:
                if self.table.has_lead[i]:
                    fused[i] *= 1.0 + WHO_BOOST
        ranks = {name: {i: r for r, i in enumerate(idx.tolist(), 1)} for name, idx in rankings.items()}
        best = sorted(fused.items(), key=lambda x: (-x[1], x[0]))[:limit]
        qf = folded_tokens(pq.text)
        hits = []
        for i, s in best:
            d = self.docs[i]
            hits.append(Hit(d, s, ranks.get("lexical", {}).get(i), ranks.get("dense", {}).get(i),
                            match_marks(d.text, qf)))
        return SearchResult(pq, hits, mode)

    def _dense_ranking(self, qv: np.ndarray, depth: int, mask: Optional[np.ndarray]) -> np.ndarray:
        return self.dense.search(qv, depth, mask)[0]

    def select(self, filters: Filters) -> list[SearchDoc]:
        """Every record that passes ``filters``, in index order (decodes only those)."""
        mask = self.table.mask(filters)
        if mask is None:
            return list(self.docs)
        idx = np.flatnonzero(mask)
        return self.docs.take(idx) if hasattr(self.docs, "take") else [self.docs[int(i)] for i in idx]


# the process's worker threads for the dense half of hybrid queries (started on the first submit); two, so
# a server answering two questions at once scans for both
_DENSE_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kehoach-dense")


def check_query(query: str) -> ParsedQuery:
    if not isinstance(query, str) or not query.strip():
        raise SearchError("empty query")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"query longer than {MAX_QUERY_CHARS} characters")
    pq = parse_query(query)
    if not folded_tokens(pq.text):
        raise SearchError(f"query has no words: {query[:50]!r}")
    return pq
