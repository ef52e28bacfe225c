"""Legal references (trích dẫn văn bản): every mention of another document that is
identified by a số ký hiệu, as typed ``LegalRef`` records.

An eyecite-like pipeline of small stages, each a pure function over the text:

1. ``find_symbols``     - số ký hiệu shapes ("641/QĐ-BNV", "60/2021/NĐ-CP", "01-NQ/TU", "116 /KH-UBND")
2. ``read_type``        - the type word before the symbol ("Quyết định số", "Luật Đất đai số", "văn bản số"),
                          or the type the symbol implies (QĐ -> Quyết định); plan headers and non-documents skipped
3. ``read_date`` / ``read_issuer`` / ``read_title`` - what follows: "ngày ...", "của ...", "về ..."
4. resolution           - list headers, lists sharing one issuer, the same symbol cited again,
                          the issuer the symbol's code implies (``issuer_suffixes.tsv``), the plan's province
5. ``read_statuses``    - "đã hết hiệu lực", "được sửa đổi, bổ sung tại ...", "thay thế Quyết định số ..."

Patterns and vocabularies live in ``kehoach/data`` (doc_types.tsv, issuer_suffixes.tsv, citation_*.tsv).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

from kehoach.errors import KehoachError
from kehoach.extract.data import fast_compile
from kehoach.models import LegalRef, Span

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class CitationDataError(KehoachError):
    """A citation data table is missing or malformed."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {reason}")


@dataclass
class CitationContext:
    issuer: str | None          # plan issuer, full name, e.g. "Ủy ban nhân dân tỉnh Quảng Trị"
    province: str | None        # "Quảng Trị" (or the city for a city-level plan's higher province when known)
    issuer_kind: str | None     # "ubnd_tinh" | "ubnd_huyen" | "ubnd_xa" | "so" | "van_phong" | "party" | ... or None
    own_number: str | None      # the plan's own số hiệu (never cite it)


# compiled once (a pattern string given to re.sub/re.match at run time costs a cache look-up a call)
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_NUMBER_LABEL_END = re.compile(r"(?:^|\s)S[ỐốO]\s*:\s*$|^\s*S[ốỐ]\s*$")
_WORD_BEFORE_NUMBER = re.compile(r"(?<!\w)(\w+)\s+(?i:s[ốo])\s*:?\s*$")
_INLINE_SPACE = re.compile(r"[^\S\n\t]+")
_CITY_ABBREV = re.compile(r"\s+(?:T[Pp]\.)\s*")
_NEXT_NAME_WORD = re.compile(r"[^\S\n\t]+([A-ZĐÀ-Ỹ][^\s,;:.()]*)")
_OF = re.compile(r"\s*,?\s*của\s+")
_COMMA_LIST = re.compile(r",\s+(?:các\s+)?")
_STATUS_GAP = re.compile(r"[\s,(*]*")


# =========================================================================== text helpers

@lru_cache(maxsize=16384)
def fold(s: str) -> str:
    """Lower case, no diacritics, đ -> d: for comparing names and codes."""
    s = unicodedata.normalize("NFD", (s or "").replace("Đ", "D").replace("đ", "d").replace("Ð", "D"))
    return "".join(c for c in s if unicodedata.category(c) != "Mn").lower()


def fold_code(s: str) -> str:
    return "".join(fold(s).split()).upper()


def initials(name: str) -> str:
    """Folded initials of a name, abbreviations kept whole: "Văn phòng UBND tỉnh" -> "VPUBNDT"."""
    out = []
    for w in re.findall(r"[^\s,;()\-–]+", name):
        if len(w) >= 2 and w.upper() == w and any(c.isalpha() for c in w):
            out.append(fold_code(w))
        else:
            out.append(fold_code(w[0]))
    return "".join(out)


# =========================================================================== data tables

def _read_tsv(name: str) -> list[list[str]]:
    path = DATA_DIR / name
    try:
        text = path.read_text("utf-8")
    except OSError as e:
        raise CitationDataError(path, f"cannot read data table ({e.strerror or e})") from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if not cells[0]:
            raise CitationDataError(path, f"line {n}: empty first column")
        rows.append(cells)
    return rows


def _alt(phrases, flexible_space: bool = True) -> str:
    """Regex alternation of literal phrases, longest first; spaces match any run of spaces."""
    out = []
    for p in sorted(set(phrases), key=len, reverse=True):
        e = re.escape(p)
        if flexible_space:
            e = e.replace(r"\ ", r"\s+")
        out.append(e)
    return "|".join(out)


@dataclass
class _Suffix:
    issuer: str
    scope: str
    implied_type: Optional[str]


@dataclass
class Tables:
    type_by_form: dict          # folded surface form -> type
    type_by_code: dict          # folded symbol code -> type
    generic_forms: set          # folded generic forms ("văn bản")
    suffix: dict                # folded key -> _Suffix
    suffix_re: list             # (compiled regex, _Suffix)
    orgs: dict                  # folded alias -> canonical
    direct_orgs: set            # folded canonical names that may follow the date without "của"
    heads: list
    stops: list
    abbrev: list                # (compiled, expansion)
    fixes: list                 # (compiled, replacement)
    notdoc: list
    levels: list
    connectors: list
    central_cities: set         # folded
    status_after: list          # (compiled, status, relation)
    status_before: list
    # compiled patterns
    type_before: re.Pattern = field(default=None)
    named_before: re.Pattern = field(default=None)
    header_re: re.Pattern = field(default=None)
    org_known: re.Pattern = field(default=None)
    org_direct: re.Pattern = field(default=None)
    org_head: re.Pattern = field(default=None)
    stop_re: re.Pattern = field(default=None)
    type_word_re: re.Pattern = field(default=None)
    level_re: re.Pattern = field(default=None)
    level_end_re: re.Pattern = field(default=None)
    subject_tail_re: re.Pattern = field(default=None)
    nation_re: re.Pattern = field(default=None)
    notdoc_re: re.Pattern = field(default=None)
    tight_gap: re.Pattern = field(default=None)


