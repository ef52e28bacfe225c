"""Text stages for search: diacritic folding, tokens, abbreviation expansion,
question-word stripping, query word segmentation and marked snippets.

Pure functions over strings; the vocabularies live in ``kehoach/data/`` TSV files.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from kehoach.ingest.normalize import fold_lookalikes   # the records' letters: a query folds as they were folded

DATA = Path(__file__).resolve().parent.parent / "data"
LEAD_ABBREVIATIONS = DATA / "abbreviations.tsv"        # the lead's table (read only)
SEARCH_ABBREVIATIONS = DATA / "search_abbreviations.tsv"
QUESTION_WORDS = DATA / "search_question_words.tsv"

_WORD = re.compile(r"\w+", re.UNICODE)
_FOLD_TABLE = str.maketrans({"đ": "d", "Đ": "D"})


# ---------------------------------------------------------------- folding and tokens

@lru_cache(maxsize=65536)
def fold(s: str) -> str:
    """Lower-case, strip diacritics (đ -> d). Keeps length for precomposed (NFC) input."""
    d = unicodedata.normalize("NFD", s.translate(_FOLD_TABLE))
    return "".join(c for c in d if not unicodedata.combining(c)).lower()


def fold_keep_offsets(s: str) -> str:
    """``fold`` character by character so offsets into ``s`` stay valid (for marking)."""
    return "".join(fold(c)[:1] or c for c in s)


def tokens(s: str) -> list[str]:
    """Lower-cased word tokens with diacritics (NFC; the look-alikes of đ/Đ as the letters, as the records have them)."""
    return _WORD.findall(fold_lookalikes(unicodedata.normalize("NFC", s)).lower())


def folded_tokens(s: str) -> list[str]:
    return _WORD.findall(fold(fold_lookalikes(unicodedata.normalize("NFC", s))))


def bigrams(toks: list[str]) -> list[str]:
    return [a + " " + b for a, b in zip(toks, toks[1:])]


# ---------------------------------------------------------------- TSV tables

def read_tsv(path: Path, ncols: int = 2) -> list[tuple[str, ...]]:
    """Rows of a TSV data table; '#' lines and blank lines skipped; missing file -> []."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < ncols or not cells[0]:
            continue
        rows.append(tuple(cells[:ncols]))
    return rows


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """abbreviation -> expansion; the lead's table overrides the search supplement."""
    table: dict[str, str] = {}
    for path in (SEARCH_ABBREVIATIONS, LEAD_ABBREVIATIONS):
        for abbr, exp in read_tsv(path):
            if abbr.lower() in ("abbreviation", "abbr"):  # a header row
                continue
            table[abbr] = exp
    return table


@lru_cache(maxsize=1)
def _abbr_regex() -> tuple[Optional[re.Pattern], dict[str, str]]:
    table = abbreviations()
    by_key: dict[str, str] = {}
    for abbr, exp in table.items():
        for form in {abbr, fold(abbr)}:
            by_key.setdefault(form.lower(), exp)
    if not by_key:
        return None, {}
    alts = sorted(by_key, key=len, reverse=True)
    pat = re.compile(r"(?<![\w&])(" + "|".join(re.escape(a) for a in alts) + r")(?![\w&])", re.IGNORECASE)
    return pat, by_key


def expand_abbreviations(text: str) -> str:
    """Append each known abbreviation's expansion after it: "TTHC" -> "TTHC (thủ tục hành chính)"."""
    pat, by_key = _abbr_regex()
    if pat is None:
        return text
    return pat.sub(lambda m: f"{m.group(0)} ({by_key[m.group(0).lower()]})", text)


# ---------------------------------------------------------------- questions

@dataclass(frozen=True)
class ParsedQuery:
    raw: str
    text: str          # the retrieval query: question words removed (abbreviations are expanded by lexical search)
    who: bool          # the query asks which body is responsible
    folded: bool       # typed without any diacritics
    restored: bool = False   # diacritics written back from the corpus vocabulary


