"""The link hook's state kept across processes: a snapshot of a corpus's ``Linker``.

``linker_for_corpus`` builds a ``Linker`` over every task of a corpus (vectors, clause vectors,
lexicon, neighbour index). Within one process it is kept (``link._KEPT_LINKERS``); this module
keeps it between processes too, beside the store in ``<home>/links/``, so that a new
``kehoach add`` process of one plan embeds, segments and indexes only that plan's tasks instead of
the whole corpus.

The snapshot is columnar (``FORMAT`` 4), so that a new process maps it instead of unpickling a
100k-task object graph (4.4 s at 100k tasks; now ~1 s): ``linker.pkl`` holds the small state and
names its side files ``linker.<generation>.*``: the HNSW graph (a faiss file, whose flat storage
holds the vectors, read as a view: ``link.graph_vectors``) or, below ``HNSW_MIN``, the vectors
(``.npy``, memory-mapped), and one file of values (``values``, memory-mapped) for the per-task and per-term
dicts (tasks, actions, clause vectors, the lexicon's words, bigrams, clauses, postings and plan
terms), each value stored alone and decoded on first access (``LazyValues``): an add reads the
postings of its own terms and the words of their tasks, not 100k tasks' objects. The side files are
written first, then ``linker.pkl`` is replaced atomically: a reader sees the old snapshot or the
new one, never half of one (the generation before stays for readers opening it; older ones are
deleted).

A snapshot is used only when it was written for the same embedder (name and dimension), the
default link model file, the same format and the same ``Linker`` settings, and when every plan
it holds tasks of is still in the corpus unchanged: the check compares one fingerprint row per
plan (``plan_prints``: content hash, last write, task count; ``plans_to_add``), never the tasks,
and only the tasks of the plans it lacks are read (a plan replaced or removed means a full
rebuild, as in one process). It is written after a rebuild and then only when it lacks
``SAVE_EVERY`` tasks (``due``): writing it costs the corpus, adding the tasks it lacks costs
those tasks (their vectors, words and actions are in the caches). What is saved is what the ``Linker`` cannot recompute cheaply:
tasks, rows, vectors (and faiss's HNSW graph past ``HNSW_MIN``), clause vectors, the lexicon's
counts and postings, actions, plan bookkeeping. Caches derived from the corpus size (IDF, tf-idf
vectors, features, probabilities) are not saved: after the new tasks are added they are computed
afresh, so the links equal those of a full rebuild (``tests/test_link_index.py``).

Also here, for ``kehoach add``: ``passages_of`` (what the hooks will embed for a plan: the
embedding ahead, ``embed.prefetch``) and spaCy's import, with torch hidden, started ahead on a thread
(``import_spacy_ahead``; the import itself is ``extract.nlp.import_spacy_without_torch``).
"""
from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

FORMAT = 4   # 4: past HNSW_MIN the vectors are the graph's own (no .npy beside it)
DIR_NAME = "links"
FILE_NAME = "linker.pkl"
# the snapshot is written again when the tasks added since it was written reach this many, or this
# share of the corpus (whichever is fewer): writing it costs the corpus (7 s at 100k tasks), while a
# later process adds the tasks it lacks in O(those tasks) (their plans read, vectors, words and
# actions found in the caches, indexed; searched already), so one add of a plan does not pay it
SAVE_EVERY = 1000
SAVE_SHARE = 0.1
# the Lexicon's caches that depend on the corpus size or on other tasks: never saved
_LEX_CACHES = ("_vec", "_idf", "_mass", "_plan_vec", "_plan_sim")
# the Linker's attributes that are not state (objects of this process, or caches)
_LINKER_SKIP = ("embedder", "segmenter", "model", "index", "lex", "candidates", "_feats", "_probs", "_reason",
                "_title_sim", "_nearest", "_plan_keys")


def plan_prints(corpus) -> dict[str, str]:
    """plan key (``LinkTask.plan``) -> what changes when its tasks change (content hash, last write,
    task count): one row per plan, never per task (the search index's ``plan_fingerprints``)."""
    rows = corpus.conn.execute("SELECT id, sha256, updated_at, added_at, task_count FROM plans").fetchall()
    return {str(pid): f"{sha}|{upd or added}|{n}" for pid, sha, upd, added, n in rows}