@lru_cache(maxsize=1)
def tables() -> Tables:
    type_by_form, type_by_code, generic, named_forms, plain_forms = {}, {}, set(), [], []
    for r in _read_tsv("doc_types.tsv"):
        typ = r[0]
        forms = [f for f in (r[1] if len(r) > 1 else typ).split("|") if f]
        codes = [c for c in (r[2] if len(r) > 2 else "").split("|") if c]
        kind = r[3] if len(r) > 3 else ""
        for f in forms:
            type_by_form[fold(f)] = typ
            (named_forms if kind == "named" else plain_forms).append(f)
            if kind == "generic":
                generic.add(fold(f))
        for c in codes:
            type_by_code[fold_code(c)] = typ

    suffix, suffix_re = {}, []
    for r in _read_tsv("issuer_suffixes.tsv"):
        if len(r) < 3:
            raise CitationDataError(DATA_DIR / "issuer_suffixes.tsv", f"row {r[0]!r}: needs key, issuer, scope")
        s = _Suffix(r[1], r[2], (r[3] if len(r) > 3 and r[3] else None))
        if r[0].startswith("~"):
            suffix_re.append((re.compile(r[0][1:], re.I), s))
        else:
            suffix[fold_code(r[0])] = s

    orgs, direct, printed, direct_printed = {}, set(), [], []
    for r in _read_tsv("citation_orgs.tsv"):
        canon = r[0]
        aliases = [a for a in (r[1] if len(r) > 1 else canon).split("|") if a] + [canon]
        for a in aliases:
            orgs[fold(a)] = canon
            printed.append(a)
            if a.startswith("Bộ ") and not canon.startswith("Bộ Chính"):
                orgs[fold("Sở " + a[3:])] = "Sở " + canon[3:]
                printed.append("Sở " + a[3:])
        if len(r) > 2 and "direct" in r[2]:
            direct_printed.extend(aliases)
        if len(r) > 2 and "direct" in r[2]:
            direct.add(fold(canon))
    vocab: dict[str, list] = {}
    for r in _read_tsv("citation_vocab.tsv"):
        vocab.setdefault(r[0], []).append(r[1:])
    places = {fold(r[0]) for r in _read_tsv("citation_places.tsv")}
    after, before = [], []
    for r in _read_tsv("citation_status.tsv"):
        rx = re.compile(r[1], re.I)
        (after if r[0] == "after" else before).append((rx, r[2], r[3] if len(r) > 3 and r[3] else None))

    t = Tables(
        type_by_form=type_by_form, type_by_code=type_by_code, generic_forms=generic,
        suffix=suffix, suffix_re=suffix_re, orgs=orgs, direct_orgs=direct,
        heads=[v[0] for v in vocab.get("head", [])], stops=[v[0] for v in vocab.get("stop", [])],
        abbrev=[(re.compile(r"(?<![\w.])" + re.escape(v[0]) + (r"(?!\w)" if v[0][-1].isalnum() else "")), v[1])
                for v in sorted(vocab.get("abbrev", []), key=lambda v: -len(v[0]))],
        fixes=[(re.compile(v[0]), v[1] if len(v) > 1 else "") for v in vocab.get("fix", [])],
        notdoc=[v[0] for v in vocab.get("notdoc", [])], levels=[v[0] for v in vocab.get("level", [])],
        connectors=[v[0] for v in vocab.get("list", [])], central_cities=places,
        status_after=after, status_before=before,
    )
    forms = _alt(plain_forms)
    t.type_before = fast_compile(r"(?<!\w)(?P<type>(?i:" + forms + r"))(?:\s+(?i:s[ốo])\s*:?|\s*:)?\s*$")
    t.named_before = fast_compile(r"(?<!\w)(?P<type>(?i:" + _alt(named_forms) + r"))"
                                r"(?P<name>(?:\s+[^\s\d,;.:()/]+){0,12}?)\s+(?i:s[ốo])\s*:?\s*$")
    t.type_word_re = re.compile(r"(?:" + _alt([f for f in plain_forms + named_forms if f[0].isupper()]) + r")(?!\w)")
    t.header_re = fast_compile(r"(?<!\w)(?i:các)\s+(?P<type>(?i:" + _alt(plain_forms + named_forms) + r"))"
                             r"\s+(?:của|do)\s+(?P<org>[^:;.\n\t]{3,150}?)\s*:\s*$")
    t.org_known = re.compile(r"(?:" + _alt(printed) + r")(?!\w)", re.I)
    t.org_direct = re.compile(r"(?:" + _alt(direct_printed + ["Hội nghị"]) + r")(?!\w)")
    t.org_head = re.compile(r"(?:" + _alt(t.heads) + r")(?!\w)")
    t.stop_re = re.compile(r"(?:" + _alt(t.stops) + r")(?![\w/])")
    t.level_re = re.compile(r"(?:" + _alt(t.levels) + r")(?!\w)")
    t.level_end_re = re.compile(r"(?<!\w)(" + _alt(t.levels) + r")$")
    nation = [v[0] for v in vocab.get("nation", [])]
    # a steering board's subject "về ..." up to the level or national word that closes the name
    t.subject_tail_re = re.compile(r"\s+về\s+(?!việc\b)[^;.:()\n“”\"]{3,160}?(?=\s(?:"
                                   + _alt(t.levels + nation) + r")(?!\w))")
    t.nation_re = re.compile(r"\s(?:" + _alt(nation) + r")(?!\w)")
    t.notdoc_re = fast_compile(r"(?<!\w)(?:" + _alt(t.notdoc) + r")(?:\s+(?i:s[ốo])\s*:?)?\s*$")
    t.tight_gap = re.compile(r"^\s*(?:" + _alt(t.connectors) + r")?\s*$")
    return t


