"""Questions understood: a place, an owner or a deadline written in the query becomes a filter.

``understand("nhiệm vụ của Sở Y tế ở Đắk Lắk hạn tháng 12/2025")`` gives the retrieval text
that is left, the filters (province, owner, deadline range) and the notes shown to the user
("lọc: tỉnh Đắk Lắk"), so a filter the user did not mean can be seen and undone
(``--literal`` / ``literal=1``). Matching runs on the diacritic-folded query (``fold`` keeps
offsets), so "nhiem vu cua So Y te" is understood as well.

Shapes, in the order they are taken out of the query:
1. deadline: "hạn tháng 12/2025", "có hạn trong tháng 12 năm 2025", "hạn trước ngày 31/12/2025",
   "hạn năm 2025", "due in December 2025", "due by 31/12/2025";
2. place: "ở Hà Nội", "tại tỉnh Bắc Ninh", "Bắc Ninh", "in Hanoi" (provinces.tsv + search_places.tsv);
3. owner: "nhiệm vụ của Sở Y tế", "việc do Sở Tài chính chủ trì", "tasks of/for/owned by Sở Y tế",
   "tasks Sở Y tế owns" — only a name that starts with a body word (body_heads.tsv), so
   "2026 - 2030" or "Thời gian thực hiện" never become owners.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Optional

from kehoach.search.text import DATA, fold_keep_offsets, folded_tokens, is_boilerplate, read_tsv

MONTHS_EN = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS_EN.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})


@dataclass
class Understood:
    raw: str
    text: str                                   # what is left to search for ("" = only filters)
    province: Optional[str] = None
    owner: Optional[str] = None
    deadline_from: Optional[str] = None         # ISO
    deadline_to: Optional[str] = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- vocabulary

@lru_cache(maxsize=1)
def _places() -> list[tuple[str, str]]:
    """(folded spelling, province name), longest first."""
    out = []
    for line in (DATA / "provinces.tsv").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        name = cells[0].strip()
        out.append((" ".join(folded_tokens(name)), name))
        if len(cells) > 3:
            for a in cells[3].split("|"):
                if a.strip():
                    out.append((" ".join(folded_tokens(a)), name))
    for spelling, name in read_tsv(DATA / "search_places.tsv"):
        out.append((" ".join(folded_tokens(spelling)), name))
    out = [(k, n) for k, n in out if k]
    return sorted(set(out), key=lambda x: -len(x[0]))


@lru_cache(maxsize=1)
def _body_heads() -> list[str]:
    heads = [" ".join(folded_tokens(r[0])) for r in read_tsv(DATA / "body_heads.tsv", 1)]
    return sorted({h for h in heads if h}, key=len, reverse=True)


def is_body_name(name: str) -> bool:
    """A name that starts with a body word ("Sở", "Ủy ban nhân dân", "Công an") and is no form label."""
    key = " ".join(folded_tokens(name))
    if not key or is_boilerplate(name) or not re.search(r"[a-z]", key):
        return False
    return any(key == h or key.startswith(h + " ") for h in _body_heads())


# ---------------------------------------------------------------- shapes

_PREP = r"(?:o|tai|in|at|of|cua|thuoc)"
_UNIT = r"(?:tinh|thanh pho|tp\.?|province|city)"


def _cut(raw: str, folded: str, a: int, b: int) -> tuple[str, str]:
    return raw[:a] + " " * (b - a) + raw[b:], folded[:a] + " " * (b - a) + folded[b:]


def _month_range(y: int, m: int) -> tuple[str, str]:
    return f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


_DL_HEAD = r"(?:co\s+)?(?:thoi\s+han|han\s+chot|han|het\s+han|den\s+han|hoan\s+thanh|due|deadline)"
_DL_MONTH = re.compile(_DL_HEAD + r"\s+(?:(?:trong|vao|in|by|truoc)\s+)?(?:thang\s+)?(\d{1,2})\s*(?:/|-|\s+nam\s+)\s*(\d{4})\b")
_DL_DAY = re.compile(_DL_HEAD + r"\s+(?:(?:truoc|by|before|den|on|vao)\s+)?(?:ngay\s+)?(\d{1,2})/(\d{1,2})/(\d{4})\b")
_DL_MONTH_EN = re.compile(_DL_HEAD + r"\s+(?:(?:in|by|before)\s+)?(" + "|".join(sorted(MONTHS_EN, key=len, reverse=True))
                          + r")\.?,?\s+(\d{4})\b")
_DL_YEAR = re.compile(_DL_HEAD + r"\s+(?:(?:trong|in|by)\s+)?(?:nam\s+)?(\d{4})\b")


def _deadline(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    if m := _DL_DAY.search(folded):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
        if 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]:
            u.deadline_to = f"{y:04d}-{mo:02d}-{d:02d}"
            u.notes.append(f"hạn đến {d:02d}/{mo:02d}/{y}")
            return _cut(raw, folded, m.start(), m.end())
    if m := _DL_MONTH.search(folded):
        mo, y = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            u.deadline_from, u.deadline_to = _month_range(y, mo)
            u.notes.append(f"hạn tháng {mo}/{y}")
            return _cut(raw, folded, m.start(), m.end())
    if m := _DL_MONTH_EN.search(folded):
        mo, y = MONTHS_EN[m[1]], int(m[2])
        u.deadline_from, u.deadline_to = _month_range(y, mo)
        u.notes.append(f"hạn tháng {mo}/{y}")
        return _cut(raw, folded, m.start(), m.end())
    if m := _DL_YEAR.search(folded):
        y = int(m[1])
        if 1990 <= y <= 2100:
            u.deadline_from, u.deadline_to = f"{y}-01-01", f"{y}-12-31"
            u.notes.append(f"hạn năm {y}")
            return _cut(raw, folded, m.start(), m.end())
    return raw, folded


def _place(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    for key, name in _places():
        for m in re.finditer(r"(?<![a-z0-9])" + re.escape(key) + r"(?![a-z0-9])", folded):
            before = folded[:m.start()]
            pm = re.search(r"(?:(?<![a-z])" + _PREP + r"\s+)?(?:" + _UNIT + r"\s+)?$", before)
            lead = pm.group(0) if pm else ""
            # a one-word name ("Huế") only after a preposition or "tỉnh/thành phố"
            if " " not in key and not lead.strip():
                continue
            # inside a body's name ("Sở Y tế tỉnh Bắc Ninh") the place still scopes the plans
            u.province = name
            u.notes.append(f"tỉnh {name}")
            return _cut(raw, folded, m.start() - len(lead), m.end())
    return raw, folded


_STOP = r"(?=\s+(?:o|tai|in|at|han|co\s+han|due|trong|ve|about|nam|thuoc|chu\s+tri|phoi\s+hop|owns?|leads?)\b|\s*[?.,;]|\s*$)"
_OWNER_VI = re.compile(r"(?:cac\s+|nhung\s+)?(?:nhiem\s+vu|viec|cong\s+viec)\s+(?:cua|do|giao\s+cho|thuoc)\s+"
                       r"(?P<o>.+?)" + _STOP + r"(?:\s+(?:chu\s+tri|thuc\s+hien|phu\s+trach)\b)?")
_OWNER_EN = re.compile(r"(?:the\s+)?tasks?\s+(?:of|for|owned\s+by|led\s+by|assigned\s+to)\s+(?P<o>.+?)" + _STOP)
_OWNER_EN2 = re.compile(r"(?:the\s+)?tasks?\s+(?:that\s+)?(?P<o>.+?)\s+(?:owns?|leads?|is\s+responsible\s+for)\b")


def _owner(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    for rx in (_OWNER_VI, _OWNER_EN, _OWNER_EN2):
        m = rx.search(folded)
        if m:
            name = " ".join(raw[m.start("o"):m.end("o")].split())
            if is_body_name(name):
                u.owner = name
                u.notes.append(f"cơ quan {name}")
                return _cut(raw, folded, m.start(), m.end())
    return raw, folded


# words left at the edges once the filters are out ("nhiệm vụ", "kế hoạch về", "tasks")
_FILLER = {"nhiem", "vu", "cac", "nhung", "co", "ke", "hoach", "ve", "tasks", "task", "plans", "plan", "the",
           "about", "on", "list", "show", "all", "tat", "ca", "which", "what",
           "are", "is", "in", "of", "o", "tai", "cua", "due", "han", "trong", "nam", "thang", "nao", "gi"}


def _trim(text: str) -> str:
    words = text.split()
    f = lambda w: "".join(folded_tokens(w))
    while words and f(words[0]) in _FILLER:
        words.pop(0)
    while words and (f(words[-1]) in _FILLER or not f(words[-1])):
        words.pop()
    return " ".join(words).strip(" ,.;?")


def understand(query: str) -> Understood:
    """The filters written in ``query`` and the text left to search (see the module doc)."""
    import unicodedata
    raw = unicodedata.normalize("NFC", query or "")
    folded = fold_keep_offsets(raw)
    if len(folded) != len(raw):                 # offsets would not line up: take the query as it is
        return Understood(query, query)
    u = Understood(query, query)
    raw2, folded2 = _deadline(raw, folded, u)
    raw2, folded2 = _place(raw2, folded2, u)
    raw2, folded2 = _owner(raw2, folded2, u)
    if not u.notes:
        return u
    u.text = _trim(" ".join(raw2.split()))
    return u


def merged_filters(u: Understood, filters):
    """``filters`` (explicit ones win) completed with what ``u`` understood."""
    from kehoach.search.hybrid import Filters
    f = filters or Filters()
    return replace(f, province=f.province or u.province, owner=f.owner or u.owner,
                   deadline_after=f.deadline_after or u.deadline_from,
                   deadline_before=f.deadline_before or u.deadline_to)


def ask(index, query: str, *, limit: int = 10, filters=None, mode: str = "hybrid", literal: bool = False):
    """Search with the query's own filters; a query that is only filters lists the matching tasks.

    Returns a ``SearchResult`` whose ``understood`` holds the filters taken from the query."""
    from kehoach.search.hybrid import Hit, SearchResult, check_query
    from kehoach.search import tasks as T
    if literal:
        return index.search(query, limit=limit, filters=filters, mode=mode)
    u = understand(query)
    f = merged_filters(u, filters)
    if u.text and folded_tokens(u.text):
        res = index.search(u.text, limit=limit, filters=f, mode=mode)
        res.query = replace(res.query, raw=query)
    else:
        pq = check_query(query)
        mask = index.table.mask(f)
        docs = [d for i, d in enumerate(index.docs) if mask is None or mask[i]]
        if f.owner:                              # canonical body match (word boundary), not a substring
            docs = T.select(docs, T.TaskQuery(owner=f.owner))
        res = SearchResult(replace(pq, text=""), [Hit(d, 0.0) for d in docs[:limit]], "filters")
    res.understood = u.to_dict() if u.notes else None
    return res
