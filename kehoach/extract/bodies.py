"""Body names (cơ quan, đơn vị): recognise them, split lists of them, and give
them their full canonical form (abbreviations expanded, leader titles dropped).

Vocabularies live in data tables: ``body_heads.tsv`` (words a body name starts
with), ``abbreviations.tsv``, ``owner_words.tsv`` (words that end an owner
phrase), ``body_compounds.tsv`` (names never split).
"""
from __future__ import annotations

import re
from functools import lru_cache

from kehoach.extract.data import fast_compile, first_letter_alternation, rows, table_words, word_alternation
from kehoach.extract.nlp import body_at_start, may_hold_body   # spaCy itself loads on first use

_WORD = r"[\wÀ-ỹđĐ&]"

# compiled once (a pattern string given to re.sub/re.match at run time costs a cache look-up a call)
_SPACES = re.compile(r"\s+")
_GENERIC_HEAD = re.compile(r"^(?:Các|Tất cả các|Tất cả|Mỗi)\s+")
_PLURAL_HEAD = re.compile(r"^(?:các|Các|tất cả|Tất cả)\s")
_PLURAL_START = re.compile(r"(?i:các|những|tất cả)\s")
_LIST_BREAK = re.compile(r"\s*;\s*|\n+")
_DASH_ITEM = re.compile(r"^\s*[-–+•]\s")
_SPACED_DASH = re.compile(r"\s[-–]\s(?=[A-ZĐÀ-Ỹ])")
_DASH_SPLIT = re.compile(r"(?:^|\s)[-–+•]\s+")
_JOINERS = re.compile(r"(,\s+|\s+[vV]à\s+|\s+với\s+|\s+cùng\s+)")
_GIAO_HEAD = re.compile(r"^(?:Giao cho|Giao)\s+")


@lru_cache(maxsize=1)
def _abbrev_re():
    table = sorted(rows("abbreviations.tsv"), key=lambda r: -len(r[0]))
    mapping = {a: e for a, e in table}
    pat = "|".join(re.escape(a) for a, _ in table)
    return fast_compile(rf"(?<![\w&])({pat})(?![\w&])"), mapping


def expand_abbreviations(s: str) -> str:
    rx, mapping = _abbrev_re()
    out = rx.sub(lambda m: mapping[m.group(1)] + (" " if m.group(1).endswith(".") else ""), s)
    return " ".join(out.split())


@lru_cache(maxsize=1)
def _heads():
    heads = sorted(rows("body_heads.tsv"), key=lambda r: -len(r[0]))
    false = [w for (w,) in rows("body_head_false.tsv")]
    not_false = rf"(?!{_first_letter_any(false)}(?!{_WORD}))"
    head_any = re.compile(rf"^{not_false}{_first_letter_any([h for h, _ in heads])}(?!{_WORD})")
    upper = [h for h, _ in heads if h[0].isupper() and h not in ("Các", "Tất cả", "Mỗi", "Toàn thể")]
    head_upper = re.compile(rf"^{not_false}{_first_letter_any(upper, fold=False)}(?!{_WORD})")
    kinds = [(re.compile(rf"^(?:[{h[0].upper()}{h[0].lower()}]{re.escape(h[1:])})(?!{_WORD})"), k) for h, k in heads]
    return head_any, head_upper, kinds


def _first_letter_any(words: list[str], fold: bool = True) -> str:
    return first_letter_alternation(words, fold)


@lru_cache(maxsize=1)
def _stops():
    # the words of word_alternation("owner_words.tsv", "verb", "prep"), in its order, under their first letters
    return fast_compile(r"(?<![\wÀ-ỹđĐ])" + first_letter_alternation(table_words("owner_words.tsv", "verb", "prep"))
                        + r"(?![\wÀ-ỹđĐ])")


@lru_cache(maxsize=1)
def _narrowed() -> re.Pattern:
    """'là tổ chức' closing a body's name or followed by its gloss, list or colon (owner_words.tsv narrow)."""
    return re.compile(r"\blà (?:" + word_alternation("owner_words.tsv", "narrow") + r")(?=\s*(?:$|[(,:;]|và\b|hoặc\b))")


@lru_cache(maxsize=1)
def _compounds():
    return [expand_abbreviations(r[0]).lower() for r in rows("body_compounds.tsv")]


def head_length(s: str) -> int:
    """Length of the body head word(s) at the start of ``s`` (0 when none)."""
    m = _heads()[0].match(s.lstrip())
    return m.end() + (len(s) - len(s.lstrip())) if m else 0


def starts_with_body(s: str) -> bool:
    return bool(_heads()[0].match(s.lstrip()))


def kind_of(name: str) -> str:
    s = canonical(name)
    s2 = _drop_head(_GENERIC_HEAD, s)
    if s2 != s:
        return "generic"
    m = _kind_heads().match(s)
    return _heads()[2][m.lastindex - 1][1] if m else "other"


@lru_cache(maxsize=1)
def _kind_heads() -> re.Pattern:
    """The heads of ``_heads()[2]`` in one alternation, a group each: the first in table order that
    matches is the one matched (``lastindex`` numbers it)."""
    return re.compile("^(?:" + "|".join(f"({rx.pattern[1:]})" for rx, _k in _heads()[2]) + ")")


