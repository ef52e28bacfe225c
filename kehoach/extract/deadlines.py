"""Deadlines of a task: "trước ngày 15/8/2021", "trong Quý III/2021", "Định kỳ hằng tháng ...
trước ngày 25 của tháng", a table's "Thời gian" cell ("Thường xuyên", "Năm 2024").

A small pipeline of pure stages over one task text:

1. ``mask``             -- emphasis marks ("**") become spaces so offsets stay put;
2. ``citation_spans``   -- dates inside citations ("... số 766/QĐ-TTg ngày 23 tháng 6 năm 2022")
                           are never deadlines (merged with the caller's ``exclude``);
3. ``scan``             -- every phrase that the data tables (``data/deadline_patterns.tsv``,
                           ``data/recurrence.tsv``) recognise, as ``Candidate`` records. The
                           patterns are matched case-sensitively, folded to lower case
                           (``fold_pattern``), against the lower-cased text: the same matches
                           as case-insensitive ones, but the regex engine can then skip ahead
                           to a literal prefix (2-4x faster on the triggers);
4. ``choose``           -- one deadline per task: completion dates (rank 0) beat recurrences
                           (rank 1), which beat a year time frame (rank 2); first one wins
                           within a rank; a recurrence word and its "trước ngày 25 của tháng"
                           are merged into one recurring deadline with a day.

When in doubt nothing is returned: a wrong deadline is worse than none.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Sequence

from kehoach.extract.data import fast_compile, needs_digit
from kehoach.models import Deadline

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# Macros of the pattern table. Kept here (not in the TSV) because they are the
# grammar of numbers, not vocabulary.
MACROS = {
    "{CUE}": r"(?P<cue>(?:(?:thời\s+gian|thời\s+hạn)\s+)?(?:hoàn\s+thành|thực\s+hiện\s+xong|xong)\s+"
             r"|thời\s+hạn\s+(?:là\s+)?|thời\s+gian\s+(?:là\s+)?)?",
    "{BY}": r"(?:trước|chậm\s+nhất(?:\s+là)?|muộn\s+nhất(?:\s+là)?|không\s+muộn\s+hơn|hạn\s+chót(?:\s+là)?"
            r"|đến\s+hết|(?<!tính\s)đến|trong)",
    "{D}": r"(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)",
    "{M}": r"(?P<m>1[0-2]|0?[1-9])(?!\d)",   # two digits first: "tháng 11" is not "tháng 1"
    "{Y}": r"(?P<y>(?:19|20)\d\d)(?!\d)",
    "{Q}": r"(?P<q>IV|I{1,3}|[1-4])\b",
    "{SEP}": r"\s*[/.\-]\s*",
}

RECURRENCES = ("continuous", "daily", "weekly", "monthly", "quarterly", "semiannual", "yearly")

# A date that follows a document symbol ("số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018") or a
# law's name ("Luật ... ngày 25/6/2015") belongs to a citation.
_DATE_TAIL = r"ngày\s+(?:\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{4}|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4})"
_CITATION = re.compile(
    r"(?:số\s*)?\d+(?:\s*[/\-]\s*[\w.Đđ&]+)*[/\-][\w.Đđ&\-]*[^\W\d_][\w.Đđ&\-/]*\s*,?\s*" + _DATE_TAIL
    + r"|\b(?:Bộ\s+luật|Luật|Pháp\s+lệnh|Hiến\s+pháp)\b[^;:.]{0,120}?" + _DATE_TAIL,
    re.IGNORECASE,
)
_SPACE_RUN = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.;](?=\s|$)|\n")
_WORD = re.compile(r"\w+")
_LIST_MARKER = re.compile(r"^\s*(?:[-+•–—]|\(?\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ][)/])?\s*", re.IGNORECASE)
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


# --------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Rule:
    family: str
    kind: str
    value: str          # recurrence for recur kinds, "first"/"second" for halves, else "-"
    rank: int
    mode: str           # any | cell | first | lead
    regex: re.Pattern                      # case-insensitive, on the text as written
    not_after: Optional[re.Pattern] = None
    trigger: Optional[re.Pattern] = None   # fast path: the row is tried only when this occurs
    folded: Optional[re.Pattern] = None    # ``regex`` folded to lower case, on the lower-cased text
    folded_trigger: Optional[re.Pattern] = None


@dataclass(frozen=True)
class Candidate:
    """One deadline phrase found in a text: ``text`` is as printed (emphasis marks dropped)."""
    start: int
    end: int
    text: str
    rank: int
    family: str
    date: Optional[str] = None
    recurrence: Optional[str] = None
    day: Optional[int] = None

    def deadline(self) -> Deadline:
        return Deadline(text=self.text, date=self.date, recurrence=self.recurrence, day=self.day)


# --------------------------------------------------------------------------- data tables

def _trigger(t: str) -> Optional[re.Pattern]:
    return None if t == "-" else re.compile(t, re.IGNORECASE)


def fold_pattern(pattern: str) -> str:
    """A regex that, matched case-sensitively on ``text.lower()``, finds what ``pattern``
    finds case-insensitively on ``text``: its literal letters lower-cased, escapes (``\\S``,
    ``\\W``, ``\\D``) and the ``(?P<name>`` syntax kept."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i:i + 2])
            i += 2
        elif pattern.startswith("(?P", i):
            out.append("(?P")
            i += 3
        else:
            out.append(pattern[i].lower())
            i += 1
    return "".join(out)


def _folded(pattern: str) -> re.Pattern:
    return fast_compile(fold_pattern(pattern))


def _with_folded(rule: Rule) -> Rule:
    return replace(rule, folded=_folded(rule.regex.pattern),
                   folded_trigger=_folded(rule.trigger.pattern) if rule.trigger is not None else None)


def _expand(pattern: str) -> str:
    for k, v in MACROS.items():
        pattern = pattern.replace(k, v)
    return pattern


def _rows(name: str) -> list[list[str]]:
    rows = []
    for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rows.append(line.split("\t"))
    return rows[1:]  # header row


@lru_cache(maxsize=1)
def deadline_rules() -> tuple[list[Rule], Optional[re.Pattern]]:
    """The fixed-date / recurring-day rules and the name guard of ``deadline_patterns.tsv``."""
    rules, guard = [], None
    for family, kind, value, rank, mode, trigger, pattern in _rows("deadline_patterns.tsv"):
        if kind == "guard":
            guard = re.compile(r"(?:" + pattern + r")", re.IGNORECASE)
            continue
        if kind == "time_header":
            continue
        rules.append(_with_folded(Rule(family, kind, value, int(rank), mode,
                                       re.compile(_expand(pattern), re.IGNORECASE), trigger=_trigger(trigger))))
    return rules, guard


@lru_cache(maxsize=1)
def recurrence_rules() -> tuple[list[Rule], Optional[re.Pattern], Optional[re.Pattern]]:
    """Recurrence words, the list tail ("hàng quý, 6 tháng và báo cáo năm") and the lead breakers."""
    rules, tail, breakers = [], None, None
    for pattern, recurrence, mode, not_after, trigger in _rows("recurrence.tsv"):
        if mode == "list_tail":
            tail = re.compile(pattern, re.IGNORECASE)
            continue
        if mode == "lead_break":
            breakers = re.compile(r"\b(?:" + pattern + r")\b", re.IGNORECASE)
            continue
        na = None if not_after == "-" else re.compile(r"\b(?:" + not_after + r")\s*$", re.IGNORECASE)
        rules.append(_with_folded(Rule("recurring", "recur", recurrence, 1, mode, re.compile(pattern, re.IGNORECASE),
                                       na, _trigger(trigger))))
    return rules, tail, breakers


@lru_cache(maxsize=1)
def time_header_pattern() -> re.Pattern:
    """The header of a table column whose cells are deadlines ("Thời gian", "Thời hạn", "Tiến độ")."""
    rows = [p for _f, kind, _v, _r, _m, _t, p in _rows("deadline_patterns.tsv") if kind == "time_header"]
    return re.compile("|".join(f"(?:{p})" for p in rows) or r"(?!)", re.IGNORECASE)


# --------------------------------------------------------------------------- stages

def mask(text: str) -> str:
    """Emphasis marks of converted documents ("**", "*") become spaces; offsets are kept."""
    return text.replace("*", " ")


_CITATION_FOLDED = _folded(_CITATION.pattern)
_CITATION_DATE = re.compile(r"ngày\s+\d")   # in every citation match (its date): a cheap test first


def citation_spans(text: str, lowered: Optional[str] = None) -> list[tuple[int, int]]:
    """Spans of "số X/Y ngày <date>" and "Luật ... ngày <date>": their dates are not deadlines.
    ``lowered``: ``text.lower()`` when the caller has it (same length), for the fast path."""
    if lowered is not None:
        if not _CITATION_DATE.search(lowered):
            return []
        return [m.span() for m in _CITATION_FOLDED.finditer(lowered)]
    return [m.span() for m in _CITATION.finditer(text)]


def clean_phrase(s: str) -> str:
    s = _SPACE_RUN.sub(" ", s.replace("*", " ")).strip(" ,;.:")
    if s.startswith("(") and ")" not in s:
        s = s[1:].strip()
    if s.endswith(")") and "(" not in s:
        s = s[:-1].strip()
    return s


def _overlaps(a: int, b: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a < e and s < b for s, e in spans)


def _last_day(y: int, m: int) -> str:
    return date(y, m, calendar.monthrange(y, m)[1]).isoformat()


def _relative_date(m: re.Match, plan_date: Optional[str]) -> Optional[str]:
    """"trong 100 ngày kể từ ngày ban hành": the plan's date + N days (calendar days only)."""
    if not plan_date or len(plan_date) != 10 or m.groupdict().get("work"):
        return None
    try:
        return date.fromordinal(date.fromisoformat(plan_date).toordinal() + int(m.group("n"))).isoformat()
    except ValueError:
        return None


def _resolve_date(rule: Rule, m: re.Match, plan_year: Optional[int]) -> Optional[str]:
    """The ISO date a fixed-date match means, or None when it cannot be known."""
    g = m.groupdict()
    y = int(g["y"]) if g.get("y") else plan_year
    if y is None:
        return None
    kind = rule.kind
    try:
        if kind in ("date", "date_noyear"):
            return date(y, int(g["m"]), int(g["d"])).isoformat()
        if kind in ("month", "month_noyear"):
            return _last_day(y, int(g["m"]))
        if kind == "month_before":
            mm = int(g["m"]) - 1
            return _last_day(y - 1, 12) if mm == 0 else _last_day(y, mm)
        if kind in ("quarter", "quarter_noyear", "quarter_before"):
            q = _QUARTERS[g["q"].lower()] - (1 if kind == "quarter_before" else 0)
            return _last_day(y - 1, 12) if q == 0 else _last_day(y, 3 * q)
        if kind == "half":
            return f"{y}-06-30" if rule.value == "first" else f"{y}-12-31"
        if kind == "year":
            return f"{y}-12-31"
    except ValueError:  # 31/6, 30/2 ...
        return None
    return None


def _plausible_year(y: Optional[int], plan_year: Optional[int], frame: bool) -> bool:
    """A deadline lies at or after the plan (a time frame) or at most a year before it (late plans)."""
    if y is None or plan_year is None:
        return True
    low = plan_year if frame else plan_year - 1
    return low <= y <= plan_year + 15


def _first_clause_end(s: str) -> int:
    m = _SENTENCE_END.search(s)
    return m.start() if m else len(s)


_BARE_START = {"quý", "năm", "trong", "suốt", "cả", "tháng", "6", "06", "sáu"}


def _guarded(rule_guard: Optional[re.Pattern], s: str, m: re.Match) -> bool:
    """A cue-less "năm 2021" / "quý III/2021" right after a name word ("Chỉ số ... năm 2020")."""
    if rule_guard is None or (m.groupdict().get("cue") or "").strip():
        return False
    first = _WORD.search(m.group(0))
    if not first or first.group(0).lower() not in _BARE_START:
        return False
    return bool(rule_guard.search(s[max(0, m.start() - 40):m.start()]))


def _qualifies_task(s: str, pos: int, breakers: Optional[re.Pattern]) -> bool:
    """A "thường xuyên" qualifies the whole task when it opens the first sentence, maybe after an
    owner label ("Sở Nội vụ: ...") or a short subject ("Các đơn vị thường xuyên ...")."""
    if pos > _first_clause_end(s):
        return False
    prefix = s[:pos]
    if ":" in prefix:
        prefix = prefix[prefix.rindex(":") + 1:]
    prefix = _LIST_MARKER.sub("", prefix, count=1)
    if "(" in prefix or len(_WORD.findall(prefix)) > 8:
        return False
    return not (breakers and breakers.search(prefix))


_Groups = tuple[tuple[Optional[Rule], tuple[Rule, ...]], ...]


def _by_trigger(rules: Iterable[Rule]) -> _Groups:
    """Consecutive rules that share a trigger, as (a rule holding the trigger or None, rules)."""
    out: list[tuple[Optional[Rule], list[Rule]]] = []
    for r in rules:
        key = r.trigger.pattern if r.trigger is not None else None
        if out and (out[-1][0].trigger.pattern if out[-1][0] is not None else None) == key:
            out[-1][1].append(r)
        else:
            out.append((r if key is not None else None, [r]))
    return tuple((t, tuple(rs)) for t, rs in out)


@lru_cache(maxsize=2)
def _scan_rules(cell: bool) -> tuple[_Groups, _Groups]:
    """The deadline and recurrence rules that apply to a task text (``cell`` False: no
    cell-only rows) or to a table time cell, in table order, grouped by trigger."""
    def keep(r: Rule) -> bool:
        return cell or r.mode != "cell"
    return _by_trigger(filter(keep, deadline_rules()[0])), _by_trigger(filter(keep, recurrence_rules()[0]))


_Plan = tuple[tuple[re.Pattern, ...], tuple[re.Pattern, ...], tuple[tuple[int, tuple[Rule, ...]], ...],
              tuple[tuple[int, tuple[Rule, ...]], ...]]
_DIGIT = re.compile(r"\d")


def _digit_bound(rx: re.Pattern, folded: Optional[re.Pattern]) -> bool:
    """Does every match of the pattern (as written and folded) need a digit in the text?"""
    return needs_digit(rx.pattern, rx.flags) and (folded is None or needs_digit(folded.pattern))


@lru_cache(maxsize=4)
def _scan_plan(cell: bool, digits: bool) -> _Plan:
    """``_scan_rules`` with each distinct trigger once: (the triggers folded, the triggers as written,
    deadline groups, recurrence groups), a group as (its trigger's number, or -1 for none; its rules).
    For a text with no digit (``digits`` False: three task texts in four) the triggers and rules that
    need one ("ngày 15", "tháng 6", "2 lần/năm") are left out: they cannot match it."""
    def kept(gs: _Groups) -> _Groups:
        if digits:
            return gs
        out = []
        for h, rs in gs:
            if h is not None and _digit_bound(h.trigger, h.folded_trigger):
                continue
            rs = tuple(r for r in rs if not _digit_bound(r.regex, r.folded))
            if rs:
                out.append((h, rs))
        return tuple(out)
    groups, rgroups = (kept(g) for g in _scan_rules(cell))
    holders: dict[str, Rule] = {}
    for holder, _rules in groups + rgroups:
        if holder is not None:
            holders.setdefault(holder.trigger.pattern, holder)
    number = {p: k for k, p in enumerate(holders)}

    def numbered(gs: _Groups) -> tuple[tuple[int, tuple[Rule, ...]], ...]:
        return tuple((number[h.trigger.pattern] if h is not None else -1, rs) for h, rs in gs)
    return (tuple(h.folded_trigger for h in holders.values()), tuple(h.trigger for h in holders.values()),
            numbered(groups), numbered(rgroups))


def scan(text: str, plan_year: Optional[int] = None, exclude: Sequence[tuple[int, int]] = (),
         cell: bool = False, plan_date: Optional[str] = None) -> list[Candidate]:
    """Every deadline phrase in ``text`` (overlaps resolved, longest first), in text order."""
    s = mask(text)
    if cell:
        s = _SPACE_RUN.sub(" ", s)  # a cell's own line breaks; same length, offsets kept
    low = s.lower()
    folded = len(low) == len(s)     # lower() keeps offsets (all but "İ"): the folded patterns apply
    src = low if folded else s
    blocked = list(exclude) + citation_spans(s, low if folded else None)
    _rules, guard = deadline_rules()
    _rrules, tail, breakers = recurrence_rules()
    on = low if folded else s
    folded_triggers, triggers, groups, rgroups = _scan_plan(cell, _DIGIT.search(on) is not None)
    stripped = src.strip()
    lead = len(s) - len(s.lstrip())
    found: list[Candidate] = []
    # each distinct trigger searched once; a group's rules are tried when its trigger occurs
    fired = [rx.search(on) is not None for rx in (folded_triggers if folded else triggers)]
    rules = [r for k, group in groups if k < 0 or fired[k] for r in group]
    rrules = [r for k, group in rgroups if k < 0 or fired[k] for r in group]
    for rule in rules:
        target = stripped if rule.mode == "cell" else src
        offset = lead if rule.mode == "cell" else 0
        limit = _first_clause_end(s) if (rule.mode == "first" and not cell) else len(s)
        for m in (rule.folded if folded else rule.regex).finditer(target):
            a, b = m.start() + offset, m.end() + offset
            if b > limit + 1 or _overlaps(a, b, blocked):
                continue
            if not cell and _guarded(guard, s, m):
                continue
            g = m.groupdict()
            y = int(g["y"]) if g.get("y") else None
            if not _plausible_year(y, plan_year, frame=rule.rank == 2):
                continue
            if rule.kind in ("recur_day", "recur_date"):
                day = int(g["d"]) if rule.kind == "recur_day" else None
                found.append(Candidate(a, b, clean_phrase(text[a:b]), rule.rank, rule.family,
                                       recurrence=rule.value, day=day))
                continue
            if rule.kind in ("open", "relative"):
                # "xong trước Tết Nguyên đán", "định kỳ": the text is kept, no date; "100 ngày kể từ ngày ban hành": from the plan's date
                iso = _relative_date(m, plan_date) if rule.kind == "relative" else None
                found.append(Candidate(a, b, clean_phrase(text[a:b]), rule.rank, rule.family, date=iso))
                continue
            iso = _resolve_date(rule, m, plan_year)
            if iso:
                found.append(Candidate(a, b, clean_phrase(text[a:b]), rule.rank, rule.family, date=iso))

    for rule in rrules:
        target = stripped if rule.mode == "cell" else src
        offset = lead if rule.mode == "cell" else 0
        for m in (rule.folded if folded else rule.regex).finditer(target):
            a, b = m.start() + offset, m.end() + offset
            if _overlaps(a, b, blocked):
                continue
            if rule.not_after and rule.not_after.search(s[max(0, a - 30):a]):
                continue
            if rule.mode == "lead" and not cell and not _qualifies_task(s, a, breakers):
                continue
            if tail is not None and rule.value != "continuous":  # "Thường xuyên, định kỳ hằng quý" is quarterly
                t = tail.match(s, b)
                if t and t.end() > b:
                    b = t.end()
            found.append(Candidate(a, b, clean_phrase(text[a:b]), 1, "recurring", recurrence=rule.value))

    return _drop_overlaps(found)


def _drop_overlaps(cands: list[Candidate]) -> list[Candidate]:
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (-(c.end - c.start), c.start)):
        if not _overlaps(c.start, c.end, [(k.start, k.end) for k in kept]):
            kept.append(c)
    return sorted(kept, key=lambda c: c.start)


