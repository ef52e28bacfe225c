"""Small pure helpers shared by the legal stages: registry keys of document symbols, dates,
folded names, provinces, and the legal data tables.

A document's symbol (số ký hiệu) is what identifies it: "02/2021/NQ-HĐND".
``clean_symbol`` gives the form to show, ``symbol_key`` the form to compare
(upper case, Đ -> D, no leading zeros, no spaces). Reading a symbol's parts (its year, the type
its code implies) and finding citations in a sentence is the extraction's citation stage
(``kehoach.extract.citations``); nothing here parses citations.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Optional

from kehoach.extract.citations import SymbolMatch, find_symbols, read_type
from kehoach.ingest.normalize import normalize_tones

DATA = Path(__file__).resolve().parents[2] / "data"

_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "Ð": "Đ", "ð": "đ"})


# ------------------------------------------------------------------ data tables

@lru_cache(maxsize=None)
def load_tsv(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows of ``kehoach/data/<name>``: tab-separated, '#' comments and blank lines skipped."""
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append(tuple(c.strip() for c in line.split("\t")))
    return tuple(rows)


# ------------------------------------------------------------------ names

@lru_cache(maxsize=65536)
def fold(s: str) -> str:
    """Comparable form of a name: NFC, one tone convention, lower case, dashes and
    commas as spaces, "UBND"/"HĐND" expanded, whitespace collapsed."""
    s = normalize_tones(unicodedata.normalize("NFC", s or "")).translate(_DASHES).casefold()
    s = _UBND.sub("ủy ban nhân dân", s)
    s = _HDND.sub("hội đồng nhân dân", s)
    s = _TP.sub("thành phố ", s)
    s = _PUNCT.sub(" ", s)
    return _WS.sub(" ", s).strip()


_UBND, _HDND, _TP = re.compile(r"\bubnd\b"), re.compile(r"\bhđnd\b"), re.compile(r"\btp\.\s*")
_PUNCT, _WS = re.compile(r"[-,;:()*]+"), re.compile(r"\s+")


# ------------------------------------------------------------------ symbols

_NUM_SPACE_CODE = re.compile(r"^(\d+[a-zA-Z]?)\s+(?=[^\d\s/-])")


@lru_cache(maxsize=65536)
def clean_symbol(s: str | None) -> str:
    """The symbol as it should be shown: NFC, one Đ, plain dashes, no spaces, no trailing punctuation.
    "1977 /QĐ-UBND" -> "1977/QĐ-UBND"; "1830 QĐ-UBND" -> "1830/QĐ-UBND"."""
    s = unicodedata.normalize("NFC", s or "").translate(_DASHES).strip()
    s = _NUM_SPACE_CODE.sub(r"\1/", s)
    s = re.sub(r"\s+", "", s)
    return s.strip(".,;:)(*")


@lru_cache(maxsize=65536)
def symbol_key(s: str | None) -> str:
    """The symbol as compared: upper case, Đ -> D, leading zeros of the number dropped."""
    s = clean_symbol(s).upper().replace("Đ", "D")
    return re.sub(r"^0+(?=\d)", "", s)


@lru_cache(maxsize=65536)
def _symbol_match(s: str | None) -> Optional[SymbolMatch]:
    """The citation stage's reading of a symbol that opens ``s`` (None when ``s`` opens with none)."""
    s = clean_symbol(s)
    for m in find_symbols(s):
        return m if m.start == 0 else None
    return None


def symbol_year(s: str | None) -> Optional[int]:
    """The year a symbol carries ("02/2021/NQ-HĐND" -> 2021), None for a yearless one ("127/KH-UBND")."""
    m = _symbol_match(s)
    return int(m.year) if m and m.year else None


def type_of_symbol(s: str | None) -> Optional[str]:
    """The document type its symbol tells ("02/2021/NQ-HĐND" -> "Nghị quyết"), None when unknown:
    the citation stage's typing of a symbol printed without a type word."""
    m = _symbol_match(s)
    got = read_type(clean_symbol(s), m, 0) if m else None
    return got[1] if got else None


# ------------------------------------------------------------------ dates

_NUMERIC_DATE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\b")
_WORDS_DATE = re.compile(r"\bngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})\b", re.I)
_MONTH_DATE = re.compile(r"\btháng\s+(\d{1,2})\s*(?:/|\s+năm\s+)(\d{4})\b", re.I)
_QUARTER = re.compile(r"\bquý\s+(I{1,3}|IV|[1-4])\s*[/]\s*(\d{4})\b", re.I)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


def _iso(y: int, m: int, d: int) -> Optional[str]:
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_date(text: str | None) -> Optional[str]:
    """The first full date in ``text`` ("06/10/2021", "ngày 06 tháng 10 năm 2021") as ISO, else None."""
    if not text:
        return None
    hits = [m for m in (_NUMERIC_DATE.search(text), _WORDS_DATE.search(text)) if m]
    if not hits:
        return None
    m = min(hits, key=lambda x: x.start())
    return _iso(int(m.group(3)), int(m.group(2)), int(m.group(1)))