def plans_to_add(linker, prints: dict[str, str]) -> list[int] | None:
    """The plans of ``prints`` (the corpus now) that ``linker`` (kept or loaded) lacks, when every
    plan it holds tasks of is still in the corpus unchanged; None (rebuild) when one was replaced or
    removed, or the linker does not know which plans it was built from. O(plans), never O(tasks)."""
    held = getattr(linker, "_plan_prints", None)
    if held is None:
        return None
    for plan, fp in held.items():
        if prints.get(plan) != fp and linker._plan_tasks.get(plan, 0) > 0:
            return None
    return sorted(int(p) for p, fp in prints.items() if held.get(p) != fp)


def searched_before(conn, embedder: str, keys) -> tuple[set[str], int]:
    """Of ``keys``, those already searched with ``embedder`` (the store's ``link_searched``), and how
    many keys are marked searched in all (one COUNT: the caller checks it against the tasks it holds,
    so that a task left unsearched, or a stale mark, falls back to the full comparison)."""
    keys = list(keys)
    done: set[str] = set()
    for i in range(0, len(keys), 500):
        part = keys[i:i + 500]
        q = ",".join("?" * len(part))
        done.update(k for (k,) in conn.execute(
            f"SELECT key FROM link_searched WHERE embedder=? AND key IN ({q})", (embedder, *part)))
    total = conn.execute("SELECT COUNT(*) FROM link_searched WHERE embedder=?", (embedder,)).fetchone()[0]
    return done, int(total)


def due(linker, rebuilt: bool) -> bool:
    """Write the snapshot now? Always after a build from every task; else when the tasks it lacks
    (``_saved_n``: how many it held when written or read) reach ``SAVE_EVERY`` or ``SAVE_SHARE``."""
    n = len(linker.tasks)
    saved = getattr(linker, "_saved_n", None)
    if rebuilt or saved is None:
        return True
    return n - saved >= min(SAVE_EVERY, max(1, int(SAVE_SHARE * n)))


class _NoCycleGC:
    """The cyclic garbage collector paused while a snapshot is pickled or unpickled: its millions of
    new objects (tasks, postings) would otherwise set off collections that traverse them all again
    and again (at 100k tasks: loads 4.9 -> 2.0 s, dumps 3.7 -> 2.9 s). Nothing of it is garbage."""

    def __enter__(self):
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self._was:
            gc.enable()


def snapshot_path(corpus) -> Path | None:
    """The snapshot's main file (its small state; the arrays and the lazily read values are in
    files beside it that it names, ``<stem>.<generation>.*``): deleting or damaging it is no snapshot."""
    home = getattr(corpus, "home", None)
    return Path(home) / DIR_NAME / FILE_NAME if home else None


def _model_sig() -> str:
    from kehoach.corpus.link import MODEL_PATH
    try:
        return hashlib.sha1(Path(MODEL_PATH).read_bytes()).hexdigest()
    except OSError:
        return ""


_LAYOUTS: dict[tuple, tuple] = {}


def _layout(linker) -> tuple:
    """The attribute names of a new ``Linker`` and of a new ``Lexicon`` of this code: a snapshot
    written by code whose classes had other attributes (a cache added to the Lexicon since, say)
    would restore a state lacking them, so it is not used but rebuilt."""
    key = (type(linker), type(linker.lex))
    if key not in _LAYOUTS:
        fresh = type(linker)(model=linker.model, dim=linker.index.dim, hnsw_min=linker.index.hnsw_min)
        _LAYOUTS[key] = (tuple(sorted(fresh.__dict__)), tuple(sorted(type(linker.lex)().__dict__)))
    return _LAYOUTS[key]


def _signature(linker, emb) -> dict:
    return {"format": FORMAT, "embedder": getattr(emb, "name", None), "dim": int(linker.index.dim),
            "k": linker.k, "hnsw_min": linker.index.hnsw_min, "model": _model_sig(), "layout": _layout(linker)}


