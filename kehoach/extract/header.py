"""Header of a document by the national format standard (Nghị định 30/2020/NĐ-CP, Phụ lục I):
số hiệu, loại văn bản, issuer (province resolved), place and date, trích yếu (title), signer and
the signer's own post.

Stages, each one function over the blocks of an IngestedDocument:

1. ``_head_lines`` - the lines above the document-kind line ("KẾ HOẠCH", "QUYẾT ĐỊNH"), whatever
   the layout: one line a cell (web text, even with its "|" cell marks), pipe or DOCX table rows
   (each distinct cell once: merged cells repeat), two PDF columns run together on one line.
2. ``read_letterhead`` - Quốc hiệu and Tiêu ngữ (letterhead_mottos.tsv) removed wherever they
   sit; "Số:" with its number on the next line; "<địa danh>, ngày ..." cut over lines; the
   names of the parent and the issuing body (letterhead_units.tsv), each wrapped over lines;
   a Công văn's "V/v ..." trích yếu.
3. ``read_title`` - tên loại's trích yếu over every line it spans, up to the authority line of a
   Quyết định ("ỦY BAN NHÂN DÂN TỈNH ...", "BỘ TRƯỞNG BỘ ..."), the preamble or a rule; an
   upper-case title is given in sentence case (title_names.tsv).
4. ``find_closing`` - "Nơi nhận" (or the signature) that ends the body, and the appendix.
5. ``read_signature`` - quyền hạn (TM./KT./TL./TUQ./Q.), chức vụ, họ tên.

The issuer falls back on the preamble ("<issuer> ban hành Kế hoạch"), the closing sentence and a
"TM." line. Central bodies (central_bodies.tsv: Chính phủ, Thủ tướng, Bộ ...) have no province.
"""
from __future__ import annotations

import calendar

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Optional

from kehoach.extract.bodies import canonical, expand_abbreviations, starts_with_body
from kehoach.extract.data import fast_compile, first_letter_alternation, rows
from kehoach.ingest.normalize import parse_designation
from kehoach.models import Block, DocumentInfo, IngestedDocument, Signer

_UP = "A-ZĐÀ-Ỹ"
NUMBER = re.compile(r"^\s*Số\s*(?:hiệu)?\s*[:.]?\s*(?P<num>[^\s/]*)\s*/\s*(?P<sym>[\w.\-Đđ&/]+)", re.I)
DATE_LINE = re.compile(
    r"^(?P<place>[^,\d]{0,60}?),?\s*ngày\s*(?P<d>\d{1,2})?[\s.…]*(?:/|tháng)\s*(?P<m>\d{1,2})?[\s.…]*(?:/|năm)\s*(?P<y>\d{4})",
    re.I)
_DATE_START = re.compile(r"(?:^|,)\s*ngày\b(?:\s*[\d.…]*\s*(?:tháng|/|$))", re.I)
_SEPARATOR = re.compile(r"^[-_=*.–—|\s]*$")
_INNER_RULE = re.compile(r"\s*[-_=–—]{3,}\s*|\s*(?=\bSố\s*:)")
_VV = re.compile(r"^V/v\b", re.I)
_POST_PREFIX = re.compile(r"^(TM|KT|TL|TUQ|Q)\.?\s+(.*)$")
_NAME = re.compile(rf"^[{_UP}][a-zà-ỹđ]*(?:\s+[{_UP}][a-zà-ỹđ]*){{1,5}}$")
_NAME_UPPER = re.compile(rf"^[{_UP}]+(?:\s+[{_UP}]+){{1,5}}$")
_PLACE_WORDS = r"(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu|TP\.|tp\.)"
_PROPER = rf"[{_UP}][\wà-ỹđ]*(?:\s+[{_UP}][\wà-ỹđ]*){{0,3}}"
# "\btỉnh" written as "tỉnh" then a look-behind for the word start: the pattern opens with a
# literal, which the regex engine skips ahead to (the text's first 50 000 characters are searched)
PROVINCE_IN = re.compile(rf"tỉnh(?<!\wtỉnh)\s+(?P<p>{_PROPER})")
CITY_IN = re.compile(rf"thành phố(?<!\wthành phố)\s+(?P<p>{_PROPER})")
HEAD_LIMIT = 60        # blocks searched for the letterhead and the kind line
TITLE_MAX_LINES = 8    # a trích yếu wrapped one line a block spans at most this many


@dataclass
class Layout:
    """Where the parts of the document are, as block indices."""
    title: Optional[int] = None
    body_start: int = 0
    closing: Optional[int] = None          # "Nơi nhận" (or the signature) that ends the body
    signature: list[int] = field(default_factory=list)
    appendix: Optional[int] = None         # first block of the appendix (Phụ lục) after the signature
    embedded_plan: Optional[int] = None    # a Quyết định issuing a plan: the plan's title block
    recipients: list[str] = field(default_factory=list)   # nơi nhận, as listed ("Bộ Tài chính (b/c)")


@dataclass
class Letterhead:
    """What the letterhead (ô 1-4 of Phụ lục I) says."""
    units: list[str] = field(default_factory=list)   # body names as printed, the parent body first
    number: Optional[str] = None
    has_number_line: bool = False
    place: Optional[str] = None
    date: Optional[str] = None
    subject: Optional[str] = None                    # a Công văn's "V/v ..." trích yếu


# --------------------------------------------------------------------------- vocabularies

@lru_cache(maxsize=1)
def _kinds() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(rows("doc_kinds.tsv"), key=lambda r: -len(r[0])))


@lru_cache(maxsize=1)
def _kind_names() -> dict[str, str]:
    return {up: name for up, name in _kinds()}


def doc_kind(text: str) -> Optional[str]:
    """The document kind a line is alone ("KẾ HOẠCH" -> "Kế hoạch"), else None."""
    if len(text) > 60:
        return None
    return _kind_names().get(text.strip().strip("*").strip().rstrip(".:"))


def _space_rx(pattern: str) -> str:
    return pattern.replace(" ", r"\s+")


@lru_cache(maxsize=1)
def _mottos() -> re.Pattern:
    return re.compile("|".join(f"(?:{_space_rx(r[0])})" for r in rows("letterhead_mottos.tsv")), re.I)


