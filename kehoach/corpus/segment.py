"""Vietnamese word segmentation (underthesea ``word_tokenize``) with caches.

Shared by linking (lexical overlap) and search (BM25 terms). ``segment(text)``
gives lower-case words, syllables of one word joined by "_" ("thủ_tục"),
punctuation dropped, abbreviations of administrative texts expanded first
(TTHC -> thủ tục hành chính; table ``kehoach/data/link_abbrev.tsv``).

Caches: an in-process LRU, and optionally a table in the corpus database
(``SegmentCache``) so a re-run never segments the same text twice.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

DATA = Path(__file__).resolve().parent.parent / "data"
_WORD = re.compile(r"\w", re.UNICODE)


def _load_abbrev(path: Path = DATA / "link_abbrev.tsv") -> list[tuple[re.Pattern, str]]:
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        abbr, full = line.split("\t", 1)
        out.append((re.compile(r"(?<!\w)" + re.escape(abbr) + r"(?!\w)"), full.strip()))
    return out


def _load_words(path: Path) -> frozenset[str]:
    return frozenset(x.strip() for x in path.read_text("utf-8").splitlines() if x.strip() and not x.startswith("#"))


ABBREV = _load_abbrev()
STOPWORDS = _load_words(DATA / "link_stopwords.txt")
GENERIC_ACTIONS = _load_words(DATA / "link_generic_actions.tsv")
_GENERIC = "(?:" + "|".join(sorted(map(re.escape, GENERIC_ACTIONS), key=len, reverse=True)) + ")"
# a text opening (after an owner's "Sở Nội vụ:" label) with generic action verbs and two more words
_OPENS_WITH_ACTION = re.compile(rf"^(?:[^:.;]{{1,80}}:\s*)?{_GENERIC}(?:\s+{_GENERIC})*\s+\w+\s+\w+", re.I)


def opens_with_action(text: str) -> bool:
    """Whether ``text`` opens with a verb of ``link_generic_actions.tsv`` followed by its object:
    "Tiếp tục triển khai thực hiện các quy định về cơ chế một cửa" states an action although
    ``actions`` (which drops those verbs: they carry no topic) finds none."""
    return bool(_OPENS_WITH_ACTION.match(unicodedata.normalize("NFC", " ".join(text.split()))))


def expand_abbrev(text: str) -> str:
    for pat, full in ABBREV:
        text = pat.sub(full, text)
    return text


def _tokenizer():
    from kehoach.extract.nlp import import_underthesea  # slow import: only when needed
    word_tokenize = import_underthesea().word_tokenize
    return word_tokenize


@lru_cache(maxsize=200_000)
def segment(text: str) -> tuple[str, ...]:
    """Lower-case words of ``text`` (NFC), multi-syllable words joined by "_"."""
    text = unicodedata.normalize("NFC", expand_abbrev(text))
    words = _tokenizer()(text)
    return tuple(w.lower().replace(" ", "_") for w in words if _WORD.search(w))


def content_words(words: Iterable[str]) -> list[str]:
    """Words that can carry a topic: stopwords and bare numbers dropped."""
    return [w for w in words if w not in STOPWORDS and not w.replace("_", "").replace(",", "").replace(".", "").isdigit()]


SEGMENT_MIGRATIONS = [
    """CREATE TABLE IF NOT EXISTS segment_cache (
           sha1 TEXT PRIMARY KEY,
           words TEXT NOT NULL        -- space-separated
       ) WITHOUT ROWID""",
]


class SegmentCache:
    """Persistent segmentation cache in the corpus DB (``corpus.cache_conn``: the SQLite corpus itself,
    or the local ``cache.sqlite3`` of a PostgreSQL store), a connection or a file."""

    def __init__(self, corpus=None):
        self._conn: sqlite3.Connection | None = None
        if corpus is None:
            return
        if isinstance(corpus, (str, Path)):
            self._conn = sqlite3.connect(str(corpus), check_same_thread=False)
        elif isinstance(corpus, sqlite3.Connection):
            self._conn = corpus
        else:      # a Corpus: its database, or the local cache file of a PostgreSQL store (``cache_conn``)
            self._conn = getattr(corpus, "cache_conn", corpus.conn)
            corpus.ensure_schema("segment", SEGMENT_MIGRATIONS)
            return
        from kehoach.corpus.embed import _ensure_schema
        _ensure_schema(self._conn, "segment", SEGMENT_MIGRATIONS)

    def segment_many(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        texts = list(texts)
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, tuple[str, ...]] = {}
        if self._conn is not None:
            uniq = list(dict.fromkeys(keys))
            for i in range(0, len(uniq), 500):
                chunk = uniq[i:i + 500]
                rows = self._conn.execute(
                    f"SELECT sha1, words FROM segment_cache WHERE sha1 IN ({','.join('?' * len(chunk))})", chunk)
                found.update((k, tuple(w.split())) for k, w in rows)
        new = {}
        for k, t in zip(keys, texts):
            if k not in found:
                found[k] = new[k] = segment(t)
        if self._conn is not None and new:
            with self._conn:
                self._conn.executemany("INSERT OR REPLACE INTO segment_cache(sha1, words) VALUES (?, ?)",
                                       [(k, " ".join(v)) for k, v in new.items()])
        return [found[k] for k in keys]

    def actions_many(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """``actions`` of each text, cached in the same database (uncached when it is read-only)."""
        try:
            return actions_many(texts, self._conn)
        except sqlite3.Error:
            return actions_many(texts, None)


# --------------------------------------------------------------------------- actions (verbs)

@lru_cache(maxsize=1)
def _owner_verbs() -> frozenset[str]:
    """The verbs that only say who does a task ("chủ trì", "phối hợp"; ``link_owner_verbs.tsv``):
    they are not the task's action."""
    return frozenset(w.lower().replace(" ", "_") for w in _load_words(DATA / "link_owner_verbs.tsv"))