def _starts_item(s: str) -> bool:
    """Does ``s`` start a new body in a list (a capitalised head, or 'các ...')?"""
    s = s.lstrip()
    if _PLURAL_HEAD.match(s):
        return True
    return bool(_heads()[1].match(s)) or (s + " ").startswith(_list_heads())


@lru_cache(maxsize=1)
def _list_heads() -> tuple[str, ...]:
    return tuple(r[0] + " " for r in rows("body_list_heads.tsv"))


def split_bodies(s: str) -> list[str]:
    """Split a list of bodies: ';', newlines and list dashes always; ',' / 'và' / 'với'
    only before a word that starts a body ("Phòng Nội chính và Trung tâm ..." is two,
    "Trung tâm Xúc tiến đầu tư, thương mại và Du lịch" is one)."""
    s = s.strip()
    if not s:
        return []
    parts: list[str] = []
    chunks = _LIST_BREAK.split(s)
    out_chunks = []
    for c in chunks:
        if _DASH_ITEM.match(c) or _SPACED_DASH.search(c) and c.lstrip().startswith("-"):
            out_chunks.extend(x for x in _DASH_SPLIT.split(c) if x.strip())
        else:
            out_chunks.append(c)
    for c in out_chunks:
        c = expand_abbreviations(c).strip(" .,:;")
        if not c:
            continue
        low = c.lower()
        for comp in _compounds():  # protect names that must not be split
            i = low.find(comp)
            if i >= 0:
                c = c[:i] + c[i:i + len(comp)].replace(" và ", " \x01 ").replace(",", "\x02") + c[i + len(comp):]
                low = c.lower()
        # ("Và" capitalised where a table cell's line starts: "Bộ Ngoại giao\nVà các cơ quan ... liên quan")
        pieces = _JOINERS.split(c)
        cur = pieces[0]
        i = 1
        while i < len(pieces):
            sep, nxt = pieces[i], pieces[i + 1]
            if _starts_item(nxt):
                parts.append(cur)
                cur = nxt
            else:
                cur = cur + sep + nxt
            i += 2
        parts.append(cur)
    parts = [p.replace(" \x01 ", " và ").replace("\x02", ",") for p in parts]
    return [p.strip(" .,:;") for p in parts if p.strip(" .,:;")]


@lru_cache(maxsize=1)
def _name_fixes() -> list[tuple[str, re.Pattern, str]]:
    """(the misspelling's opening up to any "-", its pattern at word boundaries with a "-" spaced or not,
    the right spelling): a fix is tried only when that opening is in the name."""
    return [(bad.split("-")[0].rstrip(), re.compile(r"\b" + re.escape(bad).replace(r"\-", r"\s*-\s*") + r"\b"), good)
            for bad, good in rows("body_name_fixes.tsv")]


_LEADER = re.compile(
    r"^(?:Giao cho|Giao|giao|Đề nghị|đề nghị|Yêu cầu|yêu cầu|Thủ trưởng|thủ trưởng|Trưởng|trưởng|Người đứng đầu|người đứng đầu|"
    r"Giám đốc|giám đốc|Chánh|chánh)\s+(?=(?:các|Các|cơ quan|Cơ quan|Sở|sở|Văn phòng|Phòng|phòng|đơn vị|Đơn vị|Ban|ban|Trung tâm|"
    r"Thanh tra)\b)")
_CHU_TICH = re.compile(r"^(?:Chủ tịch|chủ tịch)\s+(?=(?:UBND|Ủy ban nhân dân)\b)")
_NOTE = re.compile(r"\s*\((?:[^()]{0,100})\)\s*$")


def _drop_head(rx: re.Pattern, s: str) -> str:
    """``rx.sub("", s)`` for a pattern anchored at the start ("^..."): it can only match there."""
    m = rx.match(s)
    return s[m.end():] if m else s


def strip_leader(s: str) -> str:
    """The body a post or an assigning verb stands before: "Giao Giám đốc Sở Tài chính" -> "Sở Tài chính",
    "Chánh Thanh tra tỉnh" -> "Thanh tra tỉnh"."""
    for _ in range(2):
        s = _drop_head(_LEADER, s)
    return s


def canonical(name: str) -> str:
    """Full canonical form of one body name as written (no province added)."""
    s = name.strip(" \t.,;:-–")
    if ")" in s:
        s = _NOTE.sub("", s)
    s = _drop_head(_GIAO_HEAD, s)
    for _ in range(2):
        s = _drop_head(_LEADER, s)
        s = _drop_head(_CHU_TICH, s)
    s = expand_abbreviations(s)
    for bad, rx, good in _name_fixes():
        if bad in s:
            s = rx.sub(good, s)
    s = " ".join(s.split()).strip(" .,;:")
    if s[:1].islower():
        s = s[0].upper() + s[1:]
    return s


def _standard_name_end(s: str) -> int:
    """Length of a standard body name (spaCy EntityRuler over the gazetteer) at the start of ``s``."""
    return body_at_start(s) if may_hold_body(s) else 0