def _motto_line(t: str) -> bool:
    """A line that is a motto or banner, not a title's words: the motto opens the line or is set in
    capitals ("VĂN BẢN QUY PHẠM PHÁP LUẬT" over a Gazette page); a trích yếu may name the same
    words in running text ("công bố Danh mục văn bản quy phạm pháp luật hết hiệu lực")."""
    m = _mottos().search(t)
    return bool(m) and (not t[:m.start()].strip(" |*-") or _is_upper(m.group(0)))


@lru_cache(maxsize=1)
def _unit_heads() -> re.Pattern:
    heads = sorted((r[0] for r in rows("letterhead_units.tsv")), key=len, reverse=True)
    return re.compile(r"^(?:" + "|".join(re.escape(h) for h in heads) + r")(?![\wÀ-ỹ])")


@lru_cache(maxsize=1)
def _stop_title() -> re.Pattern:
    return re.compile("^(?:" + "|".join(r[0] for r in rows("title_stops.tsv")) + ")")


@lru_cache(maxsize=1)
def _central_rx() -> re.Pattern:
    return re.compile("|".join(f"(?:{r[0]})" for r in rows("central_bodies.tsv")))


def is_central(issuer: Optional[str]) -> bool:
    """A body of the central level (Chính phủ, Thủ tướng Chính phủ, a Bộ, ...): no province."""
    return bool(issuer) and bool(_central_rx().match(issuer.lower()))


@lru_cache(maxsize=1)
def _national_names() -> dict[str, str]:
    """Full names of national issuers by their lower-case form ("thủ tướng chính phủ")."""
    return {r[1].lower(): r[1] for r in rows("issuer_suffixes.tsv") if len(r) > 2 and r[2] == "national"}


@lru_cache(maxsize=1)
def _posts() -> dict[str, str]:
    return {a: b for a, b in rows("signer_posts.tsv")}


@lru_cache(maxsize=1)
def _posts_longest() -> tuple[str, ...]:
    return tuple(sorted(_posts(), key=len, reverse=True))


def sentence_case_name(s: str) -> str:
    """'ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ' -> 'Ủy ban nhân dân tỉnh Quảng Trị'."""
    known = _national_names().get(re.sub(r"\s+", " ", expand_abbreviations(s)).strip().lower())
    if known:
        return known
    words = expand_abbreviations(s).split()
    out = []
    cap_next = True
    place = False
    in_dept = False
    for k, w in enumerate(words):
        lw = w.lower()
        nxt = words[k + 1].lower() if k + 1 < len(words) else ""
        if place or cap_next:
            out.append(lw[:1].upper() + lw[1:])
        else:
            out.append(lw)
        cap_next = False
        if lw in ("tỉnh", "phố", "huyện", "quận", "xã", "phường", "trấn", "khu") and nxt not in ("hội", "viên"):
            place = True
        elif lw in ("sở", "cục", "bộ") or (k == 0 and lw == "phòng") or (in_dept and (lw in ("và", "-") or w.endswith(","))):
            cap_next = True
            in_dept = True
    s2 = " ".join(out)
    s2 = re.sub(r"(?i)\bủy ban nhân dân\b", "Ủy ban nhân dân", s2)
    s2 = re.sub(r"(?i)\bhội đồng nhân dân\b", "Hội đồng nhân dân", s2)
    s2 = re.sub(r"(?i)\bchính phủ\b", "Chính phủ", s2)
    s2 = re.sub(r"^(Tỉnh|Thành|Huyện|Đảng) Ủy\b", r"\1 ủy", s2)
    s2 = re.sub(r"^Ủy Ban", "Ủy ban", s2)
    s2 = _province_tail(s2)
    s2 = re.sub(r"^Văn phòng ủy ban", "Văn phòng Ủy ban", s2)
    s2 = s2.replace("ủy ban nhân dân", "Ủy ban nhân dân") if s2.startswith("Văn phòng") else s2
    return canonical(s2)


_LETTER = re.compile(r"[^\W\d_]")
_LOWER_CH = re.compile(r"[^\W\dA-ZĐÀ-ÝĂĨŨƠƯẠ-Ỹ_]")


@lru_cache(maxsize=1)
def _province_names() -> tuple[str, ...]:
    return tuple(sorted((r[0] for r in rows("provinces.tsv")), key=len, reverse=True))


def _province_tail(s: str) -> str:
    """A province named at the end of a body's name without its level word ("Sở Y tế Hà Nội")."""
    low = s.lower()
    for p in _province_names():
        if low.endswith(" " + p.lower()):
            return s[:len(s) - len(p)] + p
    return s


def _ends_with_province(s: str) -> bool:
    return any(s.endswith(" " + p) for p in _province_names())


def _is_upper(s: str) -> bool:
    """At least 80% of the letters are capitals (the first 300 characters decide)."""
    return _is_upper_head(s[:300])


@lru_cache(maxsize=8192)
def _is_upper_head(s: str) -> bool:    # the header's passes ask this of the same lines many times
    first = next((c for c in s if c.isalpha()), "")
    if not first.isupper():
        return False
    low = len(_LOWER_CH.findall(s))
    letters = len(_LETTER.findall(s))
    return letters > 0 and letters - low >= 0.8 * letters


def parse_date(d: Optional[str], m: Optional[str], y: Optional[str]) -> Optional[str]:
    """ISO date, as precise as the parts allow; an impossible month or day (a misread digit)
    is dropped rather than written."""
    if not y:
        return None
    if m and 1 <= int(m) <= 12:
        if d and 1 <= int(d) <= calendar.monthrange(int(y), int(m))[1]:
            return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
        return f"{int(y):04d}-{int(m):02d}"
    return f"{int(y):04d}"


def _province_of(name: str) -> Optional[str]:
    m = PROVINCE_IN.search(name)
    if m:
        return m.group("p")
    m = CITY_IN.search(name)
    if m and m.group("p") in _central():
        return m.group("p")
    return None


@lru_cache(maxsize=1)
def _central() -> frozenset:
    return frozenset(r[0] for r in rows("central_cities.tsv"))


