"""Indicator targets: the value cell of an indicator table row ("Tối thiểu 80", "≥ 90%", "100",
"80-90%", "01 bộ", "83,81") and, conservatively, percentages inside a body sentence
("năm 2021 đạt tỷ lệ trên 60% số lượng hồ sơ ...").

Stages (pure functions): ``find_number`` -> ``comparator_of`` (words before/after the number,
from ``data/target_vocab.tsv``) -> ``unit_of`` -> ``Target``. A range keeps its low bound with
">=" (the SPEC record has no upper bound).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

from kehoach.models import Target

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# Vietnamese numbers: "1.000" (thousands), "83,81" (decimal comma), "0.5" (decimal point).
_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?(?!\d)|\d+(?:[.,]\d+)?"
NUMBER = re.compile(r"(?<![\d/])(?P<n>" + _NUM + r")(?![\d/])")
RANGE = re.compile(r"(?P<lo>" + _NUM + r")\s*%?\s*(?:[-–—÷]|đến)\s*(?P<hi>" + _NUM + r")")
_HEADER_YEAR = re.compile(r"\b(?:năm\s+)?(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE)
_NO_VALUE = re.compile(r"^\s*(?:-+|x|không|chưa\s+giao|n/?a)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Vocab:
    before: list[tuple[re.Pattern, str]]
    after: list[tuple[re.Pattern, str]]
    cue: re.Pattern
    change: re.Pattern
    percent: re.Pattern
    unit: re.Pattern
    metric_header: re.Pattern
    unit_header: re.Pattern
    value_header: re.Pattern


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    rows: dict[str, list[tuple[str, str]]] = {}
    lines = [x for x in (DATA_DIR / "target_vocab.tsv").read_text(encoding="utf-8").splitlines()
             if x.strip() and not x.startswith("#")]
    for line in lines[1:]:
        kind, pattern, value = line.split("\t")
        rows.setdefault(kind, []).append((pattern, value))

    def alt(kind: str) -> str:
        return "|".join(p for p, _ in rows.get(kind, []))

    return Vocab(
        before=[(re.compile(r"(?:^|(?<=[\s(]))(?:" + p + r")(?=\s|\d|$)", re.IGNORECASE), v)
                for p, v in rows.get("before", [])],
        after=[(re.compile(r"^\s*(?:" + p + r")\b", re.IGNORECASE), v) for p, v in rows.get("after", [])],
        cue=re.compile(r"\b(?:" + alt("cue") + r")\b", re.IGNORECASE),
        change=re.compile(r"\b(?:" + alt("change") + r")\b", re.IGNORECASE),
        percent=re.compile(r"^\s*(?:" + "|".join(p for p, v in rows.get("unit", []) if v == "%") + r")", re.IGNORECASE),
        unit=re.compile(r"^\s*(?P<u>" + "|".join(p for p, v in rows.get("unit", []) if v != "%") + r")\b",
                        re.IGNORECASE),
        metric_header=re.compile(alt("metric_header") or r"(?!)", re.IGNORECASE),
        unit_header=re.compile(alt("unit_header") or r"(?!)", re.IGNORECASE),
        value_header=re.compile(alt("value_header") or r"(?!)", re.IGNORECASE),
    )


# --------------------------------------------------------------------------- stages

def to_number(s: str) -> float | int:
    """"1.000" -> 1000, "83,81" -> 83.81, "80" -> 80 (ints stay ints, as in the gold records)."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", s):
        s = s.replace(".", "")
    v = float(s.replace(",", "."))
    return int(v) if v.is_integer() else v


def comparator_of(before: str, after: str, ranged: bool) -> str:
    """The comparator the words around a number give; a bare number is "="."""
    voc = vocab()
    for rx, value in voc.after:
        if rx.match(after):
            return value
    if ranged:
        return ">="
    best: Optional[tuple[int, int, str]] = None
    for rx, value in voc.before:
        for m in rx.finditer(before):
            key = (m.end(), m.end() - m.start())
            if best is None or key > best[:2]:
                best = (key[0], key[1], value)
    # only a comparator that reaches the number counts ("Tối thiểu 80", not "Trên Cổng ... 80")
    if best and not before[best[0]:].strip():
        return best[2]
    return "="


def unit_of(after: str, unit: Optional[str]) -> Optional[str]:
    """The unit column wins ("%", "Hồ sơ"); else "%" or a unit word right after the number."""
    if unit and unit.strip():
        u = re.sub(r"\s+", " ", unit).strip()
        if re.search(r"%|phần\s+trăm", u, re.IGNORECASE):
            return "%"
        return re.sub(r"^\((.*)\)$", r"\1", u)
    voc = vocab()
    if voc.percent.match(after):
        return "%"
    m = voc.unit.match(after)
    return re.sub(r"\s+", " ", m.group("u")) if m else None