def merge_recurring(cands: list[Candidate]) -> list[Candidate]:
    """"Định kỳ hằng tháng ... trước ngày 25 của tháng": a recurrence word and a later day of the
    same period become one candidate (text "A ... B") that keeps the day."""
    out = list(cands)
    words = [c for c in cands if c.recurrence and c.day is None and c.family == "recurring"]
    days = [c for c in cands if c.recurrence and c.day is not None]
    for w in words:
        d = next((d for d in days if d.recurrence == w.recurrence and d.start > w.end), None)
        if d is None:
            continue
        merged = replace(w, end=d.end, text=f"{w.text} ... {d.text}", day=d.day)
        out = [c for c in out if c is not w and c is not d] + [merged]
        days.remove(d)
    return sorted(out, key=lambda c: c.start)


_THEN = re.compile(r"^\s*(?:,|;|và)?\s*$")


def specific_recurrence(cands: list[Candidate], text: str) -> list[Candidate]:
    """"Thường xuyên, định kỳ hằng quý ...": a continuous word followed at once by a period
    becomes that period (one candidate over both phrases)."""
    out = list(cands)
    for c in cands:
        if c.recurrence != "continuous":
            continue
        nxt = next((d for d in cands if d.start >= c.end and d.recurrence and d.recurrence != "continuous"
                    and _THEN.match(text[c.end:d.start])), None)
        if nxt is not None and c in out and nxt in out:
            merged = replace(c, end=nxt.end, text=clean_phrase(text[c.start:nxt.end]), recurrence=nxt.recurrence,
                             day=nxt.day)
            out = [x for x in out if x is not c and x is not nxt] + [merged]
    return sorted(out, key=lambda c: c.start)


