"""Registry of canonical bodies (cơ quan, đơn vị): one body per real organisation.

An owner string in a task ("UBND tỉnh", "Ủy ban nhân dân tỉnh Quảng Trị", "Phòng Nội vụ")
is resolved in the scope of its plan to a ``BodyRef`` whose ``key`` names the organisation:

1. ``clean``: NFC, one tone convention, spaces, trailing punctuation and parentheses;
2. ``expand``: abbreviations as whole words (the lead's ``abbreviations.tsv`` plus
   ``body_aliases.tsv`` mode ``word``), then name aliases (mode ``name``, a prefix);
3. ``kind_of``: the first matching pattern of ``body_kinds.tsv`` gives kind and scope rule;
4. ``split_place``: an explicit place at the end ("... tỉnh Quảng Trị", "... thành phố Trà Vinh")
   is cut off and becomes the body's province / locality;
5. scope: the level word in the name (tỉnh / thành phố / huyện / xã ...) or, without one, the
   kind's rule decides whether the body belongs to the province, to the plan's territory
   (a city or commune plan), to the issuing unit (a Phòng of a Sở), to the nation, or, for
   generic owners ("Các đơn vị"), to the plan alone.

"Sở Nội vụ" in a Quảng Trị plan and in a Tuyên Quang plan are two bodies; "UBND tỉnh" in a
Quảng Trị plan and "Ủy ban nhân dân tỉnh Quảng Trị" anywhere are one.
All functions are pure; the tables load once.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from kehoach.extract.header import is_central
from kehoach.ingest.normalize import clean_inline

DATA = Path(__file__).resolve().parent.parent / "data"

# administrative level words, longest first; "xã hội" is not a level
_LEVELS = ("thành phố", "thị xã", "thị trấn", "đặc khu", "tỉnh", "huyện", "quận", "phường", "xã")
LOCAL_LEVELS = frozenset(_LEVELS) - {"tỉnh"}
_LEVEL_WORD = re.compile(r"(?<!\w)(" + "|".join(_LEVELS) + r")(?!\w)(?! hội)", re.I)
# a place name: capitalised words (or digits: "phường 7")
_PLACE = r"(?:[A-ZĐÀ-Ỹ0-9][\w'’]*(?:[ -]+[A-ZĐÀ-Ỹ0-9][\w'’]*)*)"
_TRAILING_PLACE = re.compile(r"\s+(?i:(" + "|".join(_LEVELS) + r"))(?:\s+(" + _PLACE + r"))?$")


# --------------------------------------------------------------------------- tables

def _rows(name: str) -> list[list[str]]:
    p = DATA / name
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        out.append(line.split("\t"))
    return out


@dataclass(frozen=True)
class Province:
    name: str
    kind: str                 # "tinh" | "thanh_pho" (centrally-run city)
    merged_2025: Optional[str]
    aliases: tuple[str, ...]


@lru_cache(maxsize=1)
def provinces() -> dict[str, Province]:
    """Lower-cased name or alias -> Province."""
    out: dict[str, Province] = {}
    for r in _rows("provinces.tsv"):
        r = r + [""] * (4 - len(r))
        p = Province(clean_inline(r[0]), r[1].strip(), clean_inline(r[2]) or None,
                     tuple(clean_inline(a) for a in r[3].split("|") if a.strip()))
        for n in (p.name, *p.aliases):
            out[n.lower()] = p
    return out


@lru_cache(maxsize=1)
def _province_re() -> re.Pattern:
    names = sorted(provinces(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.I)


def find_province(text: str) -> Optional[str]:
    """The first province name in ``text`` (canonical spelling), or None."""
    if not text:
        return None
    m = _province_re().search(clean_inline(text))
    return provinces()[m.group(1).lower()].name if m else None


@lru_cache(maxsize=1)
def _word_aliases() -> tuple[re.Pattern, dict[str, str]]:
    table: dict[str, str] = {}
    for r in _rows("abbreviations.tsv"):           # the lead's table, used by extraction too
        if len(r) >= 2 and r[0].strip() and r[1].strip():
            table[r[0].strip()] = clean_inline(r[1])
    for r in _rows("body_aliases.tsv"):
        if len(r) >= 2 and (len(r) < 3 or r[2].strip() == "word"):
            table.setdefault(r[0].strip(), clean_inline(r[1]))
    keys = sorted(table, key=len, reverse=True)
    pat = re.compile(r"(?<![\w&])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w&])") if keys else re.compile(r"(?!)")
    return pat, table


@lru_cache(maxsize=1)
def _name_aliases() -> list[tuple[re.Pattern, str]]:
    """Whole-name aliases, matched as a prefix of the expanded name (separators and case free)."""
    rows = [(clean_inline(r[0]), clean_inline(r[1])) for r in _rows("body_aliases.tsv")
            if len(r) >= 3 and r[2].strip() == "name"]
    rows.sort(key=lambda x: len(x[0]), reverse=True)
    out = []
    for alias, canon in rows:
        words = re.split(r"[\s,\-–—]+", alias)
        pat = re.compile(r"[\s,\-–—]+".join(re.escape(w) for w in words if w) + r"(?!\w)", re.I)
        out.append((pat, canon))
    return out


@lru_cache(maxsize=1)
def _kinds() -> list[tuple[re.Pattern, str, str]]:
    return [(re.compile(r[0].strip(), re.I), r[1].strip(), r[2].strip()) for r in _rows("body_kinds.tsv") if len(r) >= 3]


# --------------------------------------------------------------------------- string stages

def _fold(s: str) -> str:
    """Comparison form: lower case, one spelling of separators, no filler "các" inside."""
    s = s.lower()
    s = re.sub(r"\s*[-–—]\s*", " - ", s)
    s = re.sub(r"\s*,\s*", ", ", s)
    s = re.sub(r"(?<=\S) các (?=\S)", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def clean(name: str) -> str:
    """NFC, tone convention, spaces; drop a trailing parenthesis, quotes and punctuation."""
    s = clean_inline(unicodedata.normalize("NFC", name or ""))
    s = re.sub(r"\s*\([^()]*\)\s*$", "", s)
    s = s.strip(" \t\"'“”‘’*.;:,")
    return re.sub(r"\s+", " ", s)


@lru_cache(maxsize=32768)
def expand(name: str) -> str:
    """Abbreviations expanded ("UBND tỉnh" -> "Ủy ban nhân dân tỉnh"), name aliases applied."""
    s = clean(name)
    pat, table = _word_aliases()
    s = pat.sub(lambda m: table[m.group(1)], s)
    s = re.sub(r"\s+", " ", s).strip()
    for pat_alias, canon in _name_aliases():
        m = pat_alias.match(s)
        if m:
            s = canon + s[m.end():]
            break
    return s[:1].upper() + s[1:] if s else s


@lru_cache(maxsize=32768)
def kind_and_scope(name: str) -> tuple[str, str]:
    f = _fold(expand(name))
    for pat, kind, scope in _kinds():
        if pat.match(f):
            return kind, scope
    return "other", "province"


def kind_of(name: str) -> str:
    """The body's kind: so, phong, ubnd, hdnd, van_phong, trung_tam, ban, party, generic, ..."""
    return kind_and_scope(name)[0]