class LazyValues(dict):
    """A dict read from a snapshot whose values are decoded on first access: until then a key maps
    to the position of its pickled value in the snapshot's value file (memory-mapped), so a new
    process pays for the keys only, and for the values the new tasks touch (their terms' postings,
    the words of their neighbours), not for 100k tasks' objects. Keys keep their order; every way of
    reading a value (``[]``, ``get``, ``pop``, ``setdefault``, ``values``, ``items``, comparison,
    copy, pickling) decodes it first, so it behaves as the dict it stands for. Only for values that
    are never plain ints (tasks, word tuples, sets, Counters, arrays)."""

    def __init__(self, keys, offsets: np.ndarray, blob):
        dict.__init__(self, zip(keys, range(len(keys))))
        self._offsets = offsets
        self._blob = blob

    def _decode(self, key, i: int):
        a, b = int(self._offsets[i]), int(self._offsets[i + 1])
        v = _decode_value(self._blob[a:b])
        dict.__setitem__(self, key, v)
        return v

    def __getitem__(self, key):
        v = dict.__getitem__(self, key)
        return self._decode(key, v) if type(v) is int else v

    def get(self, key, default=None):
        v = dict.get(self, key, _ABSENT)
        if v is _ABSENT:
            return default
        return self._decode(key, v) if type(v) is int else v

    def setdefault(self, key, default=None):
        if dict.__contains__(self, key):
            return self[key]
        dict.__setitem__(self, key, default)
        return default

    def pop(self, key, *default):
        if dict.__contains__(self, key):
            v = self[key]
            dict.__delitem__(self, key)
            return v
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self):
        self.decode_all()
        return dict.popitem(self)

    def decode_all(self) -> None:
        for k, v in [(k, v) for k, v in dict.items(self) if type(v) is int]:
            self._decode(k, v)

    def values(self):
        self.decode_all()
        return dict.values(self)

    def items(self):
        self.decode_all()
        return dict.items(self)

    def __iter__(self):                 # not dict's own: dict(x), {**x}, update(x) then read through []
        return dict.__iter__(self)

    def __eq__(self, other):
        self.decode_all()
        if isinstance(other, LazyValues):
            other.decode_all()
        return dict.__eq__(self, other)

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def copy(self):
        self.decode_all()
        return dict(dict.items(self))

    def __repr__(self):
        self.decode_all()
        return dict.__repr__(self)

    def __reduce__(self):
        self.decode_all()
        return (dict, (dict(dict.items(self)),))

    def raw(self, key):
        """The stored value of ``key`` as pickled bytes when not decoded yet, else None."""
        v = dict.__getitem__(self, key)
        if type(v) is int:
            return self._blob[int(self._offsets[v]):int(self._offsets[v + 1])]
        return None


_ABSENT = object()
_SEP = "\x1f"          # the unit separator: in no word, key or term
# a tuple / set of strings (task words, bigrams, actions; a term's postings) is stored as its strings
# joined (a tag byte, then UTF-8): decoding is a split, several times faster than unpickling them
_TUPLE, _SET = b"T", b"S"


def _encode_value(v) -> bytes:
    kind = _TUPLE if type(v) is tuple else _SET if type(v) is set else None
    if kind is not None and v and all(type(x) is str and _SEP not in x for x in v):
        return kind + _SEP.join(v).encode("utf-8")
    return pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)     # starts with b"\x80": never a tag


def _decode_value(b: bytes):
    tag = b[:1]
    if tag == _TUPLE:
        return tuple(b[1:].decode("utf-8").split(_SEP))
    if tag == _SET:
        return set(b[1:].decode("utf-8").split(_SEP))
    return pickle.loads(b)
# the dicts of one value per task or term kept as ``LazyValues`` in a snapshot (most of its objects)
_LAZY_LINKER = ("tasks", "actions", "clause_vectors")
_LAZY_LEX = ("words", "bigrams", "clauses", "postings", "plan_terms")


def _write_values(f, d: dict) -> tuple[list, np.ndarray]:
    """Append the values of ``d`` to the open file ``f`` (pickled one by one; a value of a
    ``LazyValues`` not decoded yet is copied as it was stored) -> its keys and their offsets."""
    keys = list(dict.keys(d))
    offsets = np.zeros(len(keys) + 1, np.int64)
    pos = f.tell()
    base = pos
    lazy = isinstance(d, LazyValues)
    buf: list[bytes] = []
    size = 0
    for i, k in enumerate(keys):
        b = d.raw(k) if lazy else None
        if b is None:
            b = _encode_value(dict.__getitem__(d, k))
        buf.append(b)
        size += len(b)
        offsets[i + 1] = pos - base + size
        if size > 1 << 22:
            f.write(b"".join(buf))
            pos += size
            buf, size = [], 0
    if buf:
        f.write(b"".join(buf))
    offsets += base
    return keys, offsets