def choose(cands: list[Candidate]) -> Optional[Candidate]:
    """Rank first (completion date < recurrence < year frame < a vague "định kỳ"), then the first in the text."""
    if not cands:
        return None
    return min(cands, key=lambda c: (c.rank, c.start))


# --------------------------------------------------------------------------- public API

def parse_deadline(text: str, plan_year: int | None, exclude: Sequence[tuple[int, int]] = (),
                   cell: bool = False, plan_date: Optional[str] = None) -> Deadline | None:
    """The one deadline a task states, or None.

    ``exclude``: spans (relative to ``text``) of citations found by the caller; matches that
    overlap them are skipped. ``cell=True``: ``text`` is a table "Thời gian/Thời hạn/Tiến độ"
    cell, where a bare "Thường xuyên", "Năm 2024", "Quý II/2025", "Tháng 6/2025", "2025" is a deadline.
    """
    if not text or not text.strip():
        return None
    best = choose(specific_recurrence(merge_recurring(scan(text, plan_year, exclude, cell, plan_date)), mask(text)))
    return best.deadline() if best else None


_HEADER_YEAR = re.compile(r"\bnăm\s+(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE)


def deadline_from_header(header: str, plan_year: int | None = None) -> Deadline | None:
    """The deadline an indicator column header gives its rows: "Chỉ tiêu năm 2024" -> năm 2024,
    2024-12-31. A header with a range ("giai đoạn 2021-2025") or several years gives None."""
    if not header:
        return None
    years = _HEADER_YEAR.findall(header)
    if len(set(years)) != 1 or re.search(r"\d{4}\s*[-–—]\s*\d{4}", header):
        return None
    m = _HEADER_YEAR.search(header)
    y = int(m.group("y"))
    if not _plausible_year(y, plan_year, frame=False):
        return None
    return Deadline(text=f"năm {y}", date=f"{y}-12-31")


def time_column(header: Sequence[str]) -> Optional[int]:
    """Index of the "Thời gian/Thời hạn/Tiến độ" column of a table header, or None."""
    rx = time_header_pattern()
    return next((i for i, h in enumerate(header) if rx.search(" ".join((h or "").split()))), None)


def deadline_from_row(cells: Sequence[str], header: Sequence[str], plan_year: int | None) -> Deadline | None:
    """The deadline a table row gives: its time cell, else a year in the header of its value
    column ("Chỉ tiêu năm 2024"). None when the row says nothing about time."""
    i = time_column(header)
    if i is not None and i < len(cells) and cells[i] and cells[i].strip():
        got = parse_deadline(cells[i], plan_year, cell=True)
        if got:
            return got
    from kehoach.extract.targets import indicator_columns  # same stage; targets never imports deadlines
    cols = indicator_columns(header)
    if cols is not None:
        return deadline_from_header(header[cols.value] or "", plan_year)
    return None