def parse_target(metric: str, value_text: str, unit: str | None, year: int | None) -> Target | None:
    """One indicator row's target cell -> Target, or None when the cell holds no number.

    >>> parse_target("Tỷ lệ hồ sơ trực tuyến", "Tối thiểu 50", "%", 2024)
    Target(metric='Tỷ lệ hồ sơ trực tuyến', comparator='>=', value=50, unit='%', year=2024)
    """
    if value_text is None or _NO_VALUE.match(value_text):
        return None
    text = re.sub(r"\s+", " ", value_text.replace("*", " ")).strip()
    rng = RANGE.search(text)
    m = NUMBER.search(text)
    if not m:
        return None
    start, end = (rng.start(), rng.end()) if rng and rng.start() == m.start() else (m.start(), m.end())
    value = to_number(rng.group("lo") if rng and rng.start() == m.start() else m.group("n"))
    after = text[end:]
    comparator = comparator_of(text[:start], vocab().percent.sub("", after, count=1), ranged=bool(rng and rng.start() == m.start()))
    return Target(metric=re.sub(r"\s+", " ", metric or "").strip(), comparator=comparator, value=value,
                  unit=unit_of(after.lstrip(), unit), year=year)


def year_from_header(header: str) -> int | None:
    """"Chỉ tiêu năm 2024" -> 2024; a header with several years (a range) -> None."""
    years = {int(y) for y in _HEADER_YEAR.findall(header or "")}
    return years.pop() if len(years) == 1 else None


@dataclass(frozen=True)
class IndicatorColumns:
    metric: int
    value: int
    unit: Optional[int]
    year: Optional[int]


def indicator_columns(header: Sequence[str]) -> IndicatorColumns | None:
    """Where the metric, unit and target value sit in an indicator table's header, or None when
    the table is not an indicator table ("STT | Chỉ tiêu | Đơn vị | Chỉ tiêu năm 2024 | ...")."""
    voc = vocab()
    hs = [" ".join((h or "").split()) for h in header]
    value = next((i for i, h in enumerate(hs) if voc.value_header.search(h)), None)
    metric = next((i for i, h in enumerate(hs) if i != value and voc.metric_header.search(h)), None)
    if value is None or metric is None:
        return None
    unit = next((i for i, h in enumerate(hs) if i not in (value, metric) and voc.unit_header.search(h)), None)
    return IndicatorColumns(metric, value, unit, year_from_header(hs[value]))


def target_from_row(cells: Sequence[str], header: Sequence[str], plan_year: int | None,
                    metric: str | None = None) -> Target | None:
    """The target of one indicator table row (``metric`` overrides the metric cell, e.g. for a
    sub-row "6.1. Đối với ..." whose full name the caller built from its parent)."""
    cols = indicator_columns(header)
    if cols is None or cols.value >= len(cells):
        return None
    name = metric if metric is not None else (cells[cols.metric] if cols.metric < len(cells) else "")
    unit = cells[cols.unit] if cols.unit is not None and cols.unit < len(cells) else None
    return parse_target(name, cells[cols.value], unit, cols.year or plan_year)


# --------------------------------------------------------------------------- targets in sentences

_PERCENT = re.compile(
    r"(?P<num>" + _NUM + r")(?:\s*%\s*(?:[-–—÷]|đến)\s*(?P<hi>" + _NUM + r"))?\s*%(?P<after>\s*trở\s+(?:lên|xuống))?"
    r"\s+(?P<metric>[^,;.:()\[\]]+)")
_CLAUSE = re.compile(r"[,;.:()](?=\s|$)|\btrong\s+đó\b")
_STOP_METRIC = re.compile(r"\s+(?:trong\s+đó|và\s+(?=\d)|tại\s+(?:Bản|Kế\s+hoạch|Quyết\s+định|Nghị)|theo\s+quy\s+định).*$",
                          re.IGNORECASE)
_YEAR_IN = re.compile(r"\bnăm\s+(?P<y>(?:19|20)\d\d)\b(?!\s*[-–—]\s*\d)", re.IGNORECASE)


def target_from_text(text: str, year: int | None) -> list[Target]:
    """Percentage targets stated in a body sentence (conservative: a cue word such as "đạt",
    "phấn đấu", "tối thiểu", "trên" must come shortly before, and a rate of change is skipped)."""
    voc = vocab()
    out: list[Target] = []
    s = (text or "").replace("*", " ")
    for m in _PERCENT.finditer(s):
        clause_start = max((c.end() for c in _CLAUSE.finditer(s, 0, m.start())), default=0)
        window = s[max(clause_start, m.start() - 60):m.start()]
        words = window.split()
        near = " ".join(words[-5:])
        if not voc.cue.search(near) or voc.change.search(" ".join(words[-3:])):
            continue
        # "đạt tỷ lệ trên 60%": the comparator sits in the last words before the number
        comparator = comparator_of(near + " ", m.group("after") or "", ranged=bool(m.group("hi")))
        metric = _STOP_METRIC.sub("", m.group("metric")).strip()
        metric = re.sub(r"\s+(?:và|hoặc)\s+\S.*\d\s*%.*$", "", metric)  # a second target in the same clause
        words_m = metric.split()
        if len(words_m) < 2:
            continue
        metric = " ".join(words_m[:20])
        if re.search(r"\btỷ\s+lệ\b", near, re.IGNORECASE):
            metric = "tỷ lệ " + metric
        y = year
        ym = list(_YEAR_IN.finditer(s, clause_start, m.start()))
        if ym:
            y = int(ym[-1].group("y"))
        out.append(Target(metric=metric, comparator=comparator, value=to_number(m.group("num")), unit="%", year=y))
    return out
