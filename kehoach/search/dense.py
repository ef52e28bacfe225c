"""Dense retrieval: L2-normalized passage vectors in a faiss inner-product index,
query vectors from the corpus embedder behind an LRU cache.

The vectors come from ``kehoach.corpus.embed`` (multilingual e5 by default) so
linking and search share one cache and one vector per text.
"""
from __future__ import annotations

import json
import os
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


COMPRESS_FROM = 200_000   # vectors: from here on, half-precision codes (half the memory of fp32, see docs/figures.md)


def _page_in(path: Path) -> None:
    """Bring a file into the page cache by reading it in order. faiss maps the codes without
    readahead, so the first scan of a file out of the cache faulted them in a page at a time:
    13.8 s for the first query of a 1M-task home after the cache was dropped, 0.24 s this way (and
    ~0.01 s when the file is cached already)."""
    import mmap
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return
    try:
        if hasattr(m, "madvise"):
            m.madvise(mmap.MADV_WILLNEED)
        view = np.frombuffer(m, dtype=np.uint8)
        int(view[::mmap.PAGESIZE].sum())       # one byte a page, in order
        del view
    finally:
        m.close()


def _read_faiss(path: Path):
    """A saved faiss index, its codes memory-mapped in place when this faiss can (no copy into the
    heap: the page cache holds them, shared between processes; ``_page_in`` first), else read."""
    flag = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
    if flag is not None:
        _page_in(path)
        try:
            return faiss.read_index(str(path), flag)
        except RuntimeError:
            pass
    return faiss.read_index(str(path))


class _Part:
    """Vectors ``offset`` .. ``offset + n``: a faiss index (flat fp32 or 8-bit codes) or a numpy array.
    A saved faiss index is opened on its first search (``path``), so loading an index to append to
    it, or to answer lexical queries, never reads the vectors."""

    def __init__(self, offset: int, n: int, index=None, vectors: Optional[np.ndarray] = None,
                 path: Optional[Path] = None):
        self.offset, self.n, self.vectors = offset, n, vectors
        self._index, self._path = index, path
        self._lock = Lock()

    @property
    def index(self):
        if self._index is None and self._path is not None:
            with self._lock:
                if self._index is None:
                    self._index = _read_faiss(self._path)
        return self._index

    @property
    def is_faiss(self) -> bool:
        return self._index is not None or self._path is not None

    def save(self, folder: Path) -> None:
        if self.is_faiss:
            faiss.write_index(self.index, str(folder / "dense.faiss"))
        else:
            np.save(folder / "dense.npy", np.asarray(self.vectors))
        (folder / "dense.json").write_text(json.dumps({"n": self.n, "faiss": self.is_faiss,
                                                      "dim": int(self.dim())}), "utf-8")

    def dim(self) -> int:
        if self.vectors is not None:
            return int(np.asarray(self.vectors).shape[1]) if self.n else 0
        return int(self.index.d)

    @classmethod
    def load(cls, folder: Path, offset: int) -> Optional["_Part"]:
        p = folder / "dense.json"
        if not p.exists():
            return None
        m = json.loads(p.read_text("utf-8"))
        if m["faiss"]:
            if faiss is None:
                raise OSError("the search index was saved with faiss, which is not installed")
            return cls(offset, int(m["n"]), path=folder / "dense.faiss")
        return cls(offset, int(m["n"]), vectors=np.load(folder / "dense.npy", mmap_mode="r"))

    def search(self, q: np.ndarray, k: int, mask: Optional[np.ndarray], threads: int):
        k = min(k, self.n)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if not self.is_faiss:                           # numpy: small parts, and no faiss
            if mask is not None:
                cand = np.flatnonzero(mask)
                if len(cand) == 0:
                    return cand, np.zeros(0, np.float32)
                s = np.asarray(self.vectors[cand]) @ q[0]
            else:
                cand, s = None, np.asarray(self.vectors) @ q[0]
            kk = min(k, len(s))
            part = np.argpartition(-s, kk - 1)[:kk]
            order = part[np.argsort(-s[part], kind="stable")]
            return (order if cand is None else cand[order]), s[order]
        params = None
        if mask is not None:
            if not mask.any():
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            bits = np.packbits(np.asarray(mask, bool), bitorder="little")
            params = faiss.SearchParameters(sel=faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(bits)))
        # one query: a single thread is fastest and leaves the cores to the query embedder
        # (OpenMP threads spinning after a multi-threaded scan slow the next embedding down)
        prev = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(threads)
        try:
            D, I = self.index.search(q, k, params=params) if params is not None else self.index.search(q, k)
        finally:
            faiss.omp_set_num_threads(prev)
        keep = I[0] >= 0
        return I[0][keep].astype(np.int64), D[0][keep]


