"""The search index of a corpus home: built from the corpus store, saved in
``HOME/search/``, reused while the corpus generation is unchanged.

This is the edge where search meets the corpus store and the embedder; the rest
of ``kehoach.search`` works on plain records.
"""
from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, Sequence

from kehoach.search.hybrid import INDEX_VERSION, SearchError, SearchIndex, docs_from_corpus

log = logging.getLogger(__name__)

INDEX_DIR = "search"


def open_corpus(home: Path, readonly: bool = False):
    try:
        from kehoach.corpus.store import Corpus
    except ImportError as e:  # the store is a separate stage
        raise SearchError(f"{home}: the corpus store is not available ({e})") from e
    return Corpus(home, readonly=readonly)


def load_embedder(name: Optional[str]):
    """(passage embedder with the corpus cache is made by the caller, raw query embedder)."""
    from kehoach.corpus.embed import get_embedder
    return get_embedder(name)


def _stamp(corpus, embedder_name: Optional[str]) -> dict:
    return {"generation": int(corpus.generation()), "embedder": embedder_name}


MAX_SEGMENTS = 8           # past this many segments the appended ones are merged into one, and past
MAX_APPENDED = 0.3         # this share of records in appended segments the index is rebuilt in one
LOCK_NAME = "search.lock"  # in HOME: one writer of HOME/search at a time (the add's hook, a server, a search)


def plan_fingerprints(corpus) -> dict[str, str]:
    """plan id -> what changes when its records change (content hash, last write, task count): the
    index compares these with the ones it was built from, one row per plan, never per task."""
    return {str(p.id): f"{p.sha256}|{getattr(p, 'updated_at', None) or p.added_at}|{p.task_count}"
            for p in corpus.plans()}