# =========================================================================== stage 1: symbols

_CODE = r"[A-ZĐÐ][A-ZĐÐ0-9&]*[a-z]{0,2}[A-ZĐÐ0-9&]*"
# between codes: "-" or "/"; "QĐ- UBND" (a line wrapped after the hyphen) only before an all-capital code
# ("QĐ- TTg": a capital code may end in one lower-case letter, as the Thủ tướng's "TTg")
_JOIN = r"(?:[-/]|-\s(?=[A-ZĐÐ][A-ZĐÐ0-9&]+[a-z]?(?![\w/])))"
# The look-behind ("no word, / . - before the number") is written after the first digit, so the
# pattern starts with a digit and the regex engine skips ahead to digits. A number may carry one
# decimal sub-number right before the "/" ("Nghị quyết số 66.2/2025/NQ-CP", a resolution split in parts).
SYMBOL_RE = re.compile(
    r"(?P<num>\d(?<![\w/.\-]\d)\d{0,4}(?:\.\d(?=/))?[a-z]?)"
    r"(?:"
    r"\s?/\s?(?P<year>(?:19|20)\d{2})\s?/\s?(?P<c1>" + _CODE + r"(?:" + _JOIN + _CODE + r")*)"
    r"|\s?/\s?(?P<c2>" + _CODE + r"(?:" + _JOIN + _CODE + r")*)"
    r"|-(?P<pt>" + _CODE + r")/(?P<pi>" + _CODE + r"(?:" + _JOIN + _CODE + r")*)"
    r")(?![\w/])"
)


@dataclass
class SymbolMatch:
    start: int
    end: int
    symbol: str                 # spaces removed, as printed
    number: str
    year: Optional[str]
    type_code: Optional[str]    # folded ("QD", "NQ") when the symbol carries one
    issuer_codes: tuple         # folded codes after the type code ("CP",), ("BNV",), ("UBND", "NC")
    party: bool                 # "01-NQ/TU" shape


_SPACE_RUN = re.compile(r"\s+")
_CODE_SPLIT = re.compile(r"[-/]\s?")


def find_symbols(text: str) -> list[SymbolMatch]:
    t = tables()
    out = []
    for m in SYMBOL_RE.finditer(text):
        raw = m.group(0)
        symbol = _SPACE_RUN.sub("", raw).replace("Ð", "Đ")
        if m.group("c1") is not None:
            codes, party = _CODE_SPLIT.split(m.group("c1")), False
        elif m.group("c2") is not None:
            codes, party = _CODE_SPLIT.split(m.group("c2")), False
        else:
            codes, party = [m.group("pt")] + _CODE_SPLIT.split(m.group("pi")), True
        fc = [fold_code(c) for c in codes]
        if fc[0] in t.type_by_code and (len(fc) > 1 or party):
            type_code, issuers = fc[0], tuple(fc[1:])
        else:
            type_code, issuers = None, tuple(fc)
        out.append(SymbolMatch(m.start(), m.end(), symbol, m.group("num"), m.group("year"),
                               type_code, issuers, party))
    return out


# =========================================================================== stage 2: type word

@dataclass
class _Mention:
    start: int
    sym: SymbolMatch
    type: Optional[str]
    typed: bool                       # a type word was printed
    end: int = 0                      # end of the printed mention (symbol/date/issuer)
    date: Optional[str] = None
    issuer: Optional[str] = None
    issuer_src: Optional[str] = None  # explicit | trailing | header | list | same | suffix | plan
    title: Optional[str] = None
    tail: int = 0                     # end of the title (or the mention)
    status: Optional[str] = None
    evidence: Optional[str] = None
    relation: Optional[dict] = None
    id: str = ""


