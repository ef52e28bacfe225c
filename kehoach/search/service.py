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
            except (SearchError, ValueError, OSError) as e:
                log.warning("search index in %s unusable, rebuilding: %s", folder, e)
        t0 = time.perf_counter()
        docs = docs_from_corpus(corpus)
        vectors = None
        if emb is not None and docs:
            from kehoach.corpus.embed import CachedEmbedder
            # a read-only corpus (the web server) keeps its embedding cache through a connection of
            # the cache's own: the plan records stay read-only, new vectors are still kept
            cache = corpus.db_path if getattr(corpus, "readonly", False) else corpus
            vectors = CachedEmbedder(emb, cache).embed_passages([d.text for d in docs])
        idx = SearchIndex.build(docs, embedder=emb, vectors=vectors, meta=stamp)
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        idx.save(tmp)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        log.info("search index: %d tasks in %.1fs", len(docs), time.perf_counter() - t0)
        return idx
    finally:
        if own and hasattr(corpus, "close"):
            try:
                corpus.close()
            except Exception:
                pass
