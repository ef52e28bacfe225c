"""The search index of a corpus home: built from the corpus store, saved in
``HOME/search/``, reused while the corpus generation is unchanged.

This is the edge where search meets the corpus store and the embedder; the rest
of ``kehoach.search`` works on plain records.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Optional

from kehoach.search.hybrid import SearchError, SearchIndex, docs_from_corpus

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


MAX_SEGMENTS = 8           # past this many appended batches, or
MAX_APPENDED = 0.3         # this share of records in them, the index is rebuilt in one segment


def _vectors(emb, corpus, docs):
    if emb is None or not docs:
        return None
    from kehoach.corpus.embed import CachedEmbedder
    # a read-only corpus (the web server) keeps its embedding cache through a connection of
    # the cache's own: the plan records stay read-only, new vectors are still kept
    cache = corpus.db_path if getattr(corpus, "readonly", False) else corpus
    return CachedEmbedder(emb, cache).embed_passages([d.text for d in docs])


def _save(idx: SearchIndex, folder: Path) -> None:
    idx.meta["n"] = len(idx.docs)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    idx.save(tmp)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def _extended(idx: SearchIndex, docs: list, emb, corpus, stamp: dict) -> Optional[SearchIndex]:
    """``idx`` with the corpus's new tasks appended as a segment, when every task it holds is
    still in the corpus unchanged (plans only added); None when a rebuild is needed."""
    from kehoach.search.columns import digest
    import numpy as np
    old = idx.keys()
    n_old = len(old)
    parts = getattr(idx, "_parts", None) or []
    if n_old == 0 or len(parts) >= MAX_SEGMENTS or len(docs) < n_old:
        return None
    pos = {d.key: i for i, d in enumerate(docs)}
    if any(k not in pos for k in old):
        return None                                   # a plan was removed or replaced
    held = np.asarray(idx.docs.digests if hasattr(idx.docs, "digests") else [], np.uint64)
    now = np.fromiter((digest(docs[pos[k]]) for k in old), np.uint64, n_old)
    if len(held) != n_old or not np.array_equal(held, now):
        return None                                   # a held task changed
    oldset = set(old)
    new = [d for d in docs if d.key not in oldset]
    first = len(parts[0][0]) if parts else n_old
    if (n_old + len(new) - first) > MAX_APPENDED * (n_old + len(new)):
        return None
    if idx.dense is None and emb is not None:
        return None
    return idx.append(new, vectors=_vectors(emb, corpus, new), meta=dict(stamp))


def open_index(home: Path | str, *, embedder: Optional[str] = "e5", dense: bool = True,
               corpus=None, rebuild: bool = False) -> SearchIndex:
    """The corpus's search index, rebuilt when the corpus changed since it was saved.

    ``dense=False`` (or ``embedder=None``) gives a lexical-only index and never loads a model.
    """
    home = Path(home)
    folder = home / INDEX_DIR
    own = corpus is None
    corpus = corpus or open_corpus(home)
    try:
        emb = load_embedder(embedder) if dense and embedder else None
        stamp = _stamp(corpus, emb.name if emb is not None else None)
        if not rebuild and (folder / "meta.json").exists():
            try:
                meta = json.loads((folder / "meta.json").read_text("utf-8"))
                if meta.get("generation") == stamp["generation"] and \
                        (meta.get("embedder") == stamp["embedder"] or (emb is None and meta.get("generation") is not None)):
                    idx = SearchIndex.load(folder, emb)
                    if emb is None or idx.dense is not None:
                        return idx
                elif meta.get("embedder") == stamp["embedder"]:
                    t0 = time.perf_counter()
                    docs = docs_from_corpus(corpus)
                    idx = _extended(SearchIndex.load(folder, emb), docs, emb, corpus, stamp)
                    if idx is not None:
                        _save(idx, folder)
                        log.info("search index: %d tasks added in %.1fs", len(idx.docs) - int(meta.get("n", 0) or 0),
                                 time.perf_counter() - t0)
                        return idx
            except (SearchError, ValueError, OSError) as e:
                log.warning("search index in %s unusable, rebuilding: %s", folder, e)
        t0 = time.perf_counter()
        docs = docs_from_corpus(corpus)
        idx = SearchIndex.build(docs, embedder=emb, vectors=_vectors(emb, corpus, docs), meta=stamp)
        _save(idx, folder)
        log.info("search index: %d tasks in %.1fs", len(docs), time.perf_counter() - t0)
        return idx
    finally:
        if own and hasattr(corpus, "close"):
            try:
                corpus.close()
            except Exception:
                pass