def split_place(name: str) -> tuple[str, Optional[str], Optional[str]]:
    """("Ủy ban nhân dân tỉnh Quảng Trị") -> ("Ủy ban nhân dân", "tỉnh", "Quảng Trị").

    Only a trailing level word (with its place, if any) is cut; a level word inside
    ("Ủy ban nhân dân huyện, thành phố") stays."""
    m = _TRAILING_PLACE.search(name)
    if not m:
        # "... Quảng Trị" without a level word: a province name at the end
        pm = re.search(r"\s+(" + _province_re().pattern + r")$", name, re.I)
        if pm and pm.start() > 0:
            return name[:pm.start()], "tỉnh", provinces()[pm.group(1).lower()].name
        return name, None, None
    level = m.group(1).lower()
    place = m.group(2)
    if place and not place[0].isupper() and not place[0].isdigit():
        place = None
    return name[:m.start()], level, place


def _place_province(level: Optional[str], place: Optional[str]) -> Optional[str]:
    """The province a named place is in, when the name says it (a province, a centrally-run
    city, or a provincial city/town named like its province)."""
    if not place:
        return None
    p = provinces().get(clean_inline(place).lower())
    if p is None:
        return None
    if level in (None, "tỉnh", "thành phố", "thị xã"):
        return p.name
    return None