IssuerKind = Literal["ubnd_tinh", "ubnd_huyen", "ubnd_xa", "van_phong", "so", "phong", "ban", "party", "hdnd",
                     "bo", "other"]


def issuer_kind(issuer: Optional[str]) -> Optional[IssuerKind]:
    if not issuer:
        return None
    central = _central()
    m = re.match(r"^Ủy ban nhân dân\s+(tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s*(.*)$", issuer)
    if m:
        lvl, place = m.group(1), m.group(2)
        if lvl == "tỉnh" or (lvl == "thành phố" and place in central):
            return "ubnd_tinh"
        if lvl in ("thành phố", "huyện", "quận", "thị xã"):
            return "ubnd_huyen"
        return "ubnd_xa"
    kinds: tuple[tuple[str, IssuerKind], ...] = (
        ("Văn phòng", "van_phong"), ("Sở", "so"), ("Phòng", "phong"), ("Ban", "ban"), ("Tỉnh ủy", "party"), ("Thành ủy", "party"), ("Hội đồng nhân dân", "hdnd"), ("Bộ", "bo"))
    for pre, kind in kinds:
        if issuer.startswith(pre):
            return kind
    return "other"


# --------------------------------------------------------------------------- 1. lines of the header

def _block_lines(b: Block) -> list[str]:
    if b.kind == "row":
        cells = b.cells if b.cells else b.text.split("\t")
        out: list[str] = []
        for c in cells:
            out.extend(x for x in c.split("\n") if x.strip())
        return out
    return [x for x in b.text.split("\n") if x.strip()]


def _kind_at(blocks: list[Block], limit: int) -> tuple[Optional[int], Optional[str]]:
    """The first block whose text (or first cell) is a document kind alone ("KẾ HOẠCH")."""
    for i in range(limit):
        lines = _block_lines(blocks[i])
        if lines:
            k = doc_kind(lines[0])
            if k and all(not x.strip() or doc_kind(x) == k for x in lines[:1]):
                return i, k
    return None, None


def _head_lines(blocks: list[Block], end: int) -> list[str]:
    """The letterhead's lines, blocks[0:end], each distinct cell of a table once."""
    out: list[str] = []
    seen: set[str] = set()
    for b in blocks[:end]:
        for line in _block_lines(b):
            line = line.strip().strip("*|").strip()
            if b.kind == "row":
                if line in seen:
                    continue
                seen.add(line)
            out.append(line)
    return out


# --------------------------------------------------------------------------- 2. letterhead

def _clean_lines(lines: list[str]) -> list[str]:
    """Mottos removed (even cut over lines), rules and cell marks dropped, two cells run together split."""
    text = _mottos().sub("\n", "\n".join(lines))
    out = []
    for line in text.split("\n"):
        for part in _INNER_RULE.split(line):
            part = part.strip().strip("*|").strip()
            if part and not _SEPARATOR.match(part):
                out.append(part)
    return out


@lru_cache(maxsize=1)
def _headless_units() -> dict[str, str]:
    """Letterhead heads without their first letter ("Y BAN" -> "ỦY BAN"), where what is left is no head itself
    and is 4 characters or more."""
    heads = [r[0] for r in rows("letterhead_units.tsv") if _is_upper(r[0])]
    return {h[1:]: h for h in heads if len(h) >= 5 and not _unit_heads().match(h[1:])}


def _drop_cap_restored(lines: list[str]) -> list[str]:
    """A page that sets the document's first letter apart (a drop cap, its own element) loses it when copied:
    "Y BAN NHÂN DÂN" / "TỈNH KON TUM". The first upper-case line of the letterhead that reads as a unit head
    without its first letter gets it back."""
    for i, t in enumerate(lines[:5]):
        if not _is_upper(t):
            continue
        if not _unit_heads().match(t):
            for rest, head in _headless_units().items():
                if t.startswith(rest) and (len(t) == len(rest) or not t[len(rest)].isalnum()):
                    return lines[:i] + [head[0] + t] + lines[i + 1:]
        return lines
    return lines


def read_letterhead(lines: list[str]) -> Letterhead:
    """Read the letterhead from its lines (see the module's docstring)."""
    lh = Letterhead()
    lines = _drop_cap_restored(_clean_lines(lines))
    upper: list[str] = []
    pending: list[str] = []        # mixed-case fragments: the start of a place ("Thành phố Hồ")
    i = 0
    while i < len(lines):
        t = lines[i]
        if re.match(r"^Số\b", t, re.I) and not lh.has_number_line:
            if "/" not in t and i + 1 < len(lines):
                t = t + " " + lines[i + 1]
                i += 1
            lh.has_number_line = True
            m = NUMBER.match(t)
            if m:
                num = m.group("num").strip()
                lh.number = (num + "/" + m.group("sym")).replace(" ", "") if re.search(r"\d", num) else None
            pending = []
        elif _VV.match(t) and lh.subject is None:
            parts = [t]
            while i + 1 < len(lines) and not _is_upper(lines[i + 1]) and not _DATE_START.search(lines[i + 1]) \
                    and not re.match(r"^(Kính gửi|Số\b)", lines[i + 1]):
                parts.append(lines[i + 1])
                i += 1
            lh.subject = re.sub(r"\s+", " ", " ".join(parts)).strip()
            pending = []
        elif lh.date is None and _DATE_START.search(t):
            k = i
            while not re.search(r"\b(?:19|20)\d{2}\b", t) and k + 1 < len(lines) and k < i + 2:
                k += 1
                t = t + " " + lines[k]
            if pending and len(pending[-1]) <= 30 and re.match(rf"^[{_UP}][^\d:;()]*$", pending[-1]):
                t = pending[-1] + " " + t          # "Thành phố Hồ" / "Chí Minh, ngày ..."
            m = DATE_LINE.match(t)
            if m:
                lh.place = m.group("place").strip().strip(",").strip() or None
                lh.date = parse_date(m.group("d"), m.group("m"), m.group("y"))
                i = k
            pending = []
        elif _is_upper(t) and len(t) < 90:
            upper.append(t)
            pending = []
        else:
            pending.append(t)
        i += 1
    lh.units = _units(upper)
    return lh