@lru_cache(maxsize=1)
def _question_phrases() -> list[tuple[list[str], str]]:
    rows = read_tsv(QUESTION_WORDS)
    out = [(folded_tokens(p) or [p], intent) for p, intent in rows]
    out.sort(key=lambda x: len(x[0]), reverse=True)
    return out


def has_diacritics(s: str) -> bool:
    return fold(s) != s.lower()


def parse_query(q: str) -> ParsedQuery:
    """Strip question words ("who owns", "ai chủ trì", "cơ quan nào") and detect a "who" question.

    Phrases of several words are removed anywhere; one-word phrases ("ai", "who")
    only at the start or end of the query, where they ask rather than describe.
    """
    q = fold_lookalikes(unicodedata.normalize("NFC", q)).strip()     # "Ðồng Tháp" typed on a Western layout
    spans = [(m.start(), m.end()) for m in _WORD.finditer(q)]
    ftoks = [fold(q[a:b]) for a, b in spans]
    keep = [True] * len(spans)
    who = False
    for phrase, intent in _question_phrases():
        n = len(phrase)
        if not phrase or not phrase[0][:1].isalnum():
            continue
        i = 0
        while i + n <= len(ftoks):
            if all(keep[i:i + n]) and ftoks[i:i + n] == phrase:
                alive = [j for j, k in enumerate(keep) if k]
                edge = i == alive[0] or i + n - 1 == alive[-1]
                if n > 1 or edge:
                    for j in range(i, i + n):
                        keep[j] = False
                    who = who or intent == "who"
                    i += n
                    continue
            i += 1
    if not any(keep):  # the whole query was question words: keep it as typed
        keep = [True] * len(spans)
    text = _kept_text(q, spans, keep)
    return ParsedQuery(raw=q, text=text, who=who, folded=not has_diacritics(q))


def _kept_text(q: str, spans: list[tuple[int, int]], keep: list[bool]) -> str:
    """The query without the dropped words, punctuation between kept words preserved."""
    out, prev_end = [], None
    for (a, b), k in zip(spans, keep):
        if not k:
            prev_end = None
            continue
        out.append(q[prev_end:a] if prev_end is not None else " ")
        out.append(q[a:b])
        prev_end = b
    tail = q[spans[-1][1]:] if spans and keep[-1] else ""
    return ("".join(out) + tail).strip(" ?,;:")


# ---------------------------------------------------------------- query word segmentation

def segment_query(toks: list[str], vocabulary: dict[str, int], max_len: int = 4) -> list[str]:
    """Greedy longest match of multi-syllable words ("thủ_tục") known to the index's word
    vocabulary; falls back to single syllables. Avoids loading a segmenter at query time."""
    out, i = [], 0
    while i < len(toks):
        for n in range(min(max_len, len(toks) - i), 0, -1):
            w = "_".join(toks[i:i + n])
            if n == 1 or w in vocabulary:
                out.append(w)
                i += n
                break
    return out


_BODY_MAX_LEN = 16


@lru_cache(maxsize=1)
def _body_names() -> dict[tuple[str, ...], str]:
    """Folded token tuples of the gazetteer's standard body names -> the name as written
    (``body_gazetteer.tsv``), so accent restoration prefers a body name over common words."""
    out: dict[tuple[str, ...], str] = {}
    for row in read_tsv(DATA / "body_gazetteer.tsv", 1):
        toks = tuple(folded_tokens(row[0]))
        if len(toks) >= 2:
            out.setdefault(toks, " ".join(tokens(row[0])))
    return out