def _is_central_city(place: Optional[str]) -> bool:
    p = provinces().get((place or "").lower())
    return bool(p and p.kind == "thanh_pho")


# --------------------------------------------------------------------------- scopes

@dataclass(frozen=True)
class PlanScope:
    """Where a plan's owner names are anchored.

    province: the plan's province ("Quảng Trị"); territory: the plan's own local territory
    when the issuer is below the province ("thành phố Trà Vinh", "xã Tân Lập"); unit: the
    issuing body when sub-units of it ("Phòng ...", "Lãnh đạo Sở") may be named
    ("Sở Xây dựng", "Văn phòng Ủy ban nhân dân tỉnh", or the territory); plan_id: for generic owners."""
    province: Optional[str] = None
    territory: Optional[str] = None
    unit: Optional[str] = None
    plan_id: Optional[int] = None


def plan_scope(issuer: Optional[str], *, province: Optional[str] = None, place: Optional[str] = None,
               text: Optional[str] = None, plan_id: Optional[int] = None) -> PlanScope:
    """The scope of a plan from its issuer ("Ủy ban nhân dân thành phố Trà Vinh" -> Trà Vinh,
    territory "thành phố Trà Vinh"); ``province`` (the extractor's), ``place`` and the head of
    ``text`` are fallbacks for the province when the issuer does not name it."""
    issuer_x = expand(issuer or "")
    base, level, pname = split_place(issuer_x)
    prov = None
    territory = None
    if level == "tỉnh" or (level == "thành phố" and _is_central_city(pname)):
        prov = find_province(pname or "") if pname else None
    elif level in LOCAL_LEVELS:
        territory = f"{level} {pname}" if pname else None
        prov = _place_province(level, pname)
    if prov is None and not is_central(issuer_x):   # a central body is not filed under its place (Hà Nội)
        for cand in (province, place, (text or "")[:600], issuer_x):
            prov = find_province(cand or "")
            if prov:
                break
    kind, kscope = kind_and_scope(base or issuer_x) if (base or issuer_x) else ("other", "province")
    if kind in ("ubnd", "hdnd", "party") and kscope == "level":
        unit = territory
    else:
        b = clean(base)
        if kscope == "level" and level and not territory:
            b = f"{b} {level}"
        unit = f"{b} {territory}" if territory and b else (b or None)
    return PlanScope(province=prov, territory=territory, unit=unit, plan_id=plan_id)


# --------------------------------------------------------------------------- resolving names

@dataclass(frozen=True)
class BodyRef:
    """A resolved owner: ``key`` identifies the body in the registry."""
    key: str
    canonical: str            # name without its place: "Ủy ban nhân dân tỉnh", "Sở Nội vụ"
    kind: str
    province: Optional[str]
    locality: Optional[str]   # "thành phố Trà Vinh", "Sở Xây dựng", ...
    plan_id: Optional[int]    # set for generic owners only
    surface: str              # the name as written

    @property
    def label(self) -> str:
        return body_label(self.canonical, self.kind, self.province, self.locality, self.plan_id)


def body_label(canonical: str, kind: str, province: Optional[str], locality: Optional[str],
               plan_id: Optional[int] = None) -> str:
    """A readable full name: "Ủy ban nhân dân tỉnh Quảng Trị", "Sở Nội vụ (Quảng Trị)"."""
    if plan_id is not None:
        return f"{canonical} (plan {plan_id})"
    m = re.search(r"(?<!\w)(" + "|".join(_LEVELS) + r")$", canonical)
    if m and locality and locality.lower().startswith(m.group(1)):
        return canonical[:m.start()] + locality
    if m and m.group(1) == "tỉnh" and province:
        return f"{canonical} {province}"
    if m and m.group(1) == "thành phố" and not locality and province and _is_central_city(province):
        return f"{canonical} {province}"
    where = ", ".join(x for x in (locality, province) if x)
    return f"{canonical} ({where})" if where else canonical