def _units(lines: list[str]) -> list[str]:
    """Body names from the letterhead's upper-case lines: a line starting with a body head
    (letterhead_units.tsv) starts a name, other lines continue it; a name printed twice counts once."""
    heads = _unit_heads()
    units: list[str] = []
    for t in lines:
        m = heads.match(t)
        if units and (not m or heads.fullmatch(units[-1])):
            units[-1] = units[-1] + " " + t
        else:
            units.append(t)
    out: list[str] = []
    for u in units:
        u = re.sub(r"\s+", " ", u).strip()
        if not out or out[-1] != u:
            out.append(u)
    return out


def _issuer_from_units(units: list[str]) -> Optional[str]:
    """The issuing body: the last name; its parent gives the place ("UBND TỈNH X" / "SỞ Y")."""
    if not units:
        return None
    last, parent = units[-1], units[:-1]
    if parent and last == "VĂN PHÒNG":
        return "Văn phòng " + sentence_case_name(" ".join(parent))
    name = sentence_case_name(last)
    if not parent or is_central(name) or is_central(sentence_case_name(parent[-1])) \
            or re.search(rf"\b{_PLACE_WORDS}\s+[{_UP}]", name) or _ends_with_province(name):
        return name                      # a Cục of a Bộ has no province either
    place = _parent_place(parent)
    if re.match(r"^(Tỉnh|Thành|Huyện|Quận|Đảng) ủy$", name):
        place = re.sub(r"^ (tỉnh|thành phố|huyện|quận|thị xã) ", " ", place)   # "Tỉnh ủy Quảng Trị"
    return name + place


def _parent_place(parent: list[str]) -> str:
    p = sentence_case_name(" ".join(parent))
    m = re.search(rf"\b(tỉnh|thành phố|huyện|quận|thị xã)\s+{_PROPER}", p)
    return (" " + m.group(0)) if m else ""


# --------------------------------------------------------------------------- 3. title

def _title_line(b: Block) -> str:
    lines = _block_lines(b)
    return re.sub(r"\s+", " ", " ".join(lines)).strip().strip("*").strip() if lines else ""


def _is_authority(t: str, units: list[str]) -> bool:
    """The line naming the authority that issues a Quyết định, under its title
    ("ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH", "BỘ TRƯỞNG BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH")."""
    u = re.sub(r"\s+", " ", t).strip().rstrip(":").upper()
    if any(u == x.upper() for x in units):
        return True
    for p in _posts_longest():
        if u.startswith(p + " ") and _unit_heads().match(u[len(p) + 1:]):
            return True
    return bool(re.match(r"^(ỦY BAN NHÂN DÂN|HỘI ĐỒNG NHÂN DÂN|CHÍNH PHỦ|THỦ TƯỚNG CHÍNH PHỦ)\b", u)) \
        and len(u.split()) <= 8


def read_title(blocks: list[Block], kind_at: int, units: list[str]) -> tuple[Optional[str], int]:
    """The trích yếu under the kind line, over every line it spans; (title, first body block)."""
    parts: list[str] = []
    upper = False
    j = kind_at + 1
    n = len(blocks)
    while j < n and len(parts) < TITLE_MAX_LINES:
        t = _title_line(blocks[j])
        if not t:
            j += 1
            continue
        if not parts:
            if re.match(r"^(Căn cứ|Kính gửi|[IVX]+\.\s|Điều\s+\d)", t) or _motto_line(t) or _SEPARATOR.match(t):
                break
            if blocks[j].kind == "row" and len(_block_lines(blocks[j])) > 1 and len(t) > 200:
                break
            parts.append(t)
            upper = _is_upper(t)
            j += 1
            continue
        if _stop_title().match(t) or _motto_line(t) or _SEPARATOR.match(t) or _is_authority(t, units):
            break
        if upper != _is_upper(t) or len(" ".join(parts)) > 400 or parts[-1].endswith("."):
            break
        if t.startswith("(") or t.endswith(":") or len(t) > 200 or re.search(r"[.;]\s+[A-ZĐÀ-Ỹa-zđ]", t) and not upper:
            break  # a title goes on in short lines; a sentence or a "...:" line is the preamble
        parts.append(t)
        j += 1
    while j < n and j <= kind_at + TITLE_MAX_LINES + 3:   # the rule under the title, the authority line
        t = _title_line(blocks[j])
        if not t or _SEPARATOR.match(t):
            j += 1
        elif _is_authority(t, units):
            j += 1
            break
        else:
            break
    if parts and upper and doc_kind(_title_line(blocks[kind_at])) in _AUTHORITY_KINDS:
        parts[-1] = _without_authority(parts[-1], units)
    title = re.sub(r"\s+", " ", " ".join(parts)).strip() or None
    if title and upper:
        title = sentence_case_title(title)
    return title, j


# kinds whose title is followed by the line of the authority that issues them (Nghị định 30/2020/NĐ-CP)
_AUTHORITY_KINDS = frozenset({"Quyết định", "Nghị quyết", "Nghị định", "Thông tư"})
_OF = re.compile(r"^(?:CỦA|VỚI|CHO|VÀ|TẠI|THUỘC|VỀ|ĐỐI|GIỮA|TỪ|ĐẾN)$")


def _without_authority(t: str, units: list[str]) -> str:
    """The title's last line without the authority line a layout with no blank lines ran into it
    ("... CỦA BỘ TÀI CHÍNH ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"); a body the title names after "của",
    "với" ... is the title's own."""
    words = t.split()
    for i in range(1, len(words)):
        if not _OF.match(words[i - 1].upper()) and _is_authority(" ".join(words[i:]), units):
            return " ".join(words[:i])
    return t


@lru_cache(maxsize=1)
def _title_names() -> tuple[re.Pattern, dict[str, str]]:
    names = [r[0] for r in rows("title_names.tsv")] + list(_national_names().values())
    names = sorted(set(names), key=len, reverse=True)
    mapping = {x.lower(): x for x in names}
    # the names in that order under their first letters, with a first-letters look-ahead: the same matches
    rx = fast_compile(r"(?<![\wÀ-ỹ])" + first_letter_alternation([x.lower() for x in names]) + r"(?![\wÀ-ỹ])")
    return rx, mapping