@lru_cache(maxsize=1)
def _body_heads() -> frozenset[str]:
    from kehoach.extract.data import rows
    return frozenset(r[0].lower() for r in rows("body_heads.tsv") if r and r[0] != "head")


@lru_cache(maxsize=200_000)
def actions(text: str) -> tuple[str, ...]:
    """The action verbs of ``text`` in order (underthesea POS tag V, lower case, "_" joins
    syllables): verbs inside a standard body name ("Ban Quản lý dự án", "Sở Tư pháp"), owner
    verbs ("chủ trì", "phối hợp") and stopwords ("về", "có") dropped. Empty: no action."""
    from kehoach.extract.nlp import entities, pos_tag
    text = unicodedata.normalize("NFC", " ".join(expand_abbrev(text).replace("*", " ").split()))
    bodies = [(s, e) for s, e, lab in entities(text) if lab == "BODY"]
    out, pos = [], 0
    skip = _owner_verbs()
    for word, tag in pos_tag(text[:600]):
        i = text.find(word, pos)
        if i >= 0:
            pos = i + len(word)
        if tag != "V":
            continue
        w = word.lower().replace(" ", "_")
        if w in STOPWORDS or w in skip or not _WORD.search(w):
            continue
        if i >= 0 and any(s <= i < e for s, e in bodies):
            continue
        if w.replace("_", " ") in _body_heads():          # "Ủy ban nhân dân" tagged V
            continue
        before = text[:i].rstrip() if i > 0 else ""
        if word[:1].isupper() and before and (before[-1].isalnum() or before[-1] == ","):
            continue                                      # a capitalised word mid-phrase is a name ("Sở Tư pháp")
        out.append(w)
    return tuple(out)


ACTION_MIGRATIONS = [
    """CREATE TABLE IF NOT EXISTS action_cache (
           sha1 TEXT PRIMARY KEY,
           verbs TEXT NOT NULL        -- space-separated, in order
       ) WITHOUT ROWID""",
]


def actions_many(texts: Sequence[str], conn: sqlite3.Connection | None = None) -> list[tuple[str, ...]]:
    """``actions`` of each text, through the ``action_cache`` table of ``conn`` when given."""
    texts = list(texts)
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    found: dict[str, tuple[str, ...]] = {}
    if conn is not None:
        from kehoach.corpus.embed import _ensure_schema
        _ensure_schema(conn, "action", ACTION_MIGRATIONS)
        uniq = list(dict.fromkeys(keys))
        for i in range(0, len(uniq), 500):
            chunk = uniq[i:i + 500]
            rows = conn.execute(f"SELECT sha1, verbs FROM action_cache WHERE sha1 IN ({','.join('?' * len(chunk))})",
                                chunk)
            found.update((k, tuple(v.split())) for k, v in rows)
    new = {}
    for k, t in zip(keys, texts):
        if k not in found:
            found[k] = new[k] = actions(t)
    if conn is not None and new:
        with conn:
            conn.executemany("INSERT OR REPLACE INTO action_cache(sha1, verbs) VALUES (?, ?)",
                             [(k, " ".join(v)) for k, v in new.items()])
    return [found[k] for k in keys]
