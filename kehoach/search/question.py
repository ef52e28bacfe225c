"""Questions understood: a place, an owner, a deadline or a document kind written in the query becomes a
filter shown to the user.

``understand("nhiệm vụ của Sở Y tế ở Đắk Lắk hạn tháng 12/2025")`` gives the retrieval text that is
left, the filters (province, owner, deadline range, kind, overdue) and the notes shown to the user
("lọc: tỉnh Đắk Lắk"), so a filter the user did not mean can be seen and undone (``--literal`` /
``literal=1``). Matching runs on the diacritic-folded query (``fold`` keeps offsets), so
"nhiem vu cua So Y te" is understood as well. The words are data: kehoach/data/question_phrases.tsv
(deadline, owner and kind words), provinces.tsv + search_places.tsv (places).

Shapes, in the order they are taken out of the query:
1. deadline: "hạn tháng 12/2025", "có hạn trong tháng 12 năm 2025", "quý IV/2025", "trong năm 2026",
   "hạn trước ngày 31/12/2025", "due in December 2025", "due by 31/12/2025", "before 31/12/2025",
   "tháng này", "quý sau", "this year", "next month" (counted from today);
   "quá hạn" / "overdue" (the deadline has passed, as of today), "sắp đến hạn" / "due soon" (within 30 days);
2. place: "ở Hà Nội", "tại tỉnh Bắc Ninh", "Bắc Ninh", "in Hanoi", "Ho Chi Minh City", "Ca Mau province":
   any of the 63 pre-2025 provinces and the 34 after the 2025 mergers, with or without diacritics. A
   pre-2025 name also matches the province it merged into, and a merged province the ones merged into it
   ("Trà Vinh" <-> "Vĩnh Long");
3. owner: "nhiệm vụ của Sở Y tế", "việc do Sở Tài chính chủ trì", "do Sở Y tế thực hiện",
   "Sở Y tế chủ trì", "tasks of/owned by Sở Y tế", "Sở Y tế owns/leads", "which tasks does Sở Y tế own" —
   only a name that starts with a body word (body_heads.tsv), so "2026 - 2030" or "Thời gian thực hiện"
   never become owners; "chủ trì"/"leads" keeps the lead role, "phối hợp" the support role;
4. kind: "kế hoạch", "quyết định", "chỉ thị", "công văn", "plans", "directives" ... when it is the kind
   of document asked for: opening the question and followed by "về", "nào", "ở", "about", "in", ... or
   by nothing ("các chỉ thị về cải cách hành chính"), never "kế hoạch 2026 - 2030" or "xây dựng kế hoạch".
"""
from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Optional

from kehoach.search.text import DATA, fold_keep_offsets, folded_tokens, is_boilerplate, read_tsv

MONTHS_EN = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS_EN.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass
class Understood:
    raw: str
    text: str                                   # what is left to search for ("" = only filters)
    province: Optional[str] = None
    owner: Optional[str] = None
    deadline_from: Optional[str] = None         # ISO
    deadline_to: Optional[str] = None
    notes: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)   # province plus the ones merged with it in 2025
    role: Optional[str] = None                  # "lead" | "support" | None (either)
    kind: Optional[str] = None                  # document kind asked for ("Kế hoạch", "Chỉ thị", ...)
    status: Optional[str] = None                # "overdue" | "due_soon" (as of the day asked)
    as_of: Optional[str] = None                 # ISO day a status is counted from ("tính đến ngày 15/4/2026")
    empty: Optional[str] = None                 # said plainly when no task passes the filters

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- vocabulary

def _key(s: str) -> str:
    return " ".join(folded_tokens(s))


@lru_cache(maxsize=1)
def _values() -> dict[tuple[str, str], str]:
    """(role, phrase) -> the table's third column, when it has one."""
    return {(r[0], r[1]): r[2] for r in read_tsv(DATA / "question_phrases.tsv", 3)}


@lru_cache(maxsize=1)
def _phrases() -> dict[str, list[tuple[str, str]]]:
    """role -> [(folded phrase, value)], longest first (kehoach/data/question_phrases.tsv)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for row in read_tsv(DATA / "question_phrases.tsv", 2):
        role, phrase = row[0], row[1]
        value = _values().get((role, phrase), "")
        if _key(phrase):
            out.setdefault(role, []).append((_key(phrase), value))
    return {r: sorted(v, key=lambda x: -len(x[0])) for r, v in out.items()}


@lru_cache(maxsize=None)
def _alt(role: str) -> str:
    """A regex alternation of the role's phrases (folded; spaces match any run of spaces)."""
    if not _phrases().get(role):
        raise KeyError(f"kehoach/data/question_phrases.tsv: no phrase for {role!r}")
    return "(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p, _ in _phrases().get(role, [])) + ")"


def _value(role: str, folded: str) -> str:
    k = _key(folded)
    return next((v for p, v in _phrases().get(role, []) if p == k), "")