def _sidecar(path: Path, gen: str, what: str) -> Path:
    return path.with_name(f"{path.stem}.{gen}.{what}")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".linker-", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(corpus, linker, emb) -> Path | None:
    """Write ``linker``'s state beside the store; None when the corpus has no home.

    Columnar: the vectors as an .npy and the HNSW graph as a faiss file (both read whole by the
    next process, without unpickling), the per-task and per-term dicts (``_LAZY_LINKER``,
    ``_LAZY_LEX``) as one file of values pickled one by one (memory-mapped and decoded on access,
    ``LazyValues``), the rest pickled in the main file. The files of this generation are written
    first, then the main file naming them is replaced atomically: a reader sees the old snapshot
    or the new one, never half of one; the generation before stays (a reader may be opening it),
    older ones are deleted."""
    path = snapshot_path(corpus)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    gen = f"{os.getpid()}-{os.urandom(4).hex()}"
    lex = linker.lex
    idx = linker.index
    linker._saved_n = len(linker.tasks)
    written: list[Path] = []
    try:
        vec_path = graph = None
        if idx.approximate:       # the graph's flat storage holds the vectors: they are not written twice
            idx.merge_tail()                    # the graph written holds every row
            graph = _sidecar(path, gen, "hnsw.faiss")
            written.append(graph)
            idx._faiss.write_index(idx._index, str(graph))
        else:
            vec_path = _sidecar(path, gen, "vectors.npy")
            written.append(vec_path)
            np.save(vec_path, np.ascontiguousarray(idx.vectors, dtype=np.float32))
        val_path = _sidecar(path, gen, "values")
        written.append(val_path)
        lazy: dict[str, tuple[list, np.ndarray]] = {}
        with _NoCycleGC(), open(val_path, "wb") as f:
            for name in _LAZY_LINKER:
                lazy["linker." + name] = _write_values(f, getattr(linker, name))
            for name in _LAZY_LEX:
                lazy["lex." + name] = _write_values(f, getattr(lex, name))
        state = {k: v for k, v in linker.__dict__.items() if k not in _LINKER_SKIP and k not in _LAZY_LINKER}
        lex_state = {k: v for k, v in lex.__dict__.items() if k not in _LAZY_LEX}
        for name in _LEX_CACHES:                   # never saved: recomputed at the new size
            lex_state[name] = type(getattr(lex, name))()
        index_state = {"keys": idx.keys, "approximate": idx.approximate,
                       "vectors": vec_path.name if vec_path else None, "graph": graph.name if graph else None}
        with _NoCycleGC():
            blob = pickle.dumps({"sig": _signature(linker, emb), "linker": state, "lex": lex_state,
                                 "lex_class": type(lex), "index": index_state, "values": val_path.name,
                                 "lazy": lazy, "gen": gen}, protocol=pickle.HIGHEST_PROTOCOL)
        _atomic_write(path, blob)
    except BaseException:
        for p in written:
            try:
                p.unlink()
            except OSError:
                pass
        raise
    _prune(path, keep={gen, getattr(linker, "_snapshot_gen", None)})
    linker._snapshot_gen = gen
    return path


# side files younger than this are never deleted: another process (a read path saving outside the
# add hooks' turn-taking) may just have written them and pointed ``linker.pkl`` at them
PRUNE_AGE = 60.0


def _prune(path: Path, keep: set) -> None:
    """Delete the side files of generations other than ``keep`` once older than ``PRUNE_AGE``
    (a file already mapped by a reader stays readable)."""
    import time
    now = time.time()
    for p in path.parent.glob(f"{path.stem}.*"):
        parts = p.name.split(".")
        if len(parts) >= 3 and parts[1] not in keep:
            try:
                if now - p.stat().st_mtime > PRUNE_AGE:
                    p.unlink()
            except OSError:
                pass