@lru_cache(maxsize=1)
def _code_case() -> dict[str, str]:
    """Codes of a số ký hiệu written in mixed case ("TTg"), by their upper-case form."""
    out = {}
    for r in rows("issuer_suffixes.tsv"):
        for part in re.split(r"[-/]", r[0]):
            if part and not part.startswith("~") and part != part.upper():
                out[part.upper()] = part
    return out


_ROMAN = re.compile(r"^[IVXLC]+$")
_VOWEL = re.compile("[AEIOUYĂÂÊÔƠƯÀ-ÃÈ-ÊÌÍÒ-ÕÙÚÝĨŨ\u1EA0-\u1EF9]", re.I)
_PLACE_STOP = {"năm", "giai", "đoạn", "đến", "và", "trong", "từ", "theo", "về", "của", "cho", "tại", "trên",
               "thời", "kỳ", "nhiệm", "lần", "với", "các", "những", "được", "đã", "để", "khóa"}
_LEVELS = "tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu"
_LEVEL_LIST_BEFORE = re.compile(rf"(?<![\wÀ-ỹ])(?:{_LEVELS})\s*(?:,|và|hoặc)\s*$")


@lru_cache(maxsize=1)
def _place_level() -> re.Pattern:
    """A level word and, looked at but not taken, the (up to four) words after it, where a place's name may be;
    not a common noun that opens with a level word ("xã hội", ``place_level_nouns.tsv``)."""
    nouns = "|".join(sorted((re.escape(r[0].lower()) for r in rows("place_level_nouns.tsv")), key=len, reverse=True))
    return fast_compile(rf"(?<![\wÀ-ỹ])(?!(?:{nouns})(?![\wÀ-ỹ]))({_LEVELS})\s+"
                        r"(?=((?:[\wÀ-ỹ]+)(?:\s+[\wÀ-ỹ]+){0,3}))")


def _capitalise_places(s: str) -> str:
    """The name after each level word capitalised, up to a word that cannot be part of it ("tỉnh Bình Định năm
    2025"). The words after a level word are only looked at, so a level word among them starts its own name
    ("các huyện, thị xã, thành phố trên địa bàn tỉnh Bình Định", "xã Hòa Phú và xã Hòa Thắng"); the last of a list
    of levels names none ("xã, phường, thị trấn phù hợp với trẻ em")."""
    edits: list[tuple[int, int, str]] = []
    for m in _place_level().finditer(s):
        if _LEVEL_LIST_BEFORE.search(s, 0, m.start()) or (edits and m.start() < edits[-1][1]):
            continue
        out = []
        for w in m.group(2).split():
            if w.lower() in _PLACE_STOP or re.search(r"\d", w):
                break
            out.append(w[:1].upper() + w[1:])
        if out:
            name = " ".join(out)
            start = m.end()
            end = start + len(" ".join(m.group(2).split()[:len(out)]))
            edits.append((start, end, name))
    for start, end, name in reversed(edits):
        s = s[:start] + name + s[end:]
    return s


def sentence_case_title(t: str) -> str:
    """An upper-case trích yếu in sentence case: names, places, symbols and Roman numerals kept.

    'BAN HÀNH KẾ HOẠCH TRIỂN KHAI QUYẾT ĐỊNH SỐ 06/QĐ-TTG ... CỦA THỦ TƯỚNG CHÍNH PHỦ' ->
    'Ban hành Kế hoạch triển khai Quyết định số 06/QĐ-TTg ... của Thủ tướng Chính phủ'."""
    codes = _code_case()
    words = []
    for w in t.split():
        core = w.strip(",.;:()")
        if core.upper() == "V/V":
            words.append(w.replace(core, "V/v"))
        elif re.search(r"\d", core) and "/" in core:      # a số ký hiệu: 06/QĐ-TTG -> 06/QĐ-TTg
            words.append("-".join("/".join(codes.get(p, p) for p in q.split("/")) for q in w.split("-")))
        elif _ROMAN.match(core) and len(core) >= 2 or _abbrev_like(core):
            words.append(w)
        else:
            words.append(w.lower())
    s = " ".join(words)
    rx, mapping = _title_names()
    s = rx.sub(lambda m: mapping[m.group(0)], s)
    cap = lambda m: m.group(1) + m.group(2)[:1].upper() + m.group(2)[1:]  # noqa: E731
    numbered, issued = _kind_words_rx()
    s = numbered.sub(cap, s)
    s = issued.sub(cap, s)

    s = _capitalise_places(s)
    return s[:1].upper() + s[1:]


@lru_cache(maxsize=1)
def _kind_words_rx() -> tuple[re.Pattern, re.Pattern]:
    """A document kind before "số", and after "ban hành" / "phê duyệt" / ...: the kind words capitalised
    in a sentence-case title (compiled once, with a first-letter look-ahead)."""
    kinds = "|".join(re.escape(name.lower()) for _, name in _kinds())
    return (fast_compile(rf"(^|(?<![\wÀ-ỹ]))({kinds})(?=\s+số\b)"),
            fast_compile(rf"((?:^|(?<![\wÀ-ỹ]))(?:ban hành|phê duyệt|triển khai|thực hiện|thuộc)\s+)({kinds})(?![\wÀ-ỹ])"))


def _abbrev_like(core: str) -> bool:
    """An abbreviation (UBND, HĐND, abbreviations.tsv) rather than a word of an upper-case line."""
    if len(core) < 2 or not core.isupper():
        return False
    return core in _abbrev_keys() or not _VOWEL.search(core) \
        or (len(core) >= 3 and core[0] in "AEIOUY" and not _VOWEL.search(core[1:]))


@lru_cache(maxsize=1)
def _abbrev_keys() -> frozenset:
    return frozenset(r[0] for r in rows("abbreviations.tsv"))


# --------------------------------------------------------------------------- 4. closing

# compiled once (a pattern string given to re.match/re.sub at run time costs a cache look-up a call)
_RECIPIENTS_LABEL = re.compile(r"^Nơi nhận\b")
_RECIPIENTS_START = re.compile(r"^\s*Nơi nhận")
_RECIPIENTS_HEAD = re.compile(r"^\s*Nơi nhận\s*:?\s*")
_BULLET_HEAD = re.compile(r"^[-+•]\s*")
_FILED = re.compile(r"^Lưu\b")