def read_type(text: str, sym: SymbolMatch, floor: int) -> Optional[tuple[int, Optional[str], bool]]:
    """(mention start, type, typed) for a symbol, or None when the symbol is not a reference
    (the plan's own "Số:" line, a form "Mẫu số 01/BC", ...)."""
    t = tables()
    lo = max(floor, sym.start - 200)
    window = text[lo:sym.start]
    cut = max(window.rfind("\n"), window.rfind("\t"))
    if cut >= 0 and not window[cut + 1:].strip():     # the symbol opens a line: look at the line before
        cut = max(window.rfind("\n", 0, cut), window.rfind("\t", 0, cut))
    if cut >= 0:
        lo, window = lo + cut + 1, window[cut + 1:]
    implied = _implied_type(sym)
    found = [x for x in (t.type_before.search(window), t.named_before.search(window)) if x]
    m = min(found, key=lambda x: x.start()) if found else None
    if m is not None:
        typ = t.type_by_form[fold(_SPACES.sub(" ", m.group("type")))]
        if fold(_SPACES.sub(" ", m.group("type"))) in t.generic_forms:
            typ = implied if implied and implied != typ else typ
        return lo + m.start(), typ, True
    # no type word: the plan's own header line, a non-document, or a bare symbol in a list
    if _NUMBER_LABEL_END.search(window):
        return None
    if t.notdoc_re.search(window):
        return None
    w = _WORD_BEFORE_NUMBER.search(window)
    if w and fold_code(w.group(1)) in t.type_by_code and w.group(1).isupper():   # "QĐ số 12/QĐ-UBND"
        typ = t.type_by_code[fold_code(w.group(1))]
        if typ == "Công văn" and implied:
            typ = implied
        return lo + w.start(), typ, True
    if w and w.group(1).lower() not in ("và", "hoặc"):
        return None
    if implied is None:
        return None
    return sym.start, implied, False


def _implied_type(sym: SymbolMatch) -> Optional[str]:
    t = tables()
    if sym.type_code:
        return t.type_by_code[sym.type_code]
    s = lookup_suffix(sym)
    if s and s.implied_type:
        return s.implied_type
    if not sym.party and sym.year is None and len(sym.issuer_codes) >= 2:
        return "Công văn"  # "221/VPCP-KSTT": issuer code + unit code, the công văn shape
    return None


# =========================================================================== stage 3: date, issuer, title

_DATE_RE = re.compile(
    r"\s*,?\s*(?:ban\s+hành\s+)?ngày\s*"
    r"(?:(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s*,?\s+năm\s+(?P<y2>\d{4})"
    r"|tháng\s+(?P<m3>\d{1,2})\s+năm\s+(?P<y3>\d{4})"
    r"|/\s*(?P<m4>\d{1,2})\s*/\s*(?P<y4>\d{4}))(?!\d)", re.I)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def read_date(text: str, pos: int) -> tuple[Optional[str], int]:
    """The "ngày dd/mm/yyyy" / "ngày d tháng m năm yyyy" right at ``pos``: (ISO or None, end)."""
    m = _DATE_RE.match(text, pos)
    if not m:
        return None, pos
    if m.group("y") or m.group("y2"):
        d, mo, y = (int(m.group("d") or m.group("d2")), int(m.group("m") or m.group("m2")),
                    int(m.group("y") or m.group("y2")))
        if 1 <= mo <= 12 and 1 <= d <= _DAYS[mo - 1] and not (mo == 2 and d == 29 and y % 4):
            return f"{y:04d}-{mo:02d}-{d:02d}", m.end()
        return None, m.end()
    mo, y = int(m.group("m3") or m.group("m4")), int(m.group("y3") or m.group("y4"))
    return (f"{y:04d}-{mo:02d}" if 1 <= mo <= 12 else None), m.end()


_ORDINAL = re.compile(r"[^\S\n\t]+lần\s+thứ\s+[^\s,;:.()]+(?=\s)")
_TOKEN = re.compile(r"[^\S\n\t]*(\([^()\n\t]{1,14}\)|T[Pp]\.|TX\.|[^\s,;:.()“”\"\t\n–\-]+|[,;:.()“”\"\t\n–\-])")


# the post of a minister or head who signs for the body named after it
_POST = re.compile(r"(?:Bộ trưởng|Thủ trưởng|Chủ nhiệm|Tổng Kiểm toán|Thống đốc)[^\S\n\t]+(?=[A-ZĐ])")


def parse_org(text: str, pos: int, direct: bool = False) -> Optional[tuple[str, int]]:
    """The name of an issuing body starting at ``pos``: (name as printed, end), or None.
    ``direct``: the name follows a date without "của", only national bodies are accepted."""
    t = tables()
    if direct:
        m = t.org_direct.match(text, pos)
        if not m:
            return None
    k = t.org_known.match(text, pos)
    post = None if k else _POST.match(text, pos)
    if post:
        # "của Bộ trưởng Bộ Lao động - Thương binh và Xã hội": the minister signs for the ministry, whose
        # known name (with its " - ") follows the post
        k = t.org_known.match(text, post.end())
    if k and text[pos].isupper():
        end = k.end()
        if fold(k.group(0)).startswith("so "):   # a provincial Sở: its place may follow
            end = _place_tail(text, end)
        m = re.match(r"\s+kh[oó]a\s+[IVXLC]+(?!\w)", text[end:end + 20])
        if m:
            end += m.end()
        return text[pos:end], end
    if not t.org_head.match(text, pos):
        return None
    end, n, seen_level, i = pos, 0, False, pos
    while n < 16:
        o = _ORDINAL.match(text, i)           # "Hội nghị lần thứ năm Ban Chấp hành Trung ương"
        if o:
            end = i = o.end()
            continue
        m = _TOKEN.match(text, i)
        if not m:
            break
        tok, tstart = m.group(1), m.start(1)
        if tok.startswith("("):
            if re.fullmatch(r"\([A-ZĐ][\w.]*\)", tok):
                end = i = m.end()
                continue
            break
        if len(tok) == 1 and not tok.isalnum():
            break
        if tok[0].isdigit() or t.stop_re.match(text, tstart) or t.type_word_re.match(text, tstart):
            break
        if seen_level and not (tok[0].isupper() or tok[0].isdigit()):
            break
        if t.level_re.match(text, tstart):
            lv = t.level_re.match(text, tstart)
            end = i = lv.end()
            seen_level = True
            n += 1
            continue
        end = i = m.end()
        n += 1
    if end == pos:
        return None
    if not seen_level:
        end = _subject_tail(text, pos, end)
    return text[pos:end], end


