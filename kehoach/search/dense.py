"""Dense retrieval: L2-normalized passage vectors in a faiss inner-product index,
query vectors from the corpus embedder behind an LRU cache.

The vectors come from ``kehoach.corpus.embed`` (multilingual e5 by default) so
linking and search share one cache and one vector per text.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from threading import Lock
from typing import Optional

import numpy as np

try:  # faiss is the fast path; numpy gives the same results without it
    import faiss
except ImportError:  # pragma: no cover
    faiss = None


class QueryCache:
    """LRU of query text -> query vector around an embedder (thread-safe)."""

    def __init__(self, embedder, size: int = 1024):
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = Lock()

    @property
    def name(self) -> str:
        return self.embedder.name

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            v = self._cache.get(text)
            if v is not None:
                self._cache.move_to_end(text)
                return v
        v = np.asarray(self.embedder.embed_query(text), np.float32).reshape(-1)
        with self._lock:
            self._cache[text] = v
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return v


class DenseIndex:
    """Exact inner-product search over normalized vectors (faiss IndexFlatIP).

    With a filter mask the candidates are scored directly with numpy (the subset
    is what the user asked for, usually small)."""

    def __init__(self, vectors: np.ndarray, threads: int = 1):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.n, self.dim = self.vectors.shape if self.vectors.ndim == 2 else (0, 0)
        self.threads = max(1, int(threads))
        self._index = None
        if faiss is not None and self.n:
            self._index = faiss.IndexFlatIP(self.dim)
            self._index.add(self.vectors)

    def search(self, qvec: np.ndarray, k: int, mask: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
        if not self.n or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.asarray(qvec, np.float32).reshape(1, -1)
        if mask is not None:
            cand = np.flatnonzero(mask)
            if len(cand) == 0:
                return cand, np.zeros(0, np.float32)
            s = self.vectors[cand] @ q[0]
            kk = min(k, len(cand))
            part = np.argpartition(-s, kk - 1)[:kk]
            order = part[np.argsort(-s[part], kind="stable")]
            return cand[order], s[order]
        k = min(k, self.n)
        if self._index is not None:
            # one query: a single thread is fastest and leaves the cores to the query embedder
            # (OpenMP threads spinning after a multi-threaded scan slow the next embedding down)
            prev = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(self.threads)
            try:
                D, I = self._index.search(q, k)
            finally:
                faiss.omp_set_num_threads(prev)
            keep = I[0] >= 0
            return I[0][keep].astype(np.int64), D[0][keep]
        s = self.vectors @ q[0]
        part = np.argpartition(-s, k - 1)[:k]
        order = part[np.argsort(-s[part], kind="stable")]
        return order, s[order]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "dense.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path) -> Optional["DenseIndex"]:
        p = folder / "dense.npy"
        return cls(np.load(p)) if p.exists() else None