def _opens_recipients(b: Block) -> bool:
    """Does one of the block's first two lines open with "Nơi nhận"? (Its lines are read only when
    the block holds the words.)"""
    pieces = (b.cells if b.cells else b.text.split("\t")) if b.kind == "row" else (b.text,)
    if not any("Nơi nhận" in p for p in pieces):
        return False
    return any(_RECIPIENTS_LABEL.match(x.strip()) for x in _block_lines(b)[:2])


def find_closing(blocks: list[Block], lay: Layout) -> None:
    """Set lay.closing ("Nơi nhận", else the signature), lay.signature, lay.appendix and
    lay.embedded_plan (a Quyết định followed by the plan it issues)."""
    n = len(blocks)
    closing = next((i for i in range(lay.body_start, n) if _opens_recipients(blocks[i])), None)
    lay.closing = closing
    if closing is not None:
        lay.signature = _signature_blocks(blocks, closing, n)
    else:  # no "Nơi nhận" (a Gazette copy): the first post followed by a name, maybe before an appendix
        lay.signature = _signature_blocks(blocks, lay.body_start, n, need_name=True) \
            or _signature_blocks(blocks, max(lay.body_start, n - 40), n)
    if closing is None and lay.signature:
        lay.closing = lay.signature[0]
    if closing is not None:
        lay.recipients = read_recipients(blocks, closing, lay.signature[0] if lay.signature else n)
    after = (lay.signature[-1] + 1) if lay.signature else (closing + 1 if closing is not None else n)
    for i in range(after, min(n, after + HEAD_LIMIT)):
        lines = _block_lines(blocks[i])
        t = lines[0].strip() if lines else ""
        if _mottos().search(blocks[i].text) or NUMBER.match(t) or _DATE_START.search(t) \
                or blocks[i].kind == "row" and all(_SEPARATOR.match(x) or _is_upper(x) and len(x) < 60 for x in lines):
            continue  # the letterhead of a document issued with this one (a plan after its Quyết định)
        if blocks[i].kind == "row" or re.match(r"^(PHỤ LỤC|Phụ lục|DANH MỤC|Danh mục|BIỂU|Biểu)\b", t):
            lay.appendix = i
            break
        if doc_kind(t):
            lay.embedded_plan = i
            lay.appendix = i
            break


def read_recipients(blocks: list[Block], closing: int, end: int) -> list[str]:
    """Nơi nhận: one recipient a "- " item (also after "Nơi nhận:" on its own line or in the same
    cell), the "Lưu: ..." item (the issuer's archive) left out."""
    out: list[str] = []
    for i in range(closing, min(end, closing + 60)):
        lines = _block_lines(blocks[i])
        if blocks[i].kind == "row":
            lines = next((c.split("\n") for c in (blocks[i].cells or [blocks[i].text])
                          if _RECIPIENTS_START.match(c) or (i > closing and c.strip().startswith("-"))), [])
        for x in lines:
            x = _RECIPIENTS_HEAD.sub("", x).strip()
            x = _BULLET_HEAD.sub("", x).strip().rstrip(";,.").strip()
            if not x or _is_post_line(x):
                continue
            if _FILED.match(x):
                return out
            out.append(x)
    return out


# --------------------------------------------------------------------------- 5. signature

def _is_post_line(t: str) -> bool:
    table = _posts()
    return _is_upper(t) and bool(_POST_PREFIX.match(t) or t in table or any(t.startswith(p + " ") for p in table))


_PDF_TAIL = re.compile(rf"(?<=[{_UP}])[a-zà-ỹ\[\]()|]{{1,3}}$")   # "PHÓ THỦ TƯỚNGy]": glyph junk of a PDF


_MANDATE_SPLIT = re.compile(r"\s+(?=(?:TM|KT|TL|TUQ)\.\s)")     # "TM. CHÍNH PHỦ KT. THỦ TƯỚNG" on one line
_SIGN_MARK = re.compile(r"^\[[^\]]*\]?$|^\(?(?:Đã ký|đã ký|Ký|ký)\b.*\)?$")   # "[daky]", "[", "(Đã ký)"


def _strip_junk(x: str) -> str:
    return _PDF_TAIL.sub("", x) if _PDF_TAIL.search(x) and _is_upper(x) else x


def _sig_text(b: Block) -> list[str]:
    """A block's lines for the signature; of a two-column row (Nơi nhận | signature) only the
    cells that hold a post."""
    cells = (b.cells if b.cells else b.text.split("\t")) if b.kind == "row" else [b.text]
    return list(_sig_lines(tuple(cells)))


@lru_cache(maxsize=512)   # the closing passes read the same blocks again (the last 40, the run)
def _sig_lines(cells: tuple[str, ...]) -> tuple[str, ...]:
    cell_lines = [[_strip_junk(y.strip().strip("*|").strip()) for x in c.split("\n") for y in _MANDATE_SPLIT.split(x)]
                  for c in cells]
    cell_lines = [[x for x in c if x and not _SEPARATOR.match(x) and not _SIGN_MARK.match(x)] for c in cell_lines]
    with_post = [c for c in cell_lines if any(_is_post_line(x) for x in c)]
    return tuple(x for c in (with_post or cell_lines) for x in c)


# the longest paragraph that can hold a signature's post lines (all mandates, post and name run
# together on one line, as flattened web text writes them, are under 120 characters)
_SIG_PARA_MAX = 200


def _signature_blocks(blocks: list[Block], start: int, end: int, need_name: bool = False) -> list[int]:
    """The blocks of the signature: from the first with a post line, the posts then the name.
    need_name: only a run that ends in a personal name (no "Nơi nhận" to start from)."""
    for i in range(start, end):
        if blocks[i].kind == "para" and len(blocks[i].text) > _SIG_PARA_MAX:
            continue                    # a paragraph of the body: a post line is short
        lines = _sig_text(blocks[i])
        if not (lines and all(_is_upper(x) for x in lines) if need_name else True):
            continue
        if any(_is_post_line(x) for x in lines):
            idx = _signature_run(blocks, i, end)
            if not need_name or _NAME.match(_sig_text(blocks[idx[-1]])[-1] if _sig_text(blocks[idx[-1]]) else ""):
                return idx
    return []