def parse_period_end(text: str | None) -> Optional[str]:
    """The last day of a month or quarter named in ``text`` ("Tháng 9/2025", "Quý IV/2026"),
    or of a full date; None when it names none."""
    if not text:
        return None
    d = parse_date(text)
    if d:
        return d
    m = _MONTH_DATE.search(text)
    if m:
        y, mo = int(m.group(2)), int(m.group(1))
        if 1 <= mo <= 12:
            nxt = _dt.date(y + (mo == 12), mo % 12 + 1, 1)
            return (nxt - _dt.timedelta(days=1)).isoformat()
    m = _QUARTER.search(text)
    if m:
        q = _ROMAN.get(m.group(1).upper()) or int(m.group(1))
        return _iso(int(m.group(2)), q * 3, 31 if q in (1, 4) else 30)
    return None


def date_prefix_agrees(a: str | None, b: str | None) -> Optional[bool]:
    """True/False when both dates are known (a partial date agrees with any date it prefixes); None otherwise."""
    if not a or not b:
        return None
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def to_date(s: str | None) -> Optional[_dt.date]:
    """ISO date (or partial "2021-08", "2021": the LAST day it may mean) as a date."""
    if not s:
        return None
    parts = s.split("-")
    try:
        y = int(parts[0])
        if len(parts) == 1:
            return _dt.date(y, 12, 31)
        m = int(parts[1])
        if len(parts) == 2:
            return _dt.date(y + (m == 12), m % 12 + 1, 1) - _dt.timedelta(days=1)
        return _dt.date(y, m, int(parts[2]))
    except (ValueError, IndexError):
        return None


# ------------------------------------------------------------------ provinces

@lru_cache(maxsize=None)
def _province_names() -> tuple[tuple[str, str], ...]:
    """(folded name, display name) of every province-level name, old and current, longest first."""
    names: dict[str, str] = {}
    for row in load_tsv("reorg_2025.tsv"):
        kind, old = row[0], row[1]
        if kind == "province":
            disp = re.sub(r"^(tỉnh|thành phố)\s+", "", old, flags=re.I)
            names[fold(disp)] = disp
            succ = re.sub(r"^(tỉnh|thành phố)\s+", "", row[2], flags=re.I)
            names[fold(succ)] = succ
        elif kind in ("province_kept", "central_city"):
            for n in old.split("|"):
                names[fold(n)] = n
    return tuple(sorted(names.items(), key=lambda kv: -len(kv[0])))


@lru_cache(maxsize=None)
def _province_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(r"\b(?:tỉnh|thành phố)\s+" + re.escape(k) + r"\b"), d) for k, d in _province_names())


@lru_cache(maxsize=16384)
def province_in(name: str | None) -> Optional[str]:
    """The province (old or current name) a body's or a sentence's name mentions after
    "tỉnh"/"thành phố", e.g. "Hội đồng nhân dân tỉnh Kiên Giang" -> "Kiên Giang"."""
    if not name:
        return None
    f = fold(name)
    for pat, disp in _province_patterns():
        if pat.search(f):
            return disp
    return None


@lru_cache(maxsize=None)
def _any_province() -> re.Pattern:
    # no name is a word-prefix of another, so one alternation finds each mention exactly once
    names = "|".join(re.escape(k) for k, _ in _province_names())
    return re.compile(r"\b(?:tỉnh|thành phố)\s+(" + names + r")\b")


def provinces_in(text: str) -> list[str]:
    """Every province ``text`` names after "tỉnh"/"thành phố", in the order written, each once."""
    disp = dict(_province_names())
    out: list[str] = []
    for m in _any_province().finditer(fold(text)):
        if disp[m.group(1)] not in out:
            out.append(disp[m.group(1)])
    return out


# ------------------------------------------------------------------ document type from the ký hiệu

_STATE_CODE = re.compile(r"^\d+[a-zA-Z]?(?:/\d{4})?/([A-ZĐa-z]+)(?:-|$)")


@lru_cache(maxsize=None)
def _type_codes() -> dict[str, str]:
    """Folded type code -> document type (kehoach/data/legal_type_codes.tsv)."""
    return {clean_symbol(code).upper(): typ for typ, code, *_ in load_tsv("legal_type_codes.tsv")}


@lru_cache(maxsize=65536)
def type_from_symbol(s: str | None) -> Optional[str]:
    """The type the ký hiệu's type code names ("59/2012/NĐ-CP" -> "Nghị định", "12/KH-UBND" -> "Kế hoạch"),
    for the state-document shape number[/year]/CODE-ISSUER only: a party symbol ("30-QĐ/TU") uses its
    own abbreviations, and a symbol without a type code ("31/2024/QH15", "4423/UBND-KT") tells none."""
    m = _STATE_CODE.match(clean_symbol(s))
    return _type_codes().get(m.group(1).upper()) if m else None