# a steering board or council named by its subject: "Ban Chỉ đạo về phát triển khoa học, công nghệ, ...
# và chuyển đổi số tỉnh" -- the "về ..." is part of the name when a level word closes it
_SUBJECT_NAMED = re.compile(r"(?:Ban Chỉ đạo|Hội đồng|Tiểu ban|Tổ công tác)(?:\s+[A-ZĐ]\w*)*$")


def _subject_tail(text: str, pos: int, end: int) -> int:
    if not _SUBJECT_NAMED.search(re.sub(r"\s+", " ", text[pos:end])):
        return end
    flat = text.replace("\n", " ")   # same offsets
    t = tables()
    m = t.subject_tail_re.match(flat, end)
    if not m or t.type_word_re.search(m.group(0)):
        return end
    if t.level_re.match(flat, m.end() + 1):
        return _place_tail(flat, m.end())
    q = t.nation_re.match(flat, m.end())
    return q.end() if q else end


def _place_tail(text: str, pos: int) -> int:
    """Extend a name over "tỉnh X" / "thành phố X" (capitalised place words)."""
    t = tables()
    m = _INLINE_SPACE.match(text[pos:pos + 3])
    if not m:
        return pos
    lv = t.level_re.match(text, pos + m.end())
    if not lv:
        m2 = _CITY_ABBREV.match(text[pos:pos + 8])
        if not m2:
            return pos
        end = pos + m2.end()
    else:
        end = lv.end()
    j = end
    while True:
        w = _NEXT_NAME_WORD.match(text[j:j + 40])
        if not w or t.type_word_re.match(text, j + w.start(1)) or t.org_head.match(text, j + w.start(1)):
            break
        j += w.end()
    return j


def read_issuer(text: str, pos: int) -> tuple[Optional[str], int]:
    """"của X" (or a national body named right after the date) at ``pos``: (X as printed, end)."""
    m = _OF.match(text[pos:pos + 12])
    if m:
        r = parse_org(text, pos + m.end())
        if r:
            return r
        return None, pos
    m = _SPACES.match(text[pos:pos + 4])
    if m:
        r = parse_org(text, pos + m.end(), direct=True)
        if r:
            return r
    return None, pos


_TITLE_START = re.compile(r"\s*,?\s*(?:về\s+việc|về|V/v)\s+", re.I)
_TRAILING_CONNECTOR = re.compile(r"(?:[\s,:;]|\b(?:và|hoặc|tại|theo|của)\b)+$")
_TITLE_END = re.compile(r"[;\n\t(]|\.(?:\s|$)|”\s*[,;]")


def read_title(text: str, pos: int, limit: int) -> tuple[Optional[str], int, int]:
    """The "về ..." subject after a mention: (title, title start, title end)."""
    m = _TITLE_START.match(text, pos)
    if not m:
        return None, pos, pos
    s = m.end()
    e = _TITLE_END.search(text, s, min(limit, s + 400))
    end = e.start() if e else min(limit, s + 400)
    t = tables()
    for c in _COMMA_LIST.finditer(text[s:end]):
        if t.type_word_re.match(text, s + c.end()):
            end = s + c.start()
            break
    end = s + len(_TRAILING_CONNECTOR.sub("", text[s:end]))
    if end <= s:
        return None, pos, pos
    return text[s:end], s, end


# =========================================================================== issuer names

def canonical_issuer(raw: str, ctx: CitationContext) -> Optional[str]:
    """A printed issuer as a full canonical name: abbreviations expanded, "(UBND)" and "khóa XII"
    dropped, known names spelled as in the table, "tỉnh"/"Tỉnh ủy" completed with the plan's province."""
    return _canonical_issuer(raw, ctx.issuer, ctx.province, ctx.issuer_kind, ctx.own_number)


@lru_cache(maxsize=4096)
def _canonical_issuer(raw: str, *ctx_fields) -> Optional[str]:
    ctx = CitationContext(*ctx_fields)
    t = tables()
    s = " ".join(raw.split()).strip(" ,;:")
    for rx, rep in t.fixes:
        s = rx.sub(rep, s).strip()
    for rx, exp in t.abbrev:
        s = rx.sub(exp, s)
    s = " ".join(s.split()).strip(" ,;:")
    if not s or not s[0].isupper():
        return None
    k = t.org_known.match(s)
    if k and s[0].isupper():
        canon = t.orgs.get(fold(_SPACES.sub(" ", k.group(0))))
        if canon:
            s = canon + s[k.end():]
    return _complete_place(s, ctx)


