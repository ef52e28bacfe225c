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


def expand_abbrev(text: str) -> str:
    for pat, full in ABBREV:
        text = pat.sub(full, text)
    return text


def _tokenizer():
    from underthesea import word_tokenize  # slow import (~3 s): only when needed
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
    """Persistent segmentation cache in the corpus DB (``corpus.conn``), a connection or a file."""

    def __init__(self, corpus=None):
        self._conn: sqlite3.Connection | None = None
        if corpus is None:
            return
        if isinstance(corpus, (str, Path)):
            self._conn = sqlite3.connect(str(corpus), check_same_thread=False)
        elif isinstance(corpus, sqlite3.Connection):
            self._conn = corpus
        else:
            self._conn = corpus.conn
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
