"""The link hook's state kept across processes: a snapshot of a corpus's ``Linker``.

``linker_for_corpus`` builds a ``Linker`` over every task of a corpus (vectors, clause vectors,
lexicon, neighbour index). Within one process it is kept (``link._KEPT_LINKERS``); this module
keeps it between processes too, in ``<home>/links/linker.pkl`` (written to a temporary file and
renamed: a reader sees the old snapshot or the new one, never half of one), so that a new
``kehoach add`` process of one plan embeds, segments and indexes only that plan's tasks instead of
the whole corpus.

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
"""
from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

FORMAT = 2
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
_LINKER_SKIP = ("embedder", "segmenter", "model", "index", "lex", "candidates", "_feats", "_probs", "_reason")


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
    home = getattr(corpus, "home", None)
    return Path(home) / DIR_NAME / FILE_NAME if home else None


def _model_sig() -> str:
    from kehoach.corpus.link import MODEL_PATH
    try:
        return hashlib.sha1(Path(MODEL_PATH).read_bytes()).hexdigest()
    except OSError:
        return ""


def _signature(linker, emb) -> dict:
    return {"format": FORMAT, "embedder": getattr(emb, "name", None), "dim": int(linker.index.dim),
            "k": linker.k, "hnsw_min": linker.index.hnsw_min, "model": _model_sig()}


def save(corpus, linker, emb) -> Path | None:
    """Write ``linker``'s state beside the store (atomically); None when the corpus has no home."""
    path = snapshot_path(corpus)
    if path is None:
        return None
    lex = linker.lex
    caches = {name: getattr(lex, name) for name in _LEX_CACHES}
    idx = linker.index
    index_state = {"keys": idx.keys, "vectors": idx.vectors, "approximate": idx.approximate,
                   "graph": idx._faiss.serialize_index(idx._index) if idx.approximate else None}
    linker._saved_n = len(linker.tasks)
    state = {k: v for k, v in linker.__dict__.items() if k not in _LINKER_SKIP}
    try:
        for name, value in caches.items():          # pickled empty, restored right after
            setattr(lex, name, type(value)())
        with _NoCycleGC():
            blob = pickle.dumps({"sig": _signature(linker, emb), "linker": state, "lex": lex, "index": index_state},
                                protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for name, value in caches.items():
            setattr(lex, name, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".linker-", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def load(corpus, linker, emb) -> bool:
    """Fill the new, empty ``linker`` from the corpus's snapshot; False (``linker`` untouched)
    when there is none or it was written for another embedder, model, format or settings."""
    path = snapshot_path(corpus)
    if path is None or not path.exists():
        return False
    try:
        blob = path.read_bytes()
        with _NoCycleGC():
            data = pickle.loads(blob)
        del blob
    except Exception:          # a snapshot of another version, or damaged: rebuilt
        return False
    if not isinstance(data, dict) or data.get("sig") != _signature(linker, emb):
        return False
    for k, v in data["linker"].items():
        setattr(linker, k, v)
    linker._saved_n = len(linker.tasks)          # what the snapshot holds (``due``)
    lex = data["lex"]
    lex._n_at_clear = lex.n
    linker.lex = lex
    idx, st = linker.index, data["index"]
    idx.keys = list(st["keys"])
    idx.vectors = np.ascontiguousarray(st["vectors"], dtype=np.float32)
    idx.approximate = bool(st["approximate"])
    if idx.approximate:
        idx._index = idx._faiss.deserialize_index(st["graph"])
        idx._index.hnsw.efSearch = 64
    else:
        idx._index = idx._faiss.IndexFlatIP(idx.dim)
        if len(idx.vectors):
            idx._index.add(idx.vectors)
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