def _complete_place(s: str, ctx: CitationContext) -> str:
    t = tables()
    prov = ctx.province
    central = bool(prov) and fold(prov) in t.central_cities
    words = s.split()
    low = fold(s)
    if re.search(r"(?:tinh|thanh) uy$", low) and prov:
        return s + " " + prov
    m = t.level_end_re.search(s)
    if m:
        level = m.group(1)
        name = _plan_place(level, ctx)
        if name:
            return s + " " + name
        return s
    if words and words[0] == "Sở" and prov and not t.level_re.search(s):
        return s + (" thành phố " if central else " tỉnh ") + prov
    return s


def _plan_place(level: str, ctx: CitationContext) -> Optional[str]:
    """The place name for a bare level word: the plan issuer's own unit of that level, else the province."""
    t = tables()
    if ctx.issuer:
        m = re.search(r"(?<!\w)" + re.escape(level) + r"\s+([A-ZĐÀ-Ỹ][^\s,;]*(?:\s+[A-ZĐÀ-Ỹ][^\s,;]*){0,3})",
                      ctx.issuer)
        if m:
            return m.group(1)
    if ctx.province:
        central = fold(ctx.province) in t.central_cities
        if level == "tỉnh" or (level == "thành phố" and central):
            return ctx.province
    return None


def _place_phrase(ctx: CitationContext) -> tuple[Optional[str], Optional[str]]:
    """("tỉnh X" | "thành phố X", "Tỉnh ủy X" | "Thành ủy X") for the plan's province."""
    if not ctx.province:
        return None, None
    if fold(ctx.province) in tables().central_cities:
        return "thành phố " + ctx.province, "Thành ủy " + ctx.province
    return "tỉnh " + ctx.province, "Tỉnh ủy " + ctx.province


def plan_is_provincial(ctx: CitationContext) -> bool:
    """The plan is issued by a province-level body (UBND tỉnh, a Sở, the Văn phòng UBND tỉnh, ...)."""
    if ctx.issuer_kind in ("ubnd_huyen", "ubnd_xa", "huyen", "xa", "phong"):
        return False
    if not ctx.issuer or not ctx.province:
        return ctx.issuer_kind == "ubnd_tinh"
    t = tables()
    if re.match(r"(?:Ban Thường vụ |Ban Chấp hành Đảng bộ )?(?:Tỉnh ủy|Thành ủy)\s", ctx.issuer):
        party = re.sub(r"^.*?(?:Tỉnh ủy|Thành ủy)\s+", "", ctx.issuer)
        return ctx.issuer.find("Tỉnh ủy") >= 0 or fold(party) in t.central_cities
    lv = t.level_re.search(ctx.issuer)
    if not lv:
        return False
    if lv.group(0) == "tỉnh":
        return True
    return lv.group(0) == "thành phố" and fold(ctx.province) in t.central_cities and \
        fold(ctx.issuer[lv.end():]).strip().startswith(fold(ctx.province))


def lookup_suffix(sym: SymbolMatch) -> Optional[_Suffix]:
    t = tables()
    keys = []
    if sym.issuer_codes:
        i0 = sym.issuer_codes[0]
        if sym.type_code:
            keys.append(sym.type_code + ("/" if sym.party else "-") + i0)
        keys.append(i0)
    for k in keys:
        if k in t.suffix:
            return t.suffix[k]
    for k in keys[-1:]:
        for rx, s in t.suffix_re:
            if rx.fullmatch(k):
                return s
    return None


def suffix_issuer(sym: SymbolMatch, ctx: CitationContext) -> Optional[str]:
    """The issuer the symbol's code implies (``issuer_suffixes.tsv``), scoped to the plan."""
    s = lookup_suffix(sym)
    if s is not None:
        if s.scope == "national":
            return s.issuer
        place, party = _place_phrase(ctx)
        if s.scope == "plan_level" and not plan_is_provincial(ctx):
            return None
        if place is None:
            return re.sub(r"\s*\{(?:place|party)\}", "", s.issuer).strip() or (
                "Tỉnh ủy" if "{party}" in s.issuer else None)
        return s.issuer.replace("{place}", place).replace("{party}", party)
    # a code that abbreviates the plan's own issuer ("KH-VP" in a plan of the Văn phòng UBND tỉnh)
    if ctx.issuer and sym.issuer_codes:
        code = sym.issuer_codes[0]
        if len(code) >= 2 and initials(_expand(ctx.issuer)).startswith(code):
            return ctx.issuer
    return None


def _expand(name: str) -> str:
    for rx, exp in tables().abbrev:
        name = rx.sub(exp, name)
    return name


def compatible(sym: SymbolMatch, issuer: str, ctx: CitationContext) -> bool:
    """The issuer code of the symbol abbreviates ``issuer`` (or the table maps it there)."""
    if not sym.issuer_codes:
        return False
    code = sym.issuer_codes[0]
    if initials(_expand(issuer)).startswith(code):
        return True
    s = lookup_suffix(sym)
    if s is not None:
        guess = suffix_issuer(sym, ctx)
        return bool(guess) and fold(guess) == fold(issuer)
    return False


# =========================================================================== the pipeline