def _signature_run(blocks: list[Block], i: int, end: int) -> list[int]:
    """From the block with the first post: the upper-case post lines, then the name."""
    idx = [i]
    j = i + 1
    while j < end and len(idx) < 8:
        lines = _sig_text(blocks[j])
        if not lines:
            j += 1
            continue
        t = lines[-1]
        if re.match(r"^(PHỤ LỤC|DANH MỤC|BIỂU|Phụ lục|Mẫu biểu)", t) or doc_kind(t):
            break
        if not (_is_upper(t) and len(t) < 70 or _NAME.match(t) or _NAME_UPPER.match(t)):
            break
        idx.append(j)
        if _NAME.match(t) and not _is_upper(t):
            break
        j += 1
    return idx


def read_signature(blocks: list[Block], idx: list[int]) -> Signer:
    """Quyền hạn, chức vụ, họ tên from the signature blocks.

    Mandate lines (TM./KT./TL./TUQ., wrapped: "TM. ỦY BAN NHÂN" / "DÂN") come first, then the
    signer's own post, then the name: "KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH" -> Phó Chủ tịch;
    "TL. CHỦ TỊCH" / "CHÁNH VĂN PHÒNG" -> Chánh Văn phòng; "Q. GIÁM ĐỐC" -> Quyền Giám đốc;
    "KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH THƯỜNG TRỰC" -> Phó Chủ tịch Thường trực."""
    lines = [x for i in idx for x in _sig_text(blocks[i])]
    start = next((k for k, x in enumerate(lines) if _is_post_line(x)), len(lines))
    mandates: list[str] = []
    own: Optional[str] = None
    name = None
    for t in lines[start:]:
        m = _POST_PREFIX.match(t)
        if own is None and _is_upper(t):
            if m and m.group(1) != "Q":
                two = re.match(r"^(.*?\S)\s+(PHÓ\s.+)$", t)     # "KT. CHÁNH VĂN PHÒNG PHÓ VĂN PHÒNG" on one line
                if two and m.group(1) == "KT":
                    mandates.append(two.group(1))
                    own = two.group(2)
                else:
                    mandates.append(t)
            elif _is_post_line(t) or not mandates or not mandates[-1].startswith("TM"):
                own = t                            # after KT./TL./TUQ. comes the signer's own post
            else:
                mandates[-1] += " " + t            # "TM. ỦY BAN NHÂN" / "DÂN": the body wrapped over lines
            continue
        if _NAME.match(t):
            name = t
        elif _NAME_UPPER.match(t) and not doc_kind(t):
            name = " ".join(w[:1] + w[1:].lower() for w in t.split())
        break
    if own is None and mandates:
        own = mandates.pop()                      # "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH" has own; else the last
    if own is None:
        return Signer(name=name)
    table = _posts()
    acting = False
    m = _POST_PREFIX.match(own)
    if m:
        acting, own = m.group(1) == "Q", m.group(2)
    own = re.match(rf"^[{_UP}\s,.\-]*", own).group(0).strip(" ,.-") or own  # PDF junk after the post
    kt = next((mm.group(2) for mm in (_POST_PREFIX.match(x) for x in mandates) if mm and mm.group(1) == "KT"), None)
    if own in table or any(own.startswith(p + " ") for p in table):
        title = table.get(own) or _post_name(own)
    elif own.startswith("PHÓ") and kt:
        title = "Phó " + table.get(kt, sentence_case_name(kt))
    else:
        title = _post_name(own)
    if acting:
        title = "Quyền " + title
    return Signer(name=name, title=title)


def _post_name(own: str) -> str:
    """A post not in signer_posts.tsv: its known head ("GIÁM ĐỐC SỞ NỘI VỤ" -> "Giám đốc Sở Nội vụ")."""
    table = _posts()
    for p in _posts_longest():
        if own.startswith(p + " "):
            return table[p] + " " + sentence_case_name(own[len(p) + 1:])
    return sentence_case_name(own)


# --------------------------------------------------------------------------- the header

def parse_header(doc: IngestedDocument) -> tuple[DocumentInfo, Layout]:
    blocks = doc.blocks
    n = len(blocks)
    info = DocumentInfo()
    lay = Layout()
    kind_at, kind = _kind_at(blocks, min(n, HEAD_LIMIT))
    head_end = kind_at if kind_at is not None else _head_end(blocks, min(n, HEAD_LIMIT))
    lh = read_letterhead(_head_lines(blocks, head_end))
    info.number, info.place, info.date = lh.number, lh.place, lh.date
    if kind_at is not None:
        info.type, lay.title = kind, kind_at
        info.title, lay.body_start = read_title(blocks, kind_at, lh.units)
    else:
        lay.body_start = head_end
        if lh.subject:
            info.type = "Công văn"
            info.title = sentence_case_title(lh.subject) if _is_upper(lh.subject) else lh.subject
    find_closing(blocks, lay)
    info.signer = read_signature(blocks, lay.signature)
    issuer = _narrowed_by_symbol(_issuer(blocks, lay, lh), info.number)
    central = is_central(issuer) or any(is_central(sentence_case_name(u)) for u in lh.units[:-1])
    province = None if central else _province(doc, issuer, lh, info.place)
    if issuer and not central:
        issuer = _complete_issuer(issuer, province, info.place)
    info.issuer = issuer
    info.province = province
    if not info.number:
        info.number = _designated_number(doc.meta.get("designations") or (), info)
    if info.type == "Quyết định" and info.title and re.search(r"(ban hành|phê duyệt)\s+(Kế hoạch|Chương trình|Đề án)",
                                                             info.title, re.I):
        m = re.search(r"(Kế hoạch|Chương trình|Đề án)", info.title, re.I)
        info.issued_plan = {"type": m.group(1).capitalize(), "title": info.title}
    return info, lay


def _fold_title(t: str) -> str:
    return re.sub(r"\W+", " ", t).strip().casefold()