@lru_cache(maxsize=1)
def _provinces() -> tuple[list[tuple[str, str]], dict[str, str], dict[str, str]]:
    """([(folded spelling, province name)] longest first, {province: the province it merged into in 2025},
    {province: its unit word, "tỉnh" or "thành phố"})."""
    out, merged, unit = [], {}, {}
    for line in (DATA / "provinces.tsv").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        name = cells[0]
        unit[name] = "thành phố" if len(cells) > 1 and cells[1] == "thanh_pho" else "tỉnh"
        out.append((_key(name), name))
        if len(cells) > 2 and cells[2]:
            merged[name] = cells[2]
        if len(cells) > 3:
            out.extend((_key(a), name) for a in cells[3].split("|") if a.strip())
    for spelling, name in read_tsv(DATA / "search_places.tsv"):
        out.append((_key(spelling), name))
    out = [(k, n) for k, n in out if k]
    return sorted(set(out), key=lambda x: -len(x[0])), merged, unit


def province_label(name: str) -> str:
    """"tỉnh Cà Mau", "thành phố Hồ Chí Minh"."""
    return f"{_provinces()[2].get(name, 'tỉnh')} {name}"


def _places() -> list[tuple[str, str]]:
    return _provinces()[0]


def related_provinces(name: str) -> list[str]:
    """``name`` and the provinces merged with it in 2025 (Nghị quyết 202/2025/QH15): the one it merged into,
    or the ones merged into it. "Trà Vinh" -> [Trà Vinh, Vĩnh Long]; "Vĩnh Long" -> [Vĩnh Long, Bến Tre, Trà Vinh]."""
    merged = _provinces()[1]
    out = [name]
    if merged.get(name):
        out.append(merged[name])
    out += sorted(old for old, new in merged.items() if new == name and old != name)
    return list(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _body_heads() -> list[str]:
    heads = [_key(r[0]) for r in read_tsv(DATA / "body_heads.tsv", 1)]
    return sorted({h for h in heads if h}, key=len, reverse=True)


@lru_cache(maxsize=1)
def _not_bodies() -> tuple[set[str], list[str]]:
    """(question words that look like a body: "sở nào", "cơ quan nào"; openings that are verbs: "báo cáo")."""
    asks = {_key(p) for p, intent in read_tsv(DATA / "search_question_words.tsv") if intent == "who"}
    verbs = sorted({_key(r[0]) for r in read_tsv(DATA / "question_not_bodies.tsv", 1)} - {""}, key=len, reverse=True)
    return asks, verbs


@lru_cache(maxsize=1)
def _raw_heads() -> list[str]:
    import unicodedata
    heads = [" ".join(unicodedata.normalize("NFC", r[0]).lower().split()) for r in read_tsv(DATA / "body_heads.tsv", 1)]
    return sorted({h for h in heads if h}, key=len, reverse=True)


def _typed_head_ok(name: str) -> bool:
    """A name typed with diacritics must open with a body word as spelled ("Mọi người dân", never the
    "mới" of "đổi mới cơ chế ..."); one typed without them is judged on its folded words alone."""
    import unicodedata
    low = " ".join(unicodedata.normalize("NFC", name).lower().split())
    if low == fold_keep_offsets(low):
        return True
    return any(low == h or low.startswith(h + " ") for h in _raw_heads())


def is_body_name(name: str) -> bool:
    """A name that starts with a body word ("Sở", "Ủy ban nhân dân", "Công an") and is no form label,
    no question word ("sở nào") and no verb that opens with a body word ("báo cáo", "ban hành")."""
    key = _key(name)
    if not key or is_boilerplate(name) or not re.search(r"[a-z]", key):
        return False
    asks, verbs = _not_bodies()
    if key in asks or key.split()[-1] in {"nao", "gi"} \
            or any(key == v or key.startswith(v + " ") for v in verbs):
        return False
    return any(key == h or key.startswith(h + " ") for h in _body_heads())


# ---------------------------------------------------------------- helpers

_PREP = r"(?:o|tai|in|at|of|cua|thuoc)"
_UNIT = r"(?:tinh|thanh pho|tp\.?|province|city)"
_W = r"(?<![a-z0-9])"           # a word starts
_E = r"(?![a-z0-9])"            # a word ends


def _cut(raw: str, folded: str, a: int, b: int) -> tuple[str, str]:
    return raw[:a] + " " * (b - a) + raw[b:], folded[:a] + " " * (b - a) + folded[b:]


def _month_range(y: int, m: int) -> tuple[str, str]:
    return f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


def _day(y: int, m: int, d: int) -> Optional[_dt.date]:
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


# ---------------------------------------------------------------- 1. deadline

@lru_cache(maxsize=1)
def _deadline_res() -> dict[str, re.Pattern]:
    due, bound = _alt("due"), "(?P<b>" + "|".join(_alt(r) for r in ("by", "before", "after", "in")) + ")"
    months = "|".join(sorted(MONTHS_EN, key=len, reverse=True))
    head = _W + r"(?:(?P<h>" + due + r")\s+)?(?:" + bound + r"\s+)?"
    end = r"(?![a-z0-9/])"          # not a symbol ("12/2025/NQ-CP")
    day = r"(?:ngay\s+)?(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})" + end
    month = (r"(?:(?P<mw>" + _alt("month") + r")\s+)?(?P<m>\d{1,2})\s*(?:/|-|\s+nam\s+)\s*(?P<y>\d{4})" + end)
    month_en = r"(?P<mn>" + months + r")\.?,?\s+(?P<y>\d{4})" + end
    quarter = _alt("quarter") + r"\s+(?P<q>iv|iii|ii|i|[1-4])\s*(?:/|-|\s+nam\s+|\s+of\s+|\s+)\s*(?P<y>\d{4})" + end
    quarter_en = r"q(?P<q>[1-4])\s*(?:/|-|\s+)\s*(?P<y>\d{4})" + end
    year = r"(?:(?P<yw>" + _alt("year") + r")\s+)?(?P<y>\d{4})" + end
    return {"day": re.compile(head + day), "quarter": re.compile(head + "(?:" + quarter + ")"),
            "quarter_en": re.compile(head + quarter_en), "month": re.compile(head + month),
            "month_en": re.compile(head + month_en), "year": re.compile(head + year),
            "overdue": re.compile(_W + _alt("overdue") + _E), "due_soon": re.compile(_W + _alt("due_soon") + _E),
            "relative": re.compile(head + "(?P<r>" + _alt("relative") + ")" + _E)}


def _relative(value: str, today: _dt.date) -> tuple[_dt.date, _dt.date, str]:
    """("month 1", today) -> the first and last day of next month, and how to say it."""
    unit, n = value.split()
    n = int(n)
    if unit == "month":
        y, m = divmod(today.year * 12 + today.month - 1 + n, 12)
        lo, hi = (_dt.date.fromisoformat(x) for x in _month_range(y, m + 1))
        return lo, hi, f"tháng {lo.month}/{lo.year}"
    if unit == "quarter":
        q0 = (today.month - 1) // 3 + n
        y, q = today.year + q0 // 4, q0 % 4 + 1
        return _dt.date(y, 3 * q - 2, 1), _dt.date(y, 3 * q, calendar.monthrange(y, 3 * q)[1]), \
            f"quý {['I', 'II', 'III', 'IV'][q - 1]}/{y}"
    return _dt.date(today.year + n, 1, 1), _dt.date(today.year + n, 12, 31), f"năm {today.year + n}"


def _bound(m: re.Match) -> str:
    b = m.group("b")
    return next((r for r in ("by", "before", "after", "in") if b and re.fullmatch(_alt(r), b)), "in")


def _deadline(raw: str, folded: str, u: Understood, today: _dt.date) -> tuple[str, str]:
    res = _deadline_res()
    m = res["relative"].search(folded)
    value = _value("relative", m["r"]) if m else ""
    if m and value.startswith("year") and not (m.group("h") or m.group("b")):
        m = None                                 # "kế hoạch năm nay" is a plan's scope, as "năm 2025" is
    if m:
        lo, hi, said = _relative(value, today)
        bound = _bound(m)
        if bound in ("by", "before"):
            u.deadline_to = (hi if bound == "by" else lo - _dt.timedelta(days=1)).isoformat()
            u.notes.append(f"hạn {'đến hết' if bound == 'by' else 'trước'} {said}")
        elif bound == "after":
            u.deadline_from = (hi + _dt.timedelta(days=1)).isoformat()
            u.notes.append(f"hạn sau {said}")
        else:
            u.deadline_from, u.deadline_to = lo.isoformat(), hi.isoformat()
            u.notes.append(f"hạn {said}")
        return _cut(raw, folded, m.start(), m.end())
    for shape in ("day", "quarter", "quarter_en", "month", "month_en", "year"):
        for m in res[shape].finditer(folded):
            headed = bool(m.group("h")) or bool(m.group("b"))
            bound = _bound(m)
            y = int(m["y"])
            if not 1990 <= y <= 2100:
                continue
            if shape == "day":
                d = _day(y, int(m["m"]), int(m["d"]))
                if d is None or not headed:
                    continue
                lo, hi = d, d
            elif shape.startswith("quarter"):
                q = _ROMAN[m["q"]]
                lo, hi = _dt.date(y, 3 * q - 2, 1), _dt.date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
            elif shape.startswith("month"):
                mo = MONTHS_EN[m["mn"]] if shape == "month_en" else int(m["m"])
                if not 1 <= mo <= 12 or not (headed or (shape == "month" and m.group("mw"))):
                    continue
                lo, hi = (_dt.date.fromisoformat(x) for x in _month_range(y, mo))
            else:
                # a bare year is a plan's scope ("kế hoạch năm 2025"): a deadline only after "hạn" / "trong năm"
                if not m.group("h") and not (m.group("b") and (bound != "in" or m.group("yw"))):
                    continue
                lo, hi = _dt.date(y, 1, 1), _dt.date(y, 12, 31)
            if bound == "before" and shape != "day":      # "trước ngày 15/8" is the day itself, as deadlines say
                u.deadline_to = (lo - _dt.timedelta(days=1)).isoformat()
                u.notes.append(f"hạn trước {lo.strftime('%d/%m/%Y')}")
            elif bound in ("by", "before"):
                u.deadline_to = hi.isoformat()
                u.notes.append(f"hạn đến {hi.strftime('%d/%m/%Y')}")
            elif bound == "after":
                u.deadline_from = (hi + _dt.timedelta(days=1)).isoformat()
                u.notes.append(f"hạn sau {hi.strftime('%d/%m/%Y')}")
            else:
                u.deadline_from, u.deadline_to = lo.isoformat(), hi.isoformat()
                if shape == "day":
                    u.notes.append(f"hạn ngày {lo.strftime('%d/%m/%Y')}")
                elif shape.startswith("quarter"):
                    u.notes.append(f"hạn quý {['I', 'II', 'III', 'IV'][lo.month // 3]}/{y}")
                elif shape.startswith("month"):
                    u.notes.append(f"hạn tháng {lo.month}/{y}")
                else:
                    u.notes.append(f"hạn năm {y}")
            return _cut(raw, folded, m.start(), m.end())
    for status, said in (("overdue", "quá hạn"), ("due_soon", "sắp đến hạn")):
        m = res[status].search(folded)
        if m:
            u.status = status
            u.notes.append(said)
            return _cut(raw, folded, m.start(), m.end())
    return raw, folded


# ---------------------------------------------------------------- 0. as of

@lru_cache(maxsize=1)
def _as_of_re() -> re.Pattern:
    months = "|".join(sorted(MONTHS_EN, key=len, reverse=True))
    day = r"(?:ngay\s+)?(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})(?![a-z0-9/])"
    day_en = r"(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mn>" + months + r")\.?,?\s+(?P<y2>\d{4})(?![a-z0-9])"
    day_en2 = r"(?P<mn3>" + months + r")\.?\s+(?P<d3>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{4})(?![a-z0-9])"
    return re.compile(_W + _alt("as_of") + r"\s+(?:" + day + "|" + day_en + "|" + day_en2 + ")")


def _as_of(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    """"tính đến ngày 15/4/2026", "as of 1 July 2026", "as of July 1, 2026": the day "quá hạn" is counted from."""
    m = _as_of_re().search(folded)
    if not m:
        return raw, folded
    if m["d"]:
        d = _day(int(m["y"]), int(m["m"]), int(m["d"]))
    elif m["d2"]:
        d = _day(int(m["y2"]), MONTHS_EN[m["mn"]], int(m["d2"]))
    else:
        d = _day(int(m["y3"]), MONTHS_EN[m["mn3"]], int(m["d3"]))
    if d is None:
        return raw, folded
    u.as_of = d.isoformat()
    u.notes.append(f"tính đến ngày {d.strftime('%d/%m/%Y')}")
    return _cut(raw, folded, m.start(), m.end())


# ---------------------------------------------------------------- 2. place

def _place(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    for key, name in _places():
        for m in re.finditer(_W + r"[^a-z0-9]{1,3}".join(map(re.escape, key.split())) + _E, folded):
            before = folded[:m.start()]
            pm = re.search(r"(?:(?<![a-z])" + _PREP + r"\s+)?(?:" + _UNIT + r"\s+)?$", before)
            lead = pm.group(0) if pm else ""
            # a one-word name ("Huế") only after a preposition or "tỉnh/thành phố", or written as a
            # capitalised name of five letters or more ("Hanoi", "Saigon")
            if " " not in key and not lead.strip() and not (len(key) >= 5 and raw[m.start()].isupper()):
                continue
            tail = re.match(r"\s+(?:province|city)" + _E, folded[m.end():])
            end = m.end() + (tail.end() if tail else 0)
            # inside a body's name ("Sở Y tế tỉnh Bắc Ninh") the place still scopes the plans
            u.province = name
            u.provinces = related_provinces(name)
            u.notes.append(province_label(name))
            into = _provinces()[1].get(name)
            if into and into != name:
                u.notes.append(f"nay thuộc {province_label(into)}")
            olds = [p for p in u.provinces if p not in (name, into)]
            if olds:
                u.notes.append("gồm cả " + ", ".join(province_label(p) for p in olds) + " cũ")
            unit = re.search(_UNIT + r"\s*$", lead)
            # where the place was and its unit word as typed ("Thành phố"), for a body's name around it
            u._place_at = (m.start() - len(lead), raw[m.start() - len(lead) + unit.start():m.start() - len(lead) + unit.end()]
                           if unit else "")
            return _cut(raw, folded, m.start() - len(lead), end)
    return raw, folded


# ---------------------------------------------------------------- 3. owner

@lru_cache(maxsize=2)
def _owner_res(places: bool = True) -> list[re.Pattern]:
    """The owner shapes; ``places``: a name also ends before "ở/tại/in/at" (off for a second try, since a
    folded "tại" is also the "Tài" of "Sở Tài chính")."""
    stop = (r"(?=\s+(?:" + (r"o|tai|in|at|" if places else "") + r"han|co\s+han|due|trong|ve|about|nam|thuoc|quy|thang|truoc|before|by|"
            + _alt("lead")[3:-1] + "|" + _alt("support")[3:-1] + r")" + _E + r"|\s*[?.,;:]|\s*$)")
    task, prep = _alt("task"), _alt("prep")
    name = r"(?P<o>[a-z0-9][^?.,;:]*?)"
    # before a role verb with nothing to end it, a name never runs over "về", "cho", "với" ... (a task's words)
    short = r"(?P<o>[a-z0-9](?:(?!\s(?:ve|cho|voi|de|sau|trong|truoc|o|in|at|about)\s)[^?.,;:])*?)"
    return [
        # "nhiệm vụ của / do / giao cho X (chủ trì)", "tasks of / owned by X"
        re.compile(_W + r"(?:(?:cac|nhung|all|the)\s+)?" + task + r"\s+(?P<p>" + prep + r")\s+" + name + stop
                    + r"(?:\s+(?P<v>" + _alt("lead") + "|" + _alt("support") + r")" + _E + r")?"),
        # "do X chủ trì / thực hiện", "which tasks does X own", "X owns / leads", "X chủ trì", "X phối hợp"
        re.compile(_W + r"(?:(?:do|giao\s+cho)\s+)?" + r"(?:(?:which|what)\s+(?:" + task + r"\s+)?" + _alt("does")
                    + r"\s+)?" + short + r"\s+(?P<v>" + _alt("lead") + "|" + _alt("support") + r")" + _E),
        # "việc của X", "của X" at the start of what is left (no task word)
        re.compile(r"^\s*(?:" + task + r"\s+)?(?P<p>cua|of)\s+" + name + stop),
        # "what must X deliver", "what does X do", "which tasks should X carry out" (either role)
        re.compile(r"^\s*(?:what|which(?:\s+" + task + r")?)\s+" + _alt("does_what") + r"\s+" + short
                   + r"\s+" + _alt("what_verb") + _E),
        # "X phải làm gì", "X làm những việc gì", "X cần làm gì"
        re.compile(_W + short + r"\s+" + _alt("what_verb") + r"\s+(?:(?:nhung|cac)\s+)?(?:" + task + r"\s+)?(?:gi|nao)" + _E),
    ]


def _owner(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    starts = [m.start() for m in re.finditer(r"(?<![a-z0-9])[a-z0-9]", folded)]
    heads = set(_body_heads())
    for rx in _owner_res(True) + _owner_res(False):
        for m in filter(None, (rx.match(folded, i) for i in starts)):
            name = " ".join(raw[m.start("o"):m.end("o")].split())
            if not is_body_name(name) or _key(name) in heads or not _typed_head_ok(name):   # "Sở" alone names no body
                continue
            v = m.groupdict().get("v")
            p = m.groupdict().get("p")
            if v and re.fullmatch(_alt("support"), v):
                u.role = "support"
            elif (v and re.fullmatch(_alt("lead"), v) and not re.fullmatch(r"thuc\s+hien", v)) \
                    or (p and _value("prep", p) == "lead"):
                u.role = "lead"
            u.owner = name
            u.notes.append(f"cơ quan {name}" + {"lead": " (chủ trì)", "support": " (phối hợp)"}.get(u.role or "", ""))
            return _cut(raw, folded, m.start(), m.end())
    return _owner_before_place(raw, folded, u)


def _owner_before_place(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    """"nhiệm vụ của Công an Thành phố Hồ Chí Minh": the place was taken out of the body's name, leaving a
    bare head ("Công an"); the owner is the head with the place's unit word ("Công an Thành phố")."""
    at = getattr(u, "_place_at", None)
    if not at or not at[1].strip():
        return raw, folded
    start, unit_raw = at
    unit_raw = unit_raw.strip()
    m = re.search(r"(?:" + _alt("task") + r"\s+(?:" + _alt("prep") + r")\s+)?(?P<o>[a-z][a-z ]*?)\s*$", folded[:start])
    if not m:
        return raw, folded
    head = " ".join(m["o"].split())
    if head not in set(_body_heads()):
        return raw, folded
    name = " ".join(raw[m.start("o"):m.end("o")].split() + [unit_raw])
    if not is_body_name(name):
        return raw, folded
    u.owner = name
    u.notes.append(f"cơ quan {name}")
    return _cut(raw, folded, m.start(), m.end())


# ---------------------------------------------------------------- 4. kind

def _kind(raw: str, folded: str, u: Understood) -> tuple[str, str]:
    m = re.match(r"^\s*(?:" + _alt("kind_lead") + r"\s+)*(?P<k>" + _alt("kind") + r")" + _E
                 + r"(?=\s*$|\s*[?,.:]|\s+" + _alt("kind_after") + _E + ")", folded)
    if not m:
        return raw, folded
    u.kind = _value("kind", m["k"])
    u.notes.append(f"loại {u.kind}")
    return _cut(raw, folded, m.start("k"), m.end("k"))


# words left at the edges once the filters are out ("nhiệm vụ", "kế hoạch về", "tasks")
_FILLER = {"cac", "nhung", "co", "ve", "tasks", "task", "plans", "plan", "the",
           "about", "on", "list", "show", "all", "tat", "ca", "which", "what", "does", "do", "viec",
           "are", "is", "in", "of", "o", "tai", "cua", "due", "han", "trong", "nam", "thang", "nao", "gi",
           "find", "that", "for", "with"}


# two-word fillers, taken out only whole: the "vụ" of "công vụ" and the "hoạch" of "quy hoạch" stay
_FILLER_PAIRS = {("nhiem", "vu"), ("ke", "hoach"), ("cong", "viec")}


def _trim(text: str) -> str:
    words = text.split()
    f = lambda w: "".join(folded_tokens(w))
    while words:
        if f(words[0]) == "co" and len(words) > 1 and f(words[1]) == "quan":
            break                               # "cơ quan nào ...": the "cơ" of "cơ quan" is no "có"
        if f(words[0]) in _FILLER:
            words.pop(0)
        elif len(words) > 1 and (f(words[0]), f(words[1])) in _FILLER_PAIRS:
            del words[:2]
        else:
            break
    while words:
        if f(words[-1]) in _FILLER or not f(words[-1]):
            words.pop()
        elif len(words) > 1 and (f(words[-2]), f(words[-1])) in _FILLER_PAIRS:
            del words[-2:]
        else:
            break
    return " ".join(words).strip(" ,.;?")


def understand(query: str, today: Optional[_dt.date] = None, owners: bool = True) -> Understood:
    """The filters written in ``query`` and the text left to search (see the module doc); ``today``
    (default: the real day) is what "tháng này" / "this month" and "quá hạn" are counted from."""
    import unicodedata
    raw = unicodedata.normalize("NFC", query or "")
    folded = fold_keep_offsets(raw)
    if len(folded) != len(raw):                 # offsets would not line up: take the query as it is
        return Understood(query, query)
    u = Understood(query, query)
    raw2, folded2 = _as_of(raw, folded, u)
    raw2, folded2 = _deadline(raw2, folded2, u, today or _dt.date.today())
    raw2, folded2 = _place(raw2, folded2, u)
    if owners:              # a "who ...?" question asks for the owner: a body it names is context, no filter
        raw2, folded2 = _owner(raw2, folded2, u)
    raw2, folded2 = _kind(raw2, folded2, u)
    if not u.notes:
        return u
    u.text = _trim(" ".join(raw2.split()))
    return u


def _mask_bound(iso: Optional[str]) -> Optional[str]:
    """A lower bound for the index's string comparison of deadlines: the first of a month or a year as its
    prefix, so a deadline written as a month ("2025-12") is inside "from 2025-12-01"."""
    if not iso:
        return iso
    if iso.endswith("-01-01"):
        return iso[:4]
    return iso[:7] if iso.endswith("-01") else iso


def merged_filters(u: Understood, filters):
    """``filters`` (explicit ones win) completed with what ``u`` understood."""
    from kehoach.search.hybrid import Filters
    f = filters or Filters()
    return replace(f, province=f.province or u.province, owner=f.owner or u.owner,
                   deadline_after=f.deadline_after or _mask_bound(u.deadline_from),
                   deadline_before=f.deadline_before or u.deadline_to)


def _post(u: Understood, f, as_of: _dt.date):
    """What the index's filters cannot say: the owner's role, the kind (a Quyết định that issues a Kế hoạch
    is asked for as a Kế hoạch too), overdue as of ``as_of``, a province and the ones merged with it."""
    from kehoach.search import tasks as T
    provinces = u.provinces if u.province and f.province == u.province and len(u.provinces) > 1 else None
    checks = []
    if u.role and f.owner == u.owner:
        checks.append(lambda d: T.select([d], T.TaskQuery(owner=u.owner, role=u.role)))
    if u.kind:
        checks.append(lambda d: T.kind_matches(d.plan or {}, u.kind))
    if u.status:
        checks.append(lambda d: T.status_of(d.deadline, as_of) == u.status)
    if provinces:
        checks.append(lambda d: any(T.province_matches(d.plan or {}, p) for p in provinces))
    if not checks:
        return None, provinces
    return (lambda d: all(c(d) for c in checks)), provinces


EXTRA_WEIGHT = 1.0         # an extra retrieval text's lexical run, in the fused score (as one RRF list)
RESTORED_SHARE = 2 / 3     # the share of an unaccented query's words the corpus must know to restore around the rest


def restore_around(index, text: str) -> Optional[str]:
    """An unaccented query written back with diacritics from the corpus's words around the words the
    corpus never used: "So Noi vu chu tri gi" -> "Sở Nội vụ chủ trì gi" (the index restores a query
    only when it knows every word, so one unknown word, a typo or a name would leave it all folded).
    None when the query has diacritics, the index restores it whole, or fewer than ``RESTORED_SHARE``
    of its words are known (an English question stays as typed)."""
    from kehoach.search.text import has_diacritics, restore_diacritics
    lex = getattr(index, "lexical", None)
    if not text or lex is None or has_diacritics(text) or not hasattr(lex, "folded_words"):
        return None
    toks = folded_tokens(text)
    words = lex.folded_words()
    if len(toks) < 2 or restore_diacritics(toks, words) is not None:
        return None
    out, i, known = [], 0, 0
    while i < len(toks):
        for j in range(len(toks), i, -1):       # the longest run from i the corpus knows
            r = restore_diacritics(toks[i:j], words)
            if r is not None:
                out.append(r)
                known += j - i
                i = j
                break
        else:
            out.append(toks[i])                 # a word the corpus never used stays as typed
            i += 1
    if known < RESTORED_SHARE * len(toks):
        return None
    restored = " ".join(out)
    return restored if has_diacritics(restored) else None


def ask(index, query: str, *, limit: int = 10, filters=None, mode: str = "hybrid", literal: bool = False,
        as_of: Optional[_dt.date] = None, extra=None, owners: bool = True, corpus=None):
    """Search with the query's own filters; a query that is only filters lists the matching tasks.

    ``corpus`` (the corpus store the index was built from): a "which plans cite law L" question
    ("kế hoạch nào căn cứ Luật Đất đai", "plans citing 30/2020/NĐ-CP") is answered from its stored
    legal references, as a ``CitesResult``; without it such a question is searched as words.

    ``extra``: a function from the text left to search to more texts, or (text, weight) pairs (the domain
    words of ``kehoach.search.who.expansions``), each searched lexically with the same filters and fused
    into the hits as one more reciprocal-rank list of that weight (default ``EXTRA_WEIGHT``).
    Returns a ``SearchResult`` whose ``understood`` holds the filters taken from the query."""
    from kehoach.search.hybrid import MAX_LIMIT, Hit, SearchResult, check_query
    from kehoach.search import tasks as T
    if literal:
        return _searched_as(index.search(restore_around(index, query) or query, limit=limit, filters=filters,
                                         mode=mode), query)
    if corpus is not None:
        cites = cites_answer(corpus, query, limit)
        if cites is not None:
            return cites
    u = understand(query, as_of or _dt.date.today(), owners=owners)
    day = as_of or (_dt.date.fromisoformat(u.as_of) if u.as_of else _dt.date.today())
    f = merged_filters(u, filters)
    if u.status == "overdue" and not f.deadline_before:
        f = replace(f, deadline_before=(day - _dt.timedelta(days=1)).isoformat())
    if u.status == "due_soon" and not (f.deadline_before or f.deadline_after):
        f = replace(f, deadline_after=day.isoformat(),
                    deadline_before=(day + _dt.timedelta(days=T.DUE_SOON_DAYS)).isoformat())
    keep, provinces = _post(u, f, day)
    if u.text and folded_tokens(u.text):
        depth = limit if keep is None else MAX_LIMIT
        text = restore_around(index, u.text) or u.text
        runs = [index.search(text, limit=depth, filters=replace(f, province=p), mode=mode)
                for p in (provinces or [f.province])]
        res = runs[0]
        more = [t if isinstance(t, tuple) else (t, EXTRA_WEIGHT) for t in (extra(u.text) if extra else [])]
        more = [(t, w) for t, w in more if t and folded_tokens(t) and w > 0]
        if more:
            from kehoach.search.hybrid import RRF_K
            scores: dict = {}
            first: dict = {}
            for h in (h for r in runs for h in r.hits):
                scores[h.doc.key] = max(scores.get(h.doc.key, 0.0), h.score)
                first.setdefault(h.doc.key, h)
            for t, w in more:
                for p in (provinces or [f.province]):
                    r = index.search(t, limit=depth, filters=replace(f, province=p), mode="lexical")
                    for rank, h in enumerate(r.hits, 1):
                        scores[h.doc.key] = scores.get(h.doc.key, 0.0) + w / (RRF_K + rank)
                        first.setdefault(h.doc.key, h)
            for k, h in first.items():
                h.score = scores[k]
            runs = [replace(runs[0], hits=list(first.values()))]
        hits, seen = [], set()
        for h in sorted((h for r in runs for h in r.hits), key=lambda h: -h.score):
            if h.doc.key in seen or (keep is not None and not keep(h.doc)):
                continue
            seen.add(h.doc.key)
            hits.append(h)
        res.hits = hits[:limit]
        res.query = replace(res.query, raw=query, restored=res.query.restored or text != u.text)
    else:
        pq = check_query(query)
        docs = index.select(replace(f, province=None) if provinces else f)   # decodes only the selected records
        if f.owner:                              # canonical body match (word boundary), not a substring
            docs = T.select(docs, T.TaskQuery(owner=f.owner))
        if keep is not None:
            docs = [d for d in docs if keep(d)]
        res = SearchResult(replace(pq, text=""), [Hit(d, 0.0) for d in docs[:limit]], "filters")
    if not res.hits and u.notes and not _any_task(index, f, keep, provinces):
        # the filters alone match nothing: say so, rather than leave the user to guess (or widen them)
        u.empty = "không có nhiệm vụ nào khớp bộ lọc: " + "; ".join(u.notes)
        u.notes.append("không có nhiệm vụ nào khớp bộ lọc")
    res.understood = u.to_dict() if u.notes else None
    return res


def _searched_as(res, query: str):
    """``res`` as the answer to ``query`` (its retrieval text may be the query restored around unknown words)."""
    if res.query.raw != query:
        res.query = replace(res.query, raw=query, restored=True)
    return res


def _any_task(index, f, keep, provinces) -> bool:
    """Some task passes the filters ``f`` (and ``keep``, in one of ``provinces``), whatever its words."""
    from kehoach.search import tasks as T
    docs = index.select(replace(f, province=None) if provinces else f)
    if provinces:
        docs = [d for d in docs if any(T.province_matches(d.plan or {}, p) for p in provinces)]
    if f.owner:
        docs = T.select(docs, T.TaskQuery(owner=f.owner))
    return any(keep is None or keep(d) for d in docs)


# ---------------------------------------------------------------- "which plans cite law L"

_CITE_ASK = re.compile(r"\b(?:ke hoach|van ban|plans?|documents?)\b.*?\b(?:nao|which)?\s*"
                       r"(?:can cu|trich dan|dan chieu|cite[sd]?|citing|based on)\s+(?P<law>.+)$")
_LAW_HEAD = re.compile(r"^(?:luat|bo luat|nghi dinh|nghi quyet|quyet dinh|thong tu|chi thi|phap lenh|law)\b")
_CITE_SYMBOL = re.compile(r"\d+(?:/\d{4})?[/-][a-z0-9đ/-]+")


def _cited(question: str) -> Optional[tuple[str, str]]:
    """(the law folded, the law as the question writes it), or None (see ``cited_law``)."""
    import unicodedata
    raw = " ".join(unicodedata.normalize("NFC", question or "").strip(" ?").split())
    f = fold_keep_offsets(raw)
    m = _CITE_ASK.search(f)
    if not m:
        return None
    law = m.group("law").strip(" ?.,;:")
    if not (_LAW_HEAD.match(law) or _CITE_SYMBOL.search(law)):   # "kế hoạch căn cứ vào tình hình ..." is not one
        return None
    written = raw[m.start("law"):m.end("law")].strip(" ?.,;:") if len(f) == len(raw) else law
    return law, written


def cited_law(question: str) -> Optional[str]:
    """The law a "which plans cite L" question asks about, folded ("luat viec lam", "30/2020/nd-cp"),
    or None when the question is not of that shape."""
    c = _cited(question)
    return c[0] if c else None


@dataclass
class CitesResult:
    """The answer to "which plans cite law L": the plans whose stored legal references cite it, each
    with the references as evidence (``plans_citing``). Shaped as a ``SearchResult`` for its callers:
    ``hits`` is empty, ``mode`` is "cites", ``notes()`` says what was understood."""
    query: str
    law: str                                   # folded ("luat dat dai")
    written: str                               # as the question writes it ("Luật Đất đai")
    plans: list[dict]
    mode: str = "cites"
    hits: list = field(default_factory=list)

    @property
    def empty(self) -> str:
        return "" if self.plans else f"không có kế hoạch nào căn cứ {self.written}"

    @property
    def understood(self) -> dict:
        return {"raw": self.query, "cites": self.written, "notes": self.notes(), "empty": self.empty or None}

    def notes(self) -> list[str]:
        return [f"kế hoạch căn cứ {self.written}"]

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.mode, "cites": self.law, "cites_written": self.written,
                "plans": self.plans, "hits": [], "understood": self.understood,
                "notes": ["lọc: " + "; ".join(self.notes())]}


def cites_answer(corpus, question: str, limit: Optional[int] = None) -> Optional[CitesResult]:
    """``plans_citing`` as a result, its first ``limit`` plans (None when the question is not a
    "which plans cite L" one)."""
    c = _cited(question)
    if c is None:
        return None
    return CitesResult(question, c[0], c[1], (plans_citing(corpus, question) or [])[:limit])


def plans_citing(corpus, question: str) -> Optional[list[dict]]:
    """The plans of ``corpus`` whose stored legal references (``Corpus.refs``) cite the law the
    question names: by symbol ("30/2020/NĐ-CP") when it has one, else by the law's name inside the
    reference ("Luật Việc làm"). None when the question is not a "which plans cite L" one."""
    law = cited_law(question)
    if law is None:
        return None
    sym = _CITE_SYMBOL.search(law)
    name = " ".join(folded_tokens(law))
    out = []
    for p in corpus.plans():
        hits = []
        for r in corpus.refs(p.id):
            if sym:
                ok = fold_keep_offsets(r.get("symbol") or "").lower() == sym.group(0)
            else:
                ref = " ".join(folded_tokens((r.get("text") or "") + " " + (r.get("title") or "")))
                ok = bool(name) and re.search(r"(?:^| )" + re.escape(name) + r"(?: |$)", ref) is not None
            if ok:
                hits.append(r)
        if hits:
            out.append({"plan_id": p.id, "number": p.number, "type": p.type, "title": p.title,
                        "issuer": p.issuer, "date": p.date, "province": p.province, "refs": hits})
    return out


# ---------------------------------------------------------------- heading paths of tasks

HEADING_SEP = " › "


def heading_path(section: Optional[str], context: Optional[str]) -> str:
    """The headings a task sits under, outermost first, each with its number when the outline path
    ``section`` has one per heading: ("IV.1", "PHÂN CÔNG NHIỆM VỤ > Sở Công Thương") ->
    "IV. PHÂN CÔNG NHIỆM VỤ › 1. Sở Công Thương"; the headings alone when the counts differ (a
    heading without a number, a task numbered below its headings)."""
    heads = [h.strip() for h in (context or "").split(" > ") if h.strip()]
    nums = [n for n in (section or "").split(".") if n]
    if not heads:
        return ""
    if len(nums) == len(heads):
        heads = [h if re.match(re.escape(n) + r"[.)/:\s]", h) else f"{n}. {h}" for n, h in zip(nums, heads)]
    return HEADING_SEP.join(heads)


def extraction_headings(ex) -> dict[str, str]:
    """task id -> its heading path, for one ``Extraction``."""
    return {t.id: heading_path(t.section, getattr(t, "context", "")) for t in ex.tasks}


def heading_paths(corpus, plan_ids) -> dict[int, dict[str, str]]:
    """plan id -> {task id -> heading path}, from the stored extractions of ``corpus`` (the search
    index keeps the outline number of a task's section, not its headings' words)."""
    out = {}
    for pid in dict.fromkeys(int(p) for p in plan_ids):
        try:
            out[pid] = extraction_headings(corpus.extraction(pid))
        except Exception:               # a plan removed since the index was built: no headings
            out[pid] = {}
    return out


def add_headings(answer: dict, paths: dict[int, dict[str, str]]) -> dict:
    """``answer`` (a search or who result as a dict) with ``heading_path`` on every hit and evidence task."""
    def put(t: dict, pid) -> None:
        if pid is not None:
            t["heading_path"] = paths.get(int(pid), {}).get(t.get("task_id"), "")
    for h in answer.get("hits") or []:
        put(h, (h.get("plan") or {}).get("id"))
    for o in answer.get("owners") or []:
        for t in o.get("tasks") or []:
            put(t, t.get("plan_id"))
    return answer


def answer_plan_ids(answer: dict) -> list[int]:
    """The plans a search or who answer (as a dict) shows tasks of."""
    ids = [(h.get("plan") or {}).get("id") for h in answer.get("hits") or []]
    ids += [t.get("plan_id") for o in answer.get("owners") or [] for t in o.get("tasks") or []]
    return [int(i) for i in dict.fromkeys(ids) if i is not None]