def find_citations(text: str, ctx: CitationContext, page_at: Optional[Callable[[int], Optional[int]]] = None
                   ) -> list[LegalRef]:
    """Every numbered document a plan's normalized text cites, one ``LegalRef`` per mention (r1, r2, ...)."""
    if ctx is None:
        ctx = CitationContext(None, None, None, None)
    mentions = _mentions(text, ctx)
    _shared_dates(text, mentions)
    _titles(text, mentions, ctx)
    _header_issuers(text, mentions, ctx)
    _list_issuers(text, mentions)
    _same_symbol(mentions)
    for m in mentions:
        if m.issuer is None:
            m.issuer = suffix_issuer(m.sym, ctx)
            m.issuer_src = "suffix" if m.issuer else None
    _same_symbol(mentions)
    for i, m in enumerate(mentions, 1):
        m.id = f"r{i}"
    read_statuses(text, mentions)
    out = []
    for m in mentions:
        out.append(LegalRef(
            id=m.id, text=text[m.start:m.end], type=m.type, number=m.sym.number, symbol=m.sym.symbol,
            date=m.date, issuer=m.issuer,
            span=Span(m.start, m.end, page_at(m.start) if page_at else None),
            status_in_text=m.status, relation=m.relation, title=m.title, evidence=m.evidence))
    return out


_AND_NUMBER = re.compile(r"^\s*(?:,|và|hoặc)\s+(?:(?i:s[ốo])\s*)?$")


def _shared_dates(text: str, ms: list[_Mention]) -> None:
    """"số 008/CĐ-UBND và số 009/CĐ-UBND ngày 19/11/2025": numbers of one series (same code after the
    number) joined by "và số" share the date printed after the last of them."""
    for i in range(len(ms) - 2, -1, -1):
        a, b = ms[i], ms[i + 1]
        if a.date is None and a.issuer is None and b.date \
                and a.sym.symbol.split("/", 1)[-1] == b.sym.symbol.split("/", 1)[-1] \
                and _AND_NUMBER.match(text[a.end:b.start]):
            a.date = b.date


def refs_in_span(refs: list[LegalRef], start: int, end: int) -> list[str]:
    """Ids of the references whose span lies inside [start, end)."""
    return [r.id for r in refs if r.span is not None and r.span.start >= start and r.span.end <= end]


def _own(sym: SymbolMatch, ctx: CitationContext) -> bool:
    own = ctx.own_number
    return bool(own and _DIGIT.search(own)) and fold_code(own) == fold_code(sym.symbol)


_YEAR_ONLY = re.compile(r"\s+năm\s+(?:19|20)\d{2}(?!\d)(?=\s*,?\s*của\s)")
_KEM_THEO = re.compile(r"^\W*(?:Ban\s+hành\s+)?[Kk][èe]m\s+theo\b")


def _mentions(text: str, ctx: CitationContext) -> list[_Mention]:
    out: list[_Mention] = []
    floor = 0
    for sym in find_symbols(text):
        got = read_type(text, sym, floor)
        floor = sym.end
        if got is None or _own(sym, ctx):
            continue
        start, typ, typed = got
        line_start = max(text.rfind("\n", 0, start), text.rfind("\t", 0, start)) + 1
        if _KEM_THEO.match(text, line_start) and start - line_start < 40:
            continue
        m = _Mention(start=start, sym=sym, type=typ, typed=typed)
        m.date, pos = read_date(text, sym.end)
        if m.date is None:                       # "Nghị quyết số 02/NQ-CP năm 2024 của ..." (a year is no date)
            y = _YEAR_ONLY.match(text, pos)
            pos = y.end() if y else pos
        raw, ipos = read_issuer(text, pos)
        if raw:
            m.issuer = canonical_issuer(raw, ctx)
            m.issuer_src = "explicit" if m.issuer else None
            pos = ipos
        m.end = m.tail = pos
        floor = pos
        out.append(m)
    return out


def _titles(text: str, ms: list[_Mention], ctx: CitationContext) -> None:
    """"về ..." subjects, and an issuer that closes the last subject of a list
    ("... về Chuyển đổi số của Văn phòng UBND tỉnh.")."""
    for i, m in enumerate(ms):
        limit = ms[i + 1].start if i + 1 < len(ms) else len(text)
        title, s, e = read_title(text, m.end, limit)
        if not title:
            continue
        m.title, m.tail = title, e
        if m.issuer is None:
            for c in reversed(list(re.finditer(r"\s+của\s+", title))):
                r = parse_org(text, s + c.end())
                if not r or text[r[1]:e].strip(" ,"):
                    continue
                name = canonical_issuer(r[0], ctx)
                if name and compatible(m.sym, name, ctx):
                    m.issuer, m.issuer_src = name, "trailing"
                    m.title = title[:c.start()].strip() or None
                break


def _same_sentence(text: str, a: int, b: int) -> bool:
    return not re.search(r"\.(?:\s|$)|\n", text[a:b])


def _header_issuers(text: str, ms: list[_Mention], ctx: CitationContext) -> None:
    """"các Nghị quyết của Ban cán sự Đảng UBND tỉnh: Nghị quyết số ...; Nghị quyết số ..." """
    t = tables()
    for i, m in enumerate(ms):
        lo = ms[i - 1].tail if i else 0
        h = t.header_re.search(text, max(lo, m.start - 200), m.start)
        if not h or h.end() != m.start:
            continue
        org = parse_org(text, h.start("org"))
        if not org:
            continue
        name = canonical_issuer(org[0], ctx)
        typ = t.type_by_form.get(fold(re.sub(r"\s+", " ", h.group("type"))))
        for n in ms[i:]:
            if n.type != typ or not _same_sentence(text, m.start, n.start):
                break
            if n.issuer is None:
                n.issuer, n.issuer_src = name, "header"