def _designated_number(designations, info: DocumentInfo) -> Optional[str]:
    """The number a portal page gives the document in its chrome ("Quyết định số 21/2025/QĐ-TTg Quy định
    tiêu chí …", ``ingest.html.page_designations``) when the body shown has no "Số:" line: the designation
    of the body's own kind whose trích yếu is the body's title (related-document lists name others)."""
    if not info.title or not info.type:
        return None
    title = _fold_title(info.title)
    for d in designations:
        kind, number, rest = parse_designation(d) or (None, None, "")
        if not kind or doc_kind(kind.upper()) != info.type:
            continue
        rest = _fold_title(rest)
        if len(rest) >= 15 and (rest.startswith(title[:60]) or title.startswith(rest[:60])):
            return number
    return None


@lru_cache(maxsize=1)
def _national_suffixes() -> dict[str, str]:
    """The national issuers of issuer_suffixes.tsv by their suffix, lower case."""
    return {r[0].lower(): r[1] for r in rows("issuer_suffixes.tsv") if len(r) > 2 and r[2] == "national"}


def _narrowed_by_symbol(issuer: Optional[str], number: Optional[str]) -> Optional[str]:
    """The symbol names the issuing body more narrowly than the letterhead: a "CHÍNH PHỦ"
    letterhead over "Số: 30/2025/QĐ-TTg" is a Quyết định of the Thủ tướng Chính phủ."""
    if not issuer or not number:
        return issuer
    code = number.rsplit("/", 1)[-1]
    table = _national_suffixes()
    for key in (code, code.split("-", 1)[-1]):
        named = table.get(key.lower())
        if named and named != issuer and named.endswith(" " + issuer):
            return named
    return issuer


def _head_end(blocks: list[Block], limit: int) -> int:
    """No kind line (a Công văn): the letterhead ends at "Kính gửi", the preamble or a long paragraph."""
    for i in range(limit):
        t = blocks[i].text.strip()
        if re.match(r"^(Kính gửi|Căn cứ|Thực hiện)", t) or (len(t) > 200 and not _is_upper(t)):
            return i
    return min(limit, 12)


def _issuer(blocks: list[Block], lay: Layout, lh: Letterhead) -> Optional[str]:
    issuer = _issuer_from_units(lh.units)
    if not issuer:
        issuer = _issuer_from_preamble(blocks, lay.body_start, min(len(blocks), lay.body_start + 12))
    if not issuer:
        issuer = _issuer_from_closing(blocks, lay)
    if not issuer and lay.signature:
        t = _sig_text(blocks[lay.signature[0]])
        m = _POST_PREFIX.match(next((x for x in t if _POST_PREFIX.match(x)), ""))
        if m and m.group(1) == "TM":
            issuer = sentence_case_name(m.group(2))
    return issuer


def _province(doc: IngestedDocument, issuer: Optional[str], lh: Letterhead, place: Optional[str]) -> Optional[str]:
    """The issuer's province: named in the issuer or its parent, else the place of the date line,
    else the province the text names most."""
    province = None
    for cand in ([issuer] if issuer else []) + [sentence_case_name(x) for x in lh.units[:-1]]:
        province = province or _province_of(cand or "")
    if not province and place and not re.match(r"^(TP|tp|Thành phố|thành phố|Quận|Huyện|Thị xã)\b", place):
        province = place.strip()
    if not province and place:
        m = re.match(r"^(?:Thành phố|thành phố|TP\.?)\s*(.+)$", place)
        if m and m.group(1).strip() in _central():
            province = m.group(1).strip()
    if not province:
        counts: dict[str, int] = {}
        for m in PROVINCE_IN.finditer(doc.text[:50000]):
            counts[m.group("p")] = counts.get(m.group("p"), 0) + 1
        if counts:
            province = max(counts, key=counts.get)
    return province


# --------------------------------------------------------------------------- issuer fallbacks

@lru_cache(maxsize=1)
def _preamble_rx() -> re.Pattern:
    verbs = "|".join(re.escape(r[0]) for r in rows("issuer_verbs.tsv"))
    return re.compile(rf"(?:^|[,;:.]\s+|\)\s*,?\s*)(?P<who>[^,;:.()]{{3,120}}?)\s+(?:{verbs})\b")


def _issuer_from_preamble(blocks: list[Block], start: int, end: int) -> Optional[str]:
    rx = _preamble_rx()
    for i in range(start, end):
        if blocks[i].kind != "para":
            continue
        for m in rx.finditer(blocks[i].text):
            who = m.group("who").strip()
            who = re.sub(r"^(?:thì|nay)\s+", "", who)
            if who.lower() in _national_names():
                return _national_names()[who.lower()]
            if starts_with_body(who) and not who.lower().startswith(("các ", "tất cả")):
                return canonical(who)
    return None


def _issuer_from_closing(blocks: list[Block], lay: Layout) -> Optional[str]:
    end = lay.closing if lay.closing is not None else len(blocks)
    for i in range(max(lay.body_start, end - 6), end):
        m = re.match(r"^Trên đây là (?:Kế hoạch|kế hoạch|Chương trình)[^.]*?\bcủa\s+(?P<who>(?:Sở|Văn phòng|Ủy ban|UBND|Ban|Phòng|Trung tâm)[^.,;]*?)(?:\s+(?:về|để|nhằm|thực hiện|trong)\b|[.,;]|$)",
                     blocks[i].text.strip())
        if m:
            return canonical(m.group("who"))
    return None


def _complete_issuer(issuer: str, province: Optional[str], place: Optional[str]) -> str:
    s = canonical(issuer)
    if re.search(rf"\b{_PLACE_WORDS}\s+[{_UP}]", s) or _ends_with_province(s):
        return s
    if province and re.match(r"^(Tỉnh|Thành) ủy$", s):
        return f"{s} {province}"
    level = "thành phố" if province in _central() else "tỉnh"
    if re.search(r"\btỉnh$", s) and province:
        return f"{s} {province}"
    if province and re.match(r"^(Ủy ban nhân dân|Hội đồng nhân dân)$", s):
        return f"{s} {level} {province}"
    if province and re.match(r"^(Sở|Văn phòng|Ban|Thanh tra|Trung tâm|Chi cục|Cục|Bảo hiểm|Công an|Kho bạc)\b", s) \
            and not s.endswith(("Chính phủ", "Quốc hội", "Trung ương")):
        return f"{s} {level} {province}"
    return s