def load(corpus, linker, emb) -> bool:
    """Fill the new, empty ``linker`` from the corpus's snapshot; False (``linker`` untouched)
    when there is none, it is damaged, or it was written for another embedder, model, format or
    settings."""
    import mmap
    from kehoach.corpus import link
    path = snapshot_path(corpus)
    if path is None or not path.exists():
        return False
    try:
        with _NoCycleGC():
            data = pickle.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("sig") != _signature(linker, emb):
            return False
        with open(path.with_name(data["values"]), "rb") as f:
            blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
        st = data["index"]
        graph = linker.index._faiss.read_index(str(path.with_name(st["graph"]))) if st["approximate"] else None
        vectors = link.graph_vectors(graph) if graph is not None else np.load(path.with_name(st["vectors"]), mmap_mode="r")
    except Exception:          # a snapshot of another version, damaged, or its files gone: rebuilt
        return False
    lazy = {name: LazyValues(keys, offsets, blob) for name, (keys, offsets) in data["lazy"].items()}
    for k, v in data["linker"].items():
        setattr(linker, k, v)
    for name in _LAZY_LINKER:
        setattr(linker, name, lazy["linker." + name])
    linker._saved_n = len(linker.tasks)          # what the snapshot holds (``due``)
    linker._snapshot_gen = data.get("gen")
    lex = data["lex_class"].__new__(data["lex_class"])
    lex.__dict__.update(data["lex"])
    for name in _LAZY_LEX:
        setattr(lex, name, lazy["lex." + name])
    lex._n_at_clear = lex.n
    linker.lex = lex
    idx = linker.index
    idx.keys = list(st["keys"])
    idx.vectors = vectors
    idx.approximate = bool(st["approximate"])
    if idx.approximate:
        idx._index = graph
        idx._index.hnsw.efSearch = 64
    else:
        idx._index = idx._faiss.IndexFlatIP(idx.dim)
        if len(idx.vectors):
            idx._index.add(np.ascontiguousarray(idx.vectors))
    return True


def fresh_caches(linker) -> None:
    """After tasks were added to a loaded snapshot: drop what depends on the corpus size, so
    IDF and features are those of a full rebuild at this size."""
    lex = linker.lex
    for name in _LEX_CACHES:
        getattr(lex, name).clear()
    lex._n_at_clear = lex.n
    linker._feats.clear()
    linker._probs.clear()
    linker._reason.clear()


def uncached(conn, table: str, texts) -> list[str]:
    """Of ``texts``, those without a row in the persistent cache ``table`` ("segment_cache",
    "action_cache": keyed by the text's sha1) of ``conn``; all of them when it cannot be read. What
    ``_warm_words`` needs to compute ahead (a text cached before is read, not recomputed)."""
    import sqlite3
    texts = list(dict.fromkeys(texts))
    if conn is None or not texts:
        return texts
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    have: set[str] = set()
    try:
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            have.update(k for (k,) in conn.execute(
                f"SELECT sha1 FROM {table} WHERE sha1 IN ({','.join('?' * len(part))})", part))
    except sqlite3.Error:          # no such table yet: nothing cached
        return texts
    return [t for t, k in zip(texts, keys) if k not in have]


def passages_of(records) -> list[str]:
    """The passages the add hooks embed for these task records, deduplicated: the search hook's task
    text, the link hook's (``link_text``) and, for a task of 2+ clauses, its clauses (the add hook
    embeds them so that no read does). What ``kehoach add`` embeds ahead (``embed.prefetch``)."""
    from kehoach.corpus.link import link_text, split_clauses
    out: dict[str, None] = {}
    for r in records:
        out[r.text] = None
        out[link_text(r.text)] = None
        cs = split_clauses(r.text)
        if len(cs) > 1:
            out.update(dict.fromkeys(cs))
    return list(out)


def import_spacy_ahead() -> None:
    """On a thread: spaCy's import (``nlp.import_spacy_without_torch``), so that it overlaps the
    embedding; the link hook's actions need it. ``kehoach add`` runs it from the embedding-ahead
    thread once the model is loaded (``embed.prefetch(after_load=...)``): no embedder is loading, so
    none can meet the hidden torch (the fallback engines import it). (Only the import: underthesea's
    models load lazily into globals without a lock, so segmenting or tagging here while the main
    thread extracts the next file can break both.)"""
    import sys
    import threading
    if "spacy" in sys.modules:
        return
    from kehoach.extract.nlp import import_spacy_without_torch
    threading.Thread(target=import_spacy_without_torch, name="kehoach-spacy", daemon=True).start()