def _list_issuers(text: str, ms: list[_Mention]) -> None:
    """Members of one list without their own issuer take the issuer printed at its end:
    tight lists ("NĐ số 107/2020/NĐ-CP ngày .., NĐ số 108/2020/NĐ-CP ngày .. của Chính phủ") and
    lists closed by an issuer after the last subject ("...; KH số 249/KH-VP ... về ... của Văn phòng UBND tỉnh")."""
    t = tables()
    for j, m in enumerate(ms):
        if m.issuer_src not in ("explicit", "trailing"):
            continue
        code = m.sym.issuer_codes[:1]
        k = j - 1
        while k >= 0:
            p, nxt = ms[k], ms[k + 1]
            if p.sym.issuer_codes[:1] != code or p.issuer_src in ("explicit", "trailing", "header"):
                break
            if m.issuer_src == "explicit":
                if p.title or not t.tight_gap.match(text[p.end:nxt.start]):
                    break
            elif not _same_sentence(text, p.end, nxt.start) or p.type != m.type:
                break
            p.issuer, p.issuer_src = m.issuer, "list"
            k -= 1


def _same_symbol(ms: list[_Mention]) -> None:
    """The same symbol cited again is the same document: missing date/issuer come from the fullest mention."""
    groups: dict[str, list[_Mention]] = {}
    for m in ms:
        groups.setdefault(fold_code(m.sym.symbol), []).append(m)
    rank = {"explicit": 4, "trailing": 3, "header": 3, "list": 2, "same": 1, "suffix": 1, "plan": 1}
    for g in groups.values():
        if len(g) < 2:
            continue
        date = next((m.date for m in g if m.date and len(m.date) == 10), None) or \
            next((m.date for m in g if m.date), None)
        best = max(g, key=lambda m: (rank.get(m.issuer_src or "", 0), m.date is not None))
        typed = next((m.type for m in g if m.typed), None)
        for m in g:
            if not m.typed and typed:
                m.type = typed   # "theo Quy chế phối hợp 49/QCPH-..." (no "số"): the type printed at its first mention
            if m.date is None and date:
                m.date = date
            if m.issuer is None and best.issuer:
                m.issuer, m.issuer_src = best.issuer, "same"


# =========================================================================== stage 5: statuses

_INVERSE = {"amended_by": "amends", "replaced_by": "replaces", "abolished_by": "abolishes"}
_THIS = re.compile(r"(?i:quyết định|kế hoạch|nghị quyết|nghị định|thông tư|chỉ thị|quy định|quy chế|văn bản)"
                   r"\s+này\b[^.;\n]{0,160}?$")


@lru_cache(maxsize=256)
def _status_before_at_end(pattern: str) -> re.Pattern:
    """A status_before phrase that ends right before a mention ("... bãi bỏ [các]")."""
    return fast_compile(r"(?<!\w)(?:" + pattern + r")\s+(?i:các\s+)?$", re.I)


def read_statuses(text: str, ms: list[_Mention]) -> None:
    """What the text says about a cited document: expired, abolished, replaced, amended."""
    t = tables()
    for i, m in enumerate(ms):
        nxt = ms[i + 1] if i + 1 < len(ms) else None
        # "X ... đã hết hiệu lực", "X (được sửa đổi, bổ sung tại Y)"
        for pos in dict.fromkeys((m.end, m.tail)):
            g = _STATUS_GAP.match(text[pos:pos + 12])
            at = pos + g.end()
            for rx, status, rel in t.status_after:
                s = rx.match(text, at)
                if not s:
                    continue
                if m.status is None:
                    m.status, m.evidence = status, _clean(text[m.start:s.end()])
                if rel and nxt and not text[s.end():nxt.start].strip(" :*"):
                    m.relation = {"kind": rel, "ref": nxt.id}
                    if nxt.relation is None:
                        nxt.relation = {"kind": _INVERSE[rel], "ref": m.id}
                break
            if m.status:
                break
        if m.status:
            continue
        # "Quyết định này thay thế Quyết định số X", "Y bãi bỏ X"
        lo = max(ms[i - 1].tail if i else 0, m.start - 220)
        before = text[lo:m.start]
        for rx, status, rel in t.status_before:
            s = _status_before_at_end(rx.pattern).search(before)
            if not s:
                continue
            subj = before[:s.start()]
            prev = ms[i - 1] if i else None
            if prev and prev.tail >= lo and not text[prev.tail:lo + s.start()].strip(" ,*") and \
                    not re.search(r"\b(?:tham mưu|xây dựng|trình|đề xuất|dự thảo)\b", subj, re.I):
                ref = prev.id
            elif _THIS.search(subj):
                ref = None
            else:
                break
            for n in _list_from(text, ms, i):
                n.status = status
                n.evidence = _clean(text[lo + s.start():n.end])
                if rel:
                    n.relation = {"kind": rel, "ref": ref}
            if ref is not None and prev.relation is None and rel:
                prev.relation = {"kind": _INVERSE[rel], "ref": m.id}
            break


def _list_from(text: str, ms: list[_Mention], i: int) -> list[_Mention]:
    t = tables()
    out = [ms[i]]
    for k in range(i + 1, len(ms)):
        if ms[k].status or not t.tight_gap.match(text[ms[k - 1].tail:ms[k].start]):
            break
        out.append(ms[k])
    return out


def _clean(s: str) -> str:
    return _SPACES.sub(" ", s.replace("*", "")).strip(" (,")