# A stop word right after a plural or quantifier word is a noun, part of the name: "các tổ chức chính trị -
# xã hội", "những đơn vị", "mọi tổ chức" ("tổ chức" is a verb only as the head of a predicate).
_NOUN_BEFORE = re.compile(r"(?:^|[\s,(])(?:các|những|mọi|từng)\s+$", re.I)


def _first_stop(s: str):
    low = s[0].lower() + s[1:] if s else s
    skip = _standard_name_end(s)
    rx = _stops()
    m = rx.search(low, skip)
    while m is not None and (_NOUN_BEFORE.search(low, max(0, m.start() - 12), m.start())
                             and low[m.start():m.end()] in _NOUN_STOPS
                             or _NOMINAL_BEFORE.search(low, max(0, m.start() - 12), m.start())
                             or any(c.start() < m.end() and m.start() < c.end()
                                    for c in _NOUN_COMPOUND.finditer(low, max(0, m.start() - 8), m.end() + 16))
                             or low.startswith("là ", m.start()) and _narrowed().match(low, m.start())):
        n = _narrowed().match(low, m.start()) if low.startswith("là ", m.start()) else None
        m = rx.search(low, n.end() if n else m.end())
    return m


# nouns that hold a stop word: "bầu cử", "ứng cử", "cử tri", "công trình", "được phân công nhiệm vụ" ("Ban bầu cử", "Ủy ban bầu cử của tỉnh")
_NOUN_COMPOUND = re.compile(r"(?:bầu|ứng|đề) cử\b|\bcử tri\b|\bcông trình\b|\btổ chức(?:,| và| hoặc) cá nhân\b|\bcá nhân(?:,| và| hoặc) tổ chức\b|\bđược (?:phân công|giao) (?:nhiệm vụ|chủ trì|thực hiện)")


# a verb after these words is a noun ("công tác tham mưu", "việc thực hiện"): it does not end the subject
_NOMINAL_BEFORE = re.compile(r"(?:^|[\s,(])(?:công tác|việc)\s+$")

# stop words that are also nouns naming bodies ("các tổ chức", "đơn vị quản lý")
_NOUN_STOPS = frozenset({"tổ chức", "lập", "cử"})


def is_body_phrase(s: str, max_words: int = 16) -> bool:
    """A clean body name: starts with a body head and holds no verb of the owner stop list
    (a verb inside a standard name, "Phòng Quản lý xây dựng", does not count)."""
    s = s.strip()
    if not s or len(s.split()) > max_words or not starts_with_body(_drop_head(_LEADER, s)):
        return False
    return _first_stop(s) is None


def owner_phrase_end(s: str) -> int:
    """Length of the owner phrase at the start of ``s``: it ends at the first verb,
    modal or preposition of the stop list (lower case) or at ':'."""
    m = _first_stop(s)
    end = m.start() if m else len(s)
    colon = s.find(":")
    if 0 <= colon < end:
        end = colon
    return end


# a level qualifier closing a list that each bare member before it shares: "cấp ủy, chính quyền các cấp" is
# "cấp ủy các cấp" and "chính quyền các cấp" (a member with its own qualifier, "Ủy ban nhân dân tỉnh", keeps it)
_SHARED_LEVEL = re.compile(r"\s(?:các cấp|cùng cấp)$")


@lru_cache(maxsize=1)
def _place_tail() -> re.Pattern:
    """The level and place that close a body's name (citation_vocab.tsv level): "Sở Văn hóa và Thể thao |
    tỉnh, thành phố trực thuộc Trung ương", "Phòng Kinh tế | cấp xã"."""
    return re.compile(r"\s(?:cấp\s)?(?:" + word_alternation("citation_vocab.tsv", "level") + r")(?:\s|,|$).*$")


def _alternatives(p: str) -> list[str]:
    """Two names of one body joined by "/" (the body is named differently from place to place: "Sở Văn hóa,
    Thể thao và Du lịch/Sở Văn hóa và Thể thao tỉnh, thành phố trực thuộc Trung ương") are two owners, the
    place closing the last one closing the others too."""
    names = [x.strip() for x in re.split(r"\s*/\s*(?=[A-ZĐ])", p)]
    if len(names) < 2 or not all(starts_with_body(x) for x in names):
        return [p]
    tail = _place_tail().search(names[-1])
    return [x + tail.group(0) if tail and not _place_tail().search(x) else x for x in names[:-1]] + names[-1:]


def bodies(s: str) -> list[str]:
    """Split and canonicalise, dropping empty names and duplicates (order kept)."""
    out: list[str] = []
    parts = [x for p in split_bodies(s) for x in _alternatives(p)]
    m = _SHARED_LEVEL.search(parts[-1]) if len(parts) > 1 else None
    if m:
        parts = [p + m.group(0) if len(p.split()) <= 2 and not _PLURAL_START.match(p)
                 and not _SHARED_LEVEL.search(p) else p for p in parts[:-1]] + parts[-1:]
    for p in parts:
        c = canonical(p)
        if c and c not in out and len(c) > 2:
            out.append(c)
    return out