def read_manifest(folder: Path) -> Optional[dict]:
    try:
        meta = json.loads((Path(folder) / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("version") == INDEX_VERSION else None


def _fits(meta: Optional[dict], generation: int, embedder_name: Optional[str]) -> bool:
    """The saved index answers for this generation with this embedder (any index serves lexical)."""
    return bool(meta) and meta.get("generation") == generation and \
        (embedder_name is None or (meta.get("embedder") == embedder_name and meta.get("dense")))


def _vectors(emb, corpus, docs):
    if emb is None or not docs:
        return None
    from kehoach.corpus.embed import CachedEmbedder
    # a read-only corpus (the web server) keeps its embedding cache through a connection of
    # the cache's own: the plan records stay read-only, new vectors are still kept
    cache = corpus.db_path if getattr(corpus, "readonly", False) else corpus
    return CachedEmbedder(emb, cache).embed_passages([d.text for d in docs])


@contextmanager
def _writer(home: Path):
    """One writer of the index folder at a time (fcntl: the kernel drops it with the process)."""
    import fcntl
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(home / LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _merged(idx: SearchIndex, emb) -> SearchIndex:
    """Past ``MAX_SEGMENTS``, the segments after the first merged into one (from their own records
    and vectors: no corpus read, no embedding); costs the appended records, not the corpus."""
    import numpy as np
    if len(idx.segment_sizes()) <= MAX_SEGMENTS:
        return idx
    parts = idx._segments()[1:]
    docs = [d for cols, _ in parts for d in cols]
    vectors = None
    if idx.dense is not None:
        vectors = np.concatenate([np.asarray(p.vectors) for p in idx.dense.parts[1:]])
    return idx.head(1).append(docs, vectors=vectors, meta=dict(idx.meta))


def refresh(home: Path | str, corpus, emb=None, *, rebuild: bool = False) -> SearchIndex:
    """Bring ``HOME/search`` up to the corpus and return it.

    Plans only added since the index was saved: their tasks are appended as one segment (the
    batch's records, BM25 fields and vectors; the saved segments are not read, only opened), so
    the cost is the batch's. A plan replaced or removed, another embedder, or appended segments
    holding more than ``MAX_APPENDED`` of the records: rebuilt. Runs under ``HOME/search.lock``;
    a second caller finds the work done."""
    home = Path(home)
    folder = home / INDEX_DIR
    name = emb.name if emb is not None else None
    with _writer(home):
        stamp = _stamp(corpus, name)
        meta = None if rebuild else read_manifest(folder)
        if _fits(meta, stamp["generation"], name):
            try:
                return SearchIndex.load(folder, emb)
            except SearchError as e:
                log.warning("%s, rebuilding", e)
                meta = None
        t0 = time.perf_counter()
        plans = plan_fingerprints(corpus)
        stamp["plans"] = plans
        if meta and meta.get("embedder") == name and bool(meta.get("dense")) == (emb is not None):
            held = meta.get("plans") or {}
            if all(plans.get(pid) == fp for pid, fp in held.items()):       # nothing replaced or removed
                new = sorted(int(pid) for pid in plans if pid not in held)
                try:
                    idx = SearchIndex.load(folder, emb)
                except SearchError as e:
                    log.warning("%s, rebuilding", e)
                else:
                    docs = docs_from_corpus(corpus, new)
                    n = len(idx.docs) + len(docs)
                    appended = n - idx.segment_sizes()[0]
                    if appended <= MAX_APPENDED * n:
                        idx = _merged(idx.append(docs, vectors=_vectors(emb, corpus, docs), meta=stamp), emb)
                        idx.save(folder)
                        log.info("search index: %d tasks of %d plans appended in %.2fs", len(docs), len(new),
                                 time.perf_counter() - t0)
                        return idx
        docs = docs_from_corpus(corpus)
        idx = SearchIndex.build(docs, embedder=emb, vectors=_vectors(emb, corpus, docs), meta=stamp)
        idx.save(folder)
        log.info("search index: %d tasks in %.1fs", len(docs), time.perf_counter() - t0)
        return idx


def open_index(home: Path | str, *, embedder: Optional[str] = "e5", dense: bool = True,
               corpus=None, rebuild: bool = False) -> SearchIndex:
    """The corpus's search index: the saved one when it is of the corpus's generation (the ``add``
    hook keeps it so: ``update``), else brought up to date first (``refresh``: plans added with
    ``--no-index``, an index of an older version).

    ``dense=False`` (or ``embedder=None``) gives a lexical-only index and never loads a model.
    """
    home = Path(home)
    folder = home / INDEX_DIR
    own = corpus is None
    corpus = corpus or open_corpus(home)
    try:
        emb = load_embedder(embedder) if dense and embedder else None
        name = emb.name if emb is not None else None
        if not rebuild:
            meta = read_manifest(folder)
            if _fits(meta, int(corpus.generation()), name):
                for attempt in range(3):    # a writer may prune the segments a just-replaced manifest named
                    try:
                        return SearchIndex.load(folder, emb)
                    except SearchError as e:
                        if attempt == 2 or not _fits(read_manifest(folder), int(corpus.generation()), name):
                            log.warning("%s, rebuilding", e)
                            break
        return refresh(home, corpus, emb, rebuild=rebuild)
    finally:
        if own and hasattr(corpus, "close"):
            try:
                corpus.close()
            except Exception:
                pass


def index_embedder():
    """The embedder the ``add`` hook builds the index with: the default (e5), the one the link
    index caches its vectors with, so the index embeds nothing the link hook has not; None (a
    lexical index) when ``KEHOACH_SEARCH_DENSE=0`` or no model can be loaded."""
    if os.environ.get("KEHOACH_SEARCH_DENSE", "1") == "0":
        return None
    try:
        return load_embedder(os.environ.get("KEHOACH_SEARCH_EMBEDDER") or "e5")
    except Exception as e:            # no model in this install: the index is lexical
        log.warning("search index without vectors: %s", e)
        return None


def update(corpus, added: Sequence[int] = (), removed: Sequence[int] = ()) -> None:
    """The ``Corpus.on_change`` hook (``kehoach.corpus.cli.CHANGE_HOOKS``): the search index is
    extended (or rebuilt) by the ``add`` itself, so no search ever builds it. The ids are not
    needed: the plans' fingerprints tell what changed, also for changes made without hooks."""
    refresh(Path(corpus.home), corpus, index_embedder())
