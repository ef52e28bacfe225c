"""Rules that need no registry.

- Period rule: a cited plan or programme for one year ("năm 2024") or one period
  ("giai đoạn 2021-2025") has run its course after it. Its scope is read from a title:
  the cited document's own title when it is in the corpus, else the citation's title
  (``LegalRef.title`` or the "về ..." words right after the citation). The scope ends at the end
  of the latest year named (never early); an open scope ("và các năm tiếp theo") has no end.
  Reported as ``period_ended``, never as expired. Table: kehoach/data/legal_periods.tsv.
- Reorganisation rule: bodies that no longer exist after the 2025 reorganisation (merged
  departments and provinces, the district level), with their successor where it is certain.
  Table: kehoach/data/reorg_2025.tsv (each row cites its act).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from kehoach.corpus.legal.symbols import fold, load_tsv

TITLE_MAX = 400       # characters of the words after a citation read as its title


# ------------------------------------------------------------------ period rule

@lru_cache(maxsize=None)
def _periods() -> dict[str, list[re.Pattern]]:
    out: dict[str, list[re.Pattern]] = {}
    for kind, pat in load_tsv("legal_periods.tsv"):
        out.setdefault(kind, []).append(re.compile(pat if kind != "type" else r"^(?:" + pat + r")$", re.I))
    return out


_DATES = re.compile(r"\bngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}|\btháng\s+\d{1,2}\s+năm\s+\d{4}"
                    r"|\b\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|\b\d+[a-zA-Z]?/\d{4}/[\w\-Đđ/]+", re.I)
_TITLE_START = re.compile(r"^[\s,*(]*(?:của\s+[^,;()]{0,80}?\s+)?(về việc|về|ban hành|triển khai|thực hiện)\b", re.I)
_TITLE_END = re.compile(r"\(\W*(?:sau đây|gọi tắt|viết tắt)|\bsau đây\b|;|\.\s|\n", re.I)


def is_period_type(doc_type: Optional[str]) -> bool:
    return bool(doc_type) and any(p.match(doc_type.strip()) for p in _periods().get("type", ()))


def period_end(title: Optional[str]) -> Optional[_dt.date]:
    """The last day of the time scope a title names, None when it names none or an open one."""
    if not title:
        return None
    t = _DATES.sub(" ", title)
    p = _periods()
    if any(x.search(t) for x in p.get("open", ())):
        return None
    years = []
    for kind in ("year", "range", "until"):
        for pat in p.get(kind, ()):
            for m in pat.finditer(t):
                years.extend(int(g) for g in m.groups() if g)
    years = [y for y in years if 1945 <= y <= 2200]
    return _dt.date(max(years), 12, 31) if years else None


def title_after(text: str, end: int) -> Optional[str]:
    """The "về ..." title written right after a citation that ends at ``end``, cut at "(sau đây",
    ";" or the sentence's end (never at a comma or a bracket: a shortened title could end the scope early)."""
    seg = text[end:end + TITLE_MAX]
    m = _TITLE_START.match(seg)
    if not m:
        return None
    rest = seg[m.start(1):]
    cut = _TITLE_END.search(rest)
    return rest[:cut.start()].strip() if cut else rest.strip()


# ------------------------------------------------------------------ reorganisation rule

@dataclass(frozen=True)
class BodyFate:
    name: str                      # the body as the plan names it
    successor: Optional[str]       # None: no certain successor
    since: str                     # ISO day it stopped existing
    source: str                    # the act the row comes from
    note: str


@lru_cache(maxsize=None)
def _reorg():
    deps, provs, dists, units = [], [], [], []
    central = [fold(r[1]) for r in load_tsv("reorg_2025.tsv") if r[0] == "central_city"]
    for kind, old, succ, since, source, note in (r + ("",) * (6 - len(r)) for r in load_tsv("reorg_2025.tsv")):
        if kind == "department":
            pats = [re.escape(fold(n)) for n in old.split("|")]
            deps.append((re.compile(r"(?:^|\b)(?:" + "|".join(pats) + r")\b"), succ, since, source, note))
        elif kind == "province":
            provs.append((re.compile(r"\b" + re.escape(fold(old)) + r"\b"), old, succ, since, source, note))
        elif kind == "district_level":
            pat = old.replace("{central}", "(?:" + "|".join(re.escape(c) for c in central) + r")\b")
            dists.append((re.compile(pat, re.I), since, source, note))
        elif kind == "district_unit":
            units.append((re.compile(old, re.I), note))
    return deps, provs, dists, units


def district_fate(name: Optional[str], as_of: _dt.date) -> Optional[BodyFate]:
    """``name``'s fate when it is a district-level body abolished on ``as_of`` (no successor named)."""
    if not name:
        return None
    f = fold(name)
    for pat, since, source, note in _reorg()[2]:
        if pat.search(f) and as_of >= _dt.date.fromisoformat(since):
            return BodyFate(name, None, since, source, note)
    return None


def unit_fate(name: str, issuer: Optional[str], as_of: _dt.date) -> Optional[BodyFate]:
    """A plan issued by a district-level body that no longer exists names its own units without their
    level ("Phòng Nội vụ", "Văn phòng HĐND và UBND thành phố", "các ban, ngành thành phố"): they went
    with it (reorg_2025.tsv, kind district_unit)."""
    gone = district_fate(issuer, as_of)
    if gone is None:
        return None
    f = fold(name)
    for pat, note in _reorg()[3]:
        if pat.search(f):
            return BodyFate(name, None, gone.since, gone.source, f"{note} of {issuer}")
    return None


@lru_cache(maxsize=65536)
def body_fate(name: str, as_of: _dt.date) -> Optional[BodyFate]:
    """How ``name`` fared in the 2025 reorganisation when, on ``as_of``, it no longer exists."""
    f = fold(name)
    deps, provs, dists, _ = _reorg()
    for pat, since, source, note in dists:
        if pat.search(f) and as_of >= _dt.date.fromisoformat(since):
            return BodyFate(name, None, since, source, note)
    fate = None
    new = name
    sources, notes, days = [], [], []
    for pat, succ, since, source, note in deps:
        if pat.search(f) and as_of >= _dt.date.fromisoformat(since):
            m = re.search(r"^(.*?)(\s+(?:tỉnh|thành phố)\s+.*)?$", name)
            new = succ + (m.group(2) or "" if m else "")
            sources.append(source), notes.append(note), days.append(since)
            fate = True
            break
    for pat, old, succ, since, source, note in provs:
        if pat.search(fold(new)) and as_of >= _dt.date.fromisoformat(since):
            loose = r"[\s\-–—,]+".join(re.escape(w) for w in re.split(r"[\s\-–—]+", old))
            new = re.sub(loose, succ, new, flags=re.I)
            if fold(old) in fold(new):       # written differently: say the province only
                new = None
            sources.append(source), notes.append(note), days.append(since)
            fate = True
            break
    if not fate:
        return None
    return BodyFate(name, new, max(days), "; ".join(sources), "; ".join(notes))