def restore_diacritics(folded_toks: list[str], folded_words: dict[str, str], max_len: int = 4) -> Optional[str]:
    """A query typed without diacritics, written back with them from the corpus's own words:
    longest match of the folded tokens against ``folded_words`` ("thanh_toan" -> "thanh_toán",
    the most frequent original). None unless every token is covered (an English query, a
    word the corpus never used)."""
    out, i = [], 0
    bodies = _body_names()
    while i < len(folded_toks):
        body = None
        for n in range(min(_BODY_MAX_LEN, len(folded_toks) - i), 1, -1):
            body = bodies.get(tuple(folded_toks[i:i + n]))
            if body is not None:
                break
        if body is not None:  # a known body name beats common words ("so noi vu" -> Sở Nội vụ, not "số nội vụ")
            out.append(body)
            i += n
            continue
        for n in range(min(max_len, len(folded_toks) - i), 0, -1):
            w = folded_words.get("_".join(folded_toks[i:i + n]))
            if w is not None:
                out.append(w.replace("_", " "))
                i += n
                break
        else:
            if folded_toks[i].isdigit():
                out.append(folded_toks[i])
                i += 1
                continue
            return None
    return " ".join(out)


# ---------------------------------------------------------------- snippets

def match_marks(text: str, query_folded_tokens: Iterable[str]) -> list[tuple[int, int]]:
    """Character ranges of the words of ``text`` whose folded form is a query token."""
    want = {t for t in query_folded_tokens if len(t) > 1 or t.isdigit()}
    if not want:
        return []
    ftext = fold_keep_offsets(text)
    return [(m.start(), m.end()) for m in _WORD.finditer(ftext) if m.group(0) in want]


def snippet_window(text: str, marks: list[tuple[int, int]], width: int = 320) -> tuple[int, int]:
    """The window of ``text`` (at most ``width`` chars) that holds the most marks."""
    if len(text) <= width:
        return 0, len(text)
    best, best_n = 0, -1
    for a, _ in marks or [(0, 0)]:
        start = max(0, a - width // 4)
        n = sum(1 for x, y in marks if x >= start and y <= start + width)
        if n > best_n:
            best, best_n = start, n
    start = best
    if start > 0:  # start on a word boundary
        sp = text.find(" ", start)
        start = sp + 1 if 0 <= sp < start + 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        sp = text.rfind(" ", start, end)
        end = sp if sp > start + width // 2 else end
    return start, end


def snippet_html(text: str, marks: list[tuple[int, int]], width: int = 320) -> str:
    """HTML-escaped snippet with the matched words in <mark>; "…" where text was cut."""
    a, b = snippet_window(text, marks, width)
    out, pos = [], a
    for x, y in marks:
        if x < a or y > b:
            continue
        out.append(html.escape(text[pos:x]))
        out.append("<mark>" + html.escape(text[x:y]) + "</mark>")
        pos = y
    out.append(html.escape(text[pos:b]))
    return ("…" if a > 0 else "") + "".join(out) + ("…" if b < len(text) else "")


def snippet_plain(text: str, marks: list[tuple[int, int]], width: int = 200) -> str:
    """Terminal snippet: matched words in [brackets]."""
    a, b = snippet_window(text, marks, width)
    out, pos = [], a
    for x, y in marks:
        if x < a or y > b:
            continue
        out.append(text[pos:x] + "[" + text[x:y] + "]")
        pos = y
    out.append(text[pos:b])
    return ("…" if a > 0 else "") + "".join(out) + ("…" if b < len(text) else "")


BOILERPLATE = DATA / "search_boilerplate.tsv"


@lru_cache(maxsize=1)
def _boilerplate() -> list[tuple[list[str], int]]:
    rows = [(folded_tokens(label), int(n)) for label, n in read_tsv(BOILERPLATE)]
    return sorted(rows, key=lambda x: -len(x[0]))


def is_boilerplate(text: str) -> bool:
    """A form label with a short value ("Thời gian thực hiện: Tháng 12/2025."), not a commitment."""
    toks = folded_tokens(text or "")
    for label, n in _boilerplate():
        if label and toks[:len(label)] == label and len(toks) - len(label) <= n:
            return True
    return False