def type_from_words(text: str | None, symbol: str | None) -> Optional[str]:
    """The type word printed nearest before the symbol in the citation's words ("Luật Đất đai số
    31/2024/QH15" -> "Luật"; "... pháp luật theo quy định tại Công văn số 12/UBND-KT" -> "Công văn"), with
    the citation stage's vocabulary (kehoach/data/doc_types.tsv); None when no type word is printed."""
    from kehoach.extract.citations import fold as cfold, tables
    num = re.match(r"\d+", clean_symbol(symbol) or "")
    if not text or not num:
        return None
    f = cfold(unicodedata.normalize("NFC", text))
    at = next((m.start() for m in re.finditer(r"(?<!\d)" + num.group(0) + r"\b", f)), None)
    if at is None:
        return None
    t = tables()
    best = None
    for form, typ in t.type_by_form.items():
        if form in t.generic_forms:
            continue
        for m in re.finditer(r"(?<!\w)" + r"\s+".join(map(re.escape, form.split())) + r"(?!\w)", f[:at]):
            key = (m.end(), m.end() - m.start())
            if best is None or key > best[0]:
                best = (key, typ)
    return best[1] if best else None


def doc_type(symbol: str | None, cited: str | None, words: str | None = None) -> Optional[str]:
    """The document's type: the ký hiệu's type code first (it is printed on the document itself), then the
    type word printed nearest before the symbol in the citation's ``words``, then the type the citation
    stage gave, then what the symbol's issuer code implies. A type word read elsewhere in the sentence
    ("... thi hành pháp luật theo quy định tại Nghị định số 59/2012/NĐ-CP") can never make a Nghị định a Luật."""
    return type_from_symbol(symbol) or type_from_words(words, symbol) or cited or type_of_symbol(symbol)


def cited_start(text: str | None, symbol: str | None, typ: str | None) -> int:
    """Where the citation's own words start in ``text`` (the printed citation): at the last ``typ`` word
    before the symbol, when one follows other words ("luật theo đúng quy định tại Nghị định số
    59/2012/NĐ-CP": the words before "Nghị định" are another clause's); else 0."""
    if not text or not typ:
        return 0
    t = normalize_tones(unicodedata.normalize("NFC", text))
    if len(t) != len(text):
        return 0
    num = re.match(r"\d+", clean_symbol(symbol) or "")
    at = next((m.start() for m in re.finditer(r"(?<!\d)" + num.group(0) + r"\b", t)), len(t)) if num else len(t)
    word = r"\s+".join(re.escape(w) for w in normalize_tones(typ).split())
    starts = [m.start() for m in re.finditer(r"(?<!\w)" + word + r"(?!\w)", t[:at], re.I)]
    return starts[-1] if starts else 0


def cited_words(text: str | None, symbol: str | None, typ: str | None) -> Optional[str]:
    """The printed citation from its own type word on (see ``cited_start``)."""
    i = cited_start(text, symbol, typ)
    return text[i:] if i else text


# ------------------------------------------------------------------ the 2025 province mergers

@dataclass(frozen=True)
class Merger:
    old: str            # "Bình Dương"
    new: str            # "Hồ Chí Minh"
    since: str          # ISO day the old province stopped existing
    source: str         # the act


@lru_cache(maxsize=None)
def _mergers() -> dict[str, Merger]:
    out = {}
    for row in load_tsv("reorg_2025.tsv"):
        if row[0] == "province":
            old = re.sub(r"^(tỉnh|thành phố)\s+", "", row[1], flags=re.I)
            new = re.sub(r"^(tỉnh|thành phố)\s+", "", row[2], flags=re.I)
            out[fold(old)] = Merger(old, new, row[3], row[4] if len(row) > 4 else "")
    return out


_UNIT = re.compile(r"^(?:tỉnh|thành phố)\s+")


def place_key(province: str | None) -> str:
    """A province name as compared: folded, without its unit word ("Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh"
    and "Hồ Chí Minh" are one key)."""
    return _UNIT.sub("", fold(province or ""))


def merger_of(province: str | None) -> Optional[Merger]:
    """How a pre-2025 province merged (``kehoach/data/reorg_2025.tsv``), None for one that was kept."""
    return _mergers().get(place_key(province)) if province else None


def place_relation(a: str | None, b: str | None, day: str | None = None) -> Optional[str]:
    """How two province names relate: "same"; "merged" when one merged into the other in 2025 (either way:
    "Bình Dương" and "Hồ Chí Minh"), unless ``day`` (the document's date) is after the merger, when the old
    province no longer issued anything; "conflict" otherwise; None when either is unknown. Two provinces
    merged into the same third one ("Bình Dương", "Bà Rịa - Vũng Tàu") stay distinct."""
    if not a or not b:
        return None
    if place_key(a) == place_key(b):
        return "same"
    for old, new in ((a, b), (b, a)):
        m = merger_of(old)
        if m is not None and place_key(m.new) == place_key(new):
            if day and day[:10] >= m.since:
                return "conflict"
            return "merged"
    return "conflict"