def canonical_key(name: str, province: Optional[str], *, locality: Optional[str] = None,
                  plan: Optional[int] = None) -> str:
    """The registry key of ``name`` as written in a plan of ``province``.

    Equal keys are one body: ``canonical_key("UBND tỉnh", "Quảng Trị") ==
    canonical_key("Ủy ban nhân dân tỉnh Quảng Trị", None)``. ``locality`` is the plan's
    territory or issuing unit (see ``PlanScope``), ``plan`` the plan id for generic owners."""
    scope = PlanScope(province=find_province(province or "") or province,
                      territory=locality if locality and _LEVEL_WORD.match(locality) else None,
                      unit=locality, plan_id=plan)
    return resolve(name, scope).key


def _key(canonical: str, province: Optional[str], locality: Optional[str], plan_id: Optional[int]) -> str:
    parts = [_fold(canonical), "@" + (province or "").lower()]
    if locality:
        parts.append("/" + _fold(locality))
    if plan_id is not None:
        parts.append(f"#plan{plan_id}")
    return "".join(parts)


@lru_cache(maxsize=65536)
def resolve(name: str, scope: PlanScope) -> BodyRef:
    """Resolve one owner name in the scope of its plan."""
    surface = clean(name)
    full = expand(surface)
    kind, kscope = kind_and_scope(full)
    base, level, pname = split_place(full)
    if kscope == "generic" or not base:
        base, level, pname = full, None, None
    inner = _LEVEL_WORD.search(base)
    level_word = level or (inner.group(1).lower() if inner else None)

    province = scope.province
    locality: Optional[str] = None
    plan_id: Optional[int] = None
    if kscope == "national":
        province = None
    elif kscope == "generic":
        plan_id = scope.plan_id
    elif level_word == "tỉnh" or (level_word == "thành phố" and _is_central_city(pname)):
        province = find_province(pname) if pname else province
        province = province or scope.province
    elif level_word in LOCAL_LEVELS:
        if pname:
            locality = f"{level_word} {pname}"
            province = _place_province(level_word, pname) or scope.province
        elif scope.territory and (level is None or scope.territory.lower().startswith(level_word)
                                  or level_word in ("xã", "phường", "thị trấn")):
            locality = scope.territory
    elif kscope == "unit":
        locality = scope.unit
    elif kscope == "level":
        locality = scope.territory

    # canonical: the name without its place; a kind named by its level keeps the level word
    if kscope == "level" and level:
        canonical = f"{base} {level}"
    else:
        canonical = base
    canonical = canonical.strip(" ,;-")
    canonical = canonical[:1].upper() + canonical[1:]
    return BodyRef(key=_key(canonical, province, locality, plan_id), canonical=canonical, kind=kind,
                   province=province, locality=locality, plan_id=plan_id, surface=surface)


# --------------------------------------------------------------------------- registry rows

@dataclass
class Body:
    """A row of the bodies registry (``Corpus.bodies()``)."""
    id: int
    key: str
    canonical: str
    kind: str
    province: Optional[str]
    locality: Optional[str]
    plan_id: Optional[int]
    aliases: list[str] = field(default_factory=list)
    task_count: int = 0

    @property
    def label(self) -> str:
        return body_label(self.canonical, self.kind, self.province, self.locality, self.plan_id)

    @property
    def generic(self) -> bool:
        return self.kind == "generic"

    def to_dict(self) -> dict:
        return {"id": self.id, "key": self.key, "canonical": self.canonical, "label": self.label,
                "kind": self.kind, "province": self.province, "locality": self.locality,
                "plan_id": self.plan_id, "aliases": list(self.aliases), "task_count": self.task_count}