class DenseIndex:
    """Inner-product search over normalized vectors, in parts: the vectors the index was built
    with (faiss IndexFlatIP, exact; half-precision codes from ``COMPRESS_FROM`` vectors,
    2x smaller, for million-task corpora) and the vectors added since (numpy, exact).

    A filter mask goes to faiss as a bitmap selector, so filtered search scans only the
    selected vectors' codes and never decodes the rest."""

    def __init__(self, vectors: Optional[np.ndarray] = None, threads: int = 1, *,
                 parts: Optional[list[_Part]] = None, dim: int = 0, compress: Optional[bool] = None):
        self.threads = max(1, int(threads))
        if parts is not None:
            self.parts, self.dim = parts, dim
        else:
            v = np.ascontiguousarray(vectors, dtype=np.float32)
            n, self.dim = v.shape if v.ndim == 2 else (0, 0)
            self.parts = [self._build_part(v, 0, compress)] if n else []
        self.n = sum(p.n for p in self.parts)

    @staticmethod
    def _build_part(v: np.ndarray, offset: int, compress: Optional[bool]) -> _Part:
        if faiss is None:
            return _Part(offset, len(v), vectors=v)
        if compress is None:
            compress = len(v) >= COMPRESS_FROM
        if compress:
            # fp16, not 8-bit: measured at 1M x 384 on one core, a query scans fp16 codes in 36 ms against
            # 47 ms for 8-bit ones (whose decoding costs more than the bytes saved) with exact top-10s
            # (8-bit: 0.98 of them); 768 MB instead of 384, memory-mapped
            index = faiss.IndexScalarQuantizer(v.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexFlatIP(v.shape[1])
        index.add(v)
        return _Part(offset, len(v), index=index)

    @property
    def compressed(self) -> bool:
        return bool(self.parts) and self.parts[0].is_faiss and \
            not isinstance(self.parts[0].index, faiss.IndexFlat)

    def append(self, vectors: np.ndarray) -> "DenseIndex":
        """A new index: these parts plus the added ``vectors`` (numbered after the others)."""
        v = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(v):
            return self
        part = _Part(self.n, len(v), vectors=v)
        return DenseIndex(threads=self.threads, parts=self.parts + [part], dim=v.shape[1])

    def search(self, qvec: np.ndarray, k: int, mask: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
        if not self.n or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.asarray(qvec, np.float32).reshape(1, -1)
        ids, scores = [], []
        for p in self.parts:
            m = None if mask is None else mask[p.offset:p.offset + p.n]
            i, s = p.search(q, k, m, self.threads)
            ids.append(i + p.offset)
            scores.append(np.asarray(s, np.float32))
        if len(ids) == 1:
            return ids[0], scores[0]
        i, s = np.concatenate(ids), np.concatenate(scores)
        order = np.argsort(-s, kind="stable")[:k]
        return i[order], s[order]

    def nbytes(self) -> int:
        total = 0
        for p in self.parts:
            if p.is_faiss:
                total += p.n * (p.index.sa_code_size() if hasattr(p.index, "sa_code_size") else self.dim * 4)
            else:
                total += p.vectors.nbytes
        return int(total)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("dense*"):
            old.unlink()
        meta = []
        for k, p in enumerate(self.parts):
            if p.is_faiss:
                faiss.write_index(p.index, str(folder / f"dense{k}.faiss"))
            else:
                np.save(folder / f"dense{k}.npy", np.asarray(p.vectors))
            meta.append({"offset": p.offset, "n": p.n, "faiss": p.is_faiss})
        (folder / "dense.json").write_text(json.dumps({"dim": self.dim, "parts": meta}), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Optional["DenseIndex"]:
        p = folder / "dense.json"
        if not p.exists():
            return None
        meta = json.loads(p.read_text("utf-8"))
        parts = []
        for k, m in enumerate(meta["parts"]):
            if m["faiss"]:
                if faiss is None:
                    raise OSError("the search index was saved with faiss, which is not installed")
                parts.append(_Part(m["offset"], m["n"], index=faiss.read_index(str(folder / f"dense{k}.faiss"))))
            else:
                parts.append(_Part(m["offset"], m["n"], vectors=np.load(folder / f"dense{k}.npy", mmap_mode="r")))
        return cls(parts=parts, dim=int(meta["dim"])) if parts else None
