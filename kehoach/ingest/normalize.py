"""Text normalization shared by every reader: Unicode NFC, one tone-mark
convention, whitespace, and the line/paragraph rules (hard wraps, page splits).

Pure functions over strings; readers keep the provenance.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

# ---------------------------------------------------------------- characters

# a run of spaces that is not already one plain space: the runs that clean_inline rewrites
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")

# Old-style ("hoá", "thuỷ") -> new-style ("hóa", "thủy") tone placement, the
# convention of current official texts. Only open syllables move their mark:
# "hoàn", "quý", "khuya" are left alone.
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook, dot below
_OLD_TONE = re.compile(
    r"(?<![qQ])([oO])([aAeE])([" + _TONES + r"])(?![a-zA-Zà-ỹÀ-Ỹđ\u0300-\u036f])"
    r"|(?<![qQ])([uU])([yY])([" + _TONES + r"])(?![a-zA-Zà-ỹÀ-Ỹđ\u0300-\u036f])"
)


def _move_tone(m: re.Match) -> str:
    if m.group(1):
        return m.group(1) + m.group(3) + m.group(2)
    return m.group(4) + m.group(6) + m.group(5)


# old-style syllables as they look in NFC text ("hoá", "thuỷ"): only then is the NFD rewrite needed.
# No ASCII letter may follow (one of _open_syllable_at's tests, cheap in the pattern): "hoàn",
# "toàn", "quát" are no candidates, and _open_syllable_at runs on a fifth as many pairs.
_OLD_NFC = re.compile(r"[oOuU][àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ](?![a-zA-Z])")
_TONED_AE = frozenset("àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸ")
_TONED_Y = frozenset("ỳýỷỹỵỲÝỶỸỴ")


def _open_syllable_at(s: str, i: int) -> bool:
    """Whether the NFC pair at ``i`` ("oá", "uý") is one that _OLD_TONE rewrites: not after
    "q", an o with a/e or a u with y, and not followed by a letter or mark ("hoàn" is left
    alone), as _OLD_TONE's look-ahead sees it in NFD (on the first character of the next
    one's decomposition)."""
    if i > 0 and s[i - 1] in "qQ":
        return False
    if (s[i + 1] in _TONED_AE) != (s[i] in "oO"):
        return False
    if i + 2 >= len(s):
        return True
    c = s[i + 2]
    if not c.isascii():
        c = unicodedata.normalize("NFD", c)[0]
    if c.isascii():
        return not c.isalpha()
    return not (0xC0 <= ord(c) <= 0x1EF9)   # à-ỹ, À-Ỹ, đ and the combining marks of _OLD_TONE


def _has_old_tone(s: str) -> bool:
    return any(_open_syllable_at(s, m.start()) for m in _OLD_NFC.finditer(s))


def normalize_tones(s: str) -> str:
    """NFC text with the tone mark on the main vowel of oa/oe/uy syllables."""
    if not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    if not _has_old_tone(s):
        return s
    d = unicodedata.normalize("NFD", s)
    # keep circumflex/breve/horn on their vowel: only plain o+a/e and u+y pairs are rewritten
    d = _OLD_TONE.sub(_move_tone, d)
    return unicodedata.normalize("NFC", d)


# letters that look like đ/Đ and are not Vietnamese: Latin-1's eth (text decoded as Latin-1, typed with a Western
# layout or a font that maps Đ there: "ÐIỀU", "Ðồng Tháp") and the African D; no Vietnamese word holds them
_LOOKALIKES = str.maketrans({"\u00d0": "Đ", "\u00f0": "đ", "\u0189": "Đ"})
_LOOKALIKE_CHARS = re.compile("[\u00d0\u00f0\u0189]")


def fold_lookalikes(s: str) -> str:
    """``s`` with the look-alikes of đ/Đ (``_LOOKALIKES``) as the Vietnamese letters."""
    return s.translate(_LOOKALIKES) if _LOOKALIKE_CHARS.search(s) else s


# hyphens other than U+002D: Word's non-breaking hyphen (U+2011, also in PDFs and pages made from Word files),
# the Unicode hyphen, figure dash, minus sign and full-width hyphen; and, inside a document's symbol only, the
# dashes typed or mapped in its place ("12/KH–UBND", "06/QĐ\u00adTTg": an en or em dash, or a soft hyphen
# that a PDF's text layer gives for the hyphen glyph)
_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2212\ufe63\uff0d", "-"))
_SYMBOL_DASH = re.compile(r"(?<=\d/)((?:\d{4}/)?[A-ZĐ][A-ZĐa-z&]*)\s?[\u2013\u2014\u00ad]\s?(?=[A-ZĐ])")


def clean_inline(s: str) -> str:
    """One paragraph or cell: NFC, tone convention, look-alike letters folded, hyphens unified, invisible chars
    dropped, spaces collapsed, syllables run together split (``split_glued``)."""
    s = _SYMBOL_DASH.sub(r"\1-", s.translate(_HYPHENS))
    s = _INVISIBLE.sub("", s)
    s = fold_lookalikes(s)
    s = normalize_tones(s)
    s = _SPACES.sub(" ", s)
    return split_glued(s.strip())


# ---------------------------------------------------------------- syllables run together
# Some portals drop the space where their HTML had a tag boundary or a line end ("Kếhoạch", "Sở Kế hoạchvà Đầu
# tư", "theoQuyết định", "BANHÀNH", "TTHCtrên"), and some PDFs' text layers do the same. Every Vietnamese
# syllable has one run of vowels, so a word with two runs that is no syllable itself but reads as two or three
# syllables of underthesea's word list is split. When it reads more than one way, the reading in the fewest
# syllables, then the one that makes the most words of the list with the words beside it, wins ("dịch vụcông" ->
# "vụ công", not "vục ông"; "BANHÀNH" -> "BAN HÀNH", not "BANH ÀNH"); a tie is left alone, and so is a word with no Vietnamese
# letter unless its reading is a word of the list ("anninh" -> "an ninh", never "online"). An abbreviation
# run into a syllable splits where the case changes ("TTHCtrên", "hiệnTTHC"; not "VNeID", "iPhone").
_VOWELS = "".join(sorted({c for c in map(chr, range(0x41, 0x1EFA))
                          if c.isalpha() and unicodedata.normalize("NFD", c)[0].lower() in "aeiouy"}))
_TWO_VOWEL_RUNS = re.compile(rf"[{_VOWELS}][^{_VOWELS}\W\d_]+[{_VOWELS}]", re.IGNORECASE)
_VIET_LETTER = re.compile(r"[\u0300-\u0323đĐ]")
_LETTER_RUN = re.compile(r"[^\W\d_]{4,}")
_VOWEL_RE = re.compile(f"[{_VOWELS}]")
_LETTER_RUN_ANY = re.compile(r"[^\W\d_]*")
_TONE_MARK = re.compile("[\u0300\u0301\u0303\u0309\u0323]")
_TONED = "".join(c for c in _VOWELS if _TONE_MARK.search(unicodedata.normalize("NFD", c)))
_TWO_TONED = re.compile(f"[{_TONED}][^\\W\\d_]*[{_TONED}]")
_UPPER = "".join(c for c in map(chr, range(0x41, 0x1EFA)) if c.isalpha() and c.isupper())
_LOWER = "".join(c for c in map(chr, range(0x61, 0x1EFA)) if c.isalpha() and c.islower())
_MIXED_CASE = re.compile(f"[{_LOWER}][{_UPPER}]|[{_UPPER}]{{2}}[{_LOWER}]")
_WORD_AROUND = re.compile(r"([^\W\d_]+)\s?$"), re.compile(r"\s?([^\W\d_]+)")


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(syllables, one-syllable words, two-syllable words) of underthesea's word list and the provinces' names
    ("Đắk Lắk" is not in the list), in this module's tone convention. A syllable has a vowel: the list also holds
    letters and abbreviations ("nh", "v")."""
    if not _word_list():
        return frozenset(), frozenset(), frozenset()
    words = [normalize_tones(w) for w in _word_list()] + _province_words()
    syllables = frozenset(x for w in words for x in w.split() if _VOWEL_RE.search(x))
    return (syllables, frozenset(w for w in words if w in syllables),
            frozenset(w for w in words if w.count(" ") == 1))


def _province_words() -> list[str]:
    """The names (and aliases) of ``kehoach/data/provinces.tsv``, lower case, in this module's tone convention."""
    from kehoach.extract.data import rows  # the project's one TSV loader (imported late: ingest stays a leaf)
    out = []
    for cols in rows("provinces.tsv"):
        out += [normalize_tones(n.strip().lower()) for n in [cols[0]] + (cols[3].split("|") if len(cols) > 3 else [])
                if n.strip()]
    return out


def _readings(w: str, syllables: frozenset[str], depth: int = 3) -> list[list[str]]:
    """The ways ``w`` (lower case) reads as 2..``depth`` syllables."""
    out = []
    for i in range(1, len(w)):
        head, rest = w[:i], w[i:]
        if head not in syllables:
            continue
        if rest in syllables:
            out.append([head, rest])
        if depth > 2:
            out += [[head] + r for r in _readings(rest, syllables, depth - 1)]
    return out


def _case_parts(w: str, syllables: frozenset[str]) -> Optional[list[str]]:
    """An abbreviation and a syllable run together, cut where the case changes ("TTHCtrên", "hiệnTTHC"): every
    part an abbreviation of 2+ capitals or a syllable of 2+ letters in one case."""
    cuts = []
    for i in range(1, len(w)):
        if w[i - 1].islower() and w[i].isupper():
            cuts.append(i)                      # "hiệnTTHC", "củaỦy"
        elif w[i].islower() and i >= 2 and w[i - 1].isupper() and w[i - 2].isupper():
            # "TTHCtrên"; but "ÔLoan": the last capital opens the syllable
            rest = _LETTER_RUN_ANY.match(w, i).group(0)
            cuts.append(i - 1 if (w[i - 1] + rest).lower() in syllables else i)
    if not cuts:
        return None
    parts = [w[a:b] for a, b in zip([0] + cuts, cuts + [len(w)])]
    for p in parts:
        if p.isupper() and len(p) >= 2:
            continue                            # an abbreviation
        low = p.lower()
        if low not in syllables or not (p == low or p[0].isupper() and p[1:] == low[1:]) \
                or len(p) < 2 and not p.isupper():
            return None        # "VNeID", "MobiFone", "eKYC", "iPhone": a name, not two words
    return parts


def _split_word(s: str, m: re.Match) -> str:
    w = m.group(0)
    lw = w.lower()
    syllables, singles, pairs = _lexicon()
    if lw in syllables:
        return w
    case = _case_parts(w, syllables)
    if case:
        return " ".join(case)
    if not _TWO_VOWEL_RUNS.search(lw) and len(_TONE_MARK.findall(unicodedata.normalize("NFD", lw))) < 2:
        return w            # one run of vowels and one tone mark at most: one syllable ("dựán" has two marks)
    readings = _readings(lw, syllables)
    if not readings:
        return w
    before = _WORD_AROUND[0].search(s[max(0, m.start() - 24):m.start()])    # bounded: lines may be long
    after = _WORD_AROUND[1].match(s, m.end())
    left = [before.group(1).lower()] if before else []
    right = [after.group(1).lower()] if after else []

    def score(r: list[str]) -> tuple[int, int, int]:
        seq = left + r + right
        return (-len(r), sum(f"{a} {b}" in pairs for a, b in zip(seq, seq[1:])), sum(x in singles for x in r))
    scored = sorted(((score(r), r) for r in readings), reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return w
    (_, words, _), best = scored[0]
    if not words and not _VIET_LETTER.search(unicodedata.normalize("NFD", lw)):
        return w
    out, at = [], 0
    for part in best:
        out.append(w[at:at + len(part)])
        at += len(part)
    return " ".join(out)


def split_glued(s: str) -> str:
    """Syllables run together split again ("Kếhoạch" -> "Kế hoạch", "hoạchvà" -> "hoạch và"); see above."""
    if not _TWO_VOWEL_RUNS.search(s) and not _MIXED_CASE.search(s) and not _TWO_TONED.search(s):
        return s
    return _LETTER_RUN.sub(lambda m: _split_word(s, m), s)


def clean_cell(s: str) -> str:
    """A table cell: like clean_inline, but its own line breaks are kept (lists in a cell)."""
    lines = [clean_inline(x) for x in s.replace("\r", "\n").split("\n")]
    return "\n".join(x for x in lines if x)


# ---------------------------------------------------------------- structure of lines

# a narrow column breaks a word or number that does not fit its width where the edge falls ("phườn" / "g",
# "Chuyể" / "n", "Quý IV/202" / "5"): a line that opens with letters and no vowel (every Vietnamese syllable
# has one) ends the word before it, and one that opens with digits ends a date or number cut after "/" or "."
_WORD_TAIL = re.compile(r"^[bcdđghklmnpqrstvx]{1,3}(?=[\s,.;:)]|$)")
_NUMBER_CUT = re.compile(r"(?:[/.]\d{0,3})$")
# ... and a document's symbol cut inside its codes ("06/QĐ-T" / "Tg", "223/CĐ-T" / "Tg"): the rest is letters with
# no vowel
_SYMBOL_CUT = re.compile(r"\d/(?:\d{4}/)?[A-ZĐ]+(?:-[A-ZĐ]+)?$")
_CODE_TAIL = re.compile(r"^[BCDĐGHKLMNPQRSTVXbcdđghklmnpqrstvx]{1,4}(?=[\s,.;:)]|$)")


_EDGE_WORDS = re.compile(r"(\w+)$"), re.compile(r"^(\w+)")


@lru_cache(maxsize=1)
def _word_list() -> tuple[str, ...]:
    """underthesea's word list (Viet74K, read from the installed package's data without importing it: the import
    costs a second), lower case; empty when it is not there."""
    import importlib.util
    import os
    spec = importlib.util.find_spec("underthesea")
    for base in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(base, "corpus", "data", "Viet74K.txt")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return tuple(line.strip().lower() for line in f if line.strip())
    return ()


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """The syllables of underthesea's word list, as written there."""
    return frozenset(s for w in _word_list() for s in w.split())


def _split_syllable(prev: str, line: str) -> bool:
    """The last word of ``prev`` and the first of ``line`` are one syllable cut in two ("chuy" / "ển"): together a
    syllable, apart not both."""
    a, b = _EDGE_WORDS[0].search(prev), _EDGE_WORDS[1].match(line)
    if not a or not b or not a.group(1).isalpha() or not b.group(1).isalpha() or not b.group(1)[:1].islower():
        return False
    syl = _syllables()
    x, y = a.group(1).lower(), b.group(1)
    return (x + y) in syl and not (x in syl and y in syl)


def cut_in_cell(prev: str, line: str) -> bool:
    """``line`` is the rest of the word, number or document symbol the cell's line ``prev`` ends with (or opens
    with the punctuation that closes it: "quy hoạch" / ")")."""
    if not prev:
        return False
    if line[:1] in ",.;:)]”":
        return True
    if prev[-1].isalpha() and _WORD_TAIL.match(line):
        return True                                  # "phườn" / "g"
    if line[:1].isdigit() and prev[-1] != "." and _NUMBER_CUT.search(prev):
        return True                                  # "Quý IV/202" / "5"
    if _SYMBOL_CUT.search(prev) and _CODE_TAIL.match(line):
        return True                                  # "06/QĐ-T" / "Tg"
    return _split_syllable(prev, line)               # "chuy" / "ển"


# a page's number as a footer or header prints it: "3", "- 3 -", "(3)", "3/10", "Trang 3", "Page 3 / 10"; with the
# word (PAGE_LABEL), which no paragraph of a plan is: a footer pasted with the text wherever it stood
_PAGE_NO = r"\s*[-–(]?\s*\d{1,4}\s*[-–)]?(?:\s*/\s*\d{1,4})?$"
PAGE_NUMBER = re.compile(r"^(?:trang|page)?" + _PAGE_NO, re.I)
PAGE_LABEL = re.compile(r"^(?:trang|page)" + _PAGE_NO, re.I)

# A line that starts a new item: headings and list markers of Vietnamese administrative texts.
BULLET = r"[-+*•–—]"       # a dash or bullet item marker
ITEM_START = re.compile(
    r"^(?:"
    r"(?:PHẦN|Phần|CHƯƠNG|Chương|MỤC|Mục|ĐIỀU|Điều)\s+[\dIVXLC]+"
    r"|[IVXLC]{1,6}[.)]\s"
    r"|\d{1,2}(?:\.\d{1,2}){0,4}[.)]\s"
    r"|\d{1,2}(?:\.\d{1,2}){1,4}\s"
    r"|[a-zđ][)/]\s"
    r"|[a-zđ]\.\s+[A-ZĐÀ-Ỹ]"
    r"|" + BULLET + r"\s?\S"
    r"|Nơi nhận"
    r")"
)
_TERMINAL = re.compile(r"[.;:!?…]\s*[\"”’)*]*$|\./\.$")
# words a paragraph cannot end on: a line ending with one of them was cut
_DANGLING = {
    "của", "và", "các", "những", "về", "tại", "số", "với", "cho", "trong", "ngày", "tháng", "năm",
    "để", "là", "đến", "từ", "do", "được", "có", "trên", "giữa", "hoặc", "như", "thuộc", "nhằm", "bằng",
    "đối", "việc",
}


# a legal-reference unit after a preposition waits for its number ("... các nội dung tại điểm" / "1 Công
# văn này"; NĐ 30/2020 cites "điểm a khoản 1 Điều 5"): an OCR that lost the number leaves the unit dangling
_REF_UNIT_END = re.compile(r"\b(?:tại|theo|của|ở|và|hoặc|thuộc)\s+(?:điểm|khoản|điều|mục|tiết|chương|phụ lục)\s*$", re.I)


def awaits_reference(line: str) -> bool:
    """The line ends on a legal-reference unit after a preposition ("... quy định tại khoản"): its number
    (or the cited text) is on the next line, whatever that line starts with."""
    return _REF_UNIT_END.search(line) is not None


def dangles(line: str) -> bool:
    """The line ends on a word a paragraph cannot end on (``_DANGLING``), or ``awaits_reference``."""
    p = re.sub(r"[*_]+$", "", line.rstrip())
    return bool(p.split()) and (p.split()[-1] in _DANGLING or awaits_reference(p))


_OPENER = re.compile(r"^(Căn cứ|Thực hiện|Theo|Để|Nhằm|Trên cơ sở|Xét|Triển khai|Kính gửi|Nơi nhận|PHỤ LỤC|Phụ lục)\b")


_CLOSERS = "\"”’)*"


def ends_sentence(line: str) -> bool:
    """``_TERMINAL`` at the end of the line, tested from the end: closing quotes and brackets,
    then spaces, then a sentence mark ("./." ends with one too)."""
    t = line.rstrip().rstrip(_CLOSERS).rstrip()
    return bool(t) and t[-1] in ".;:!?…"


def is_item_start(line: str) -> bool:
    return bool(ITEM_START.match(line.lstrip()))


@lru_cache(maxsize=1)
def _field_lines() -> tuple[re.Pattern, re.Pattern]:
    """(opens, closes): the national form's field lines (``kehoach/data/field_lines.tsv``)."""
    from kehoach.extract.data import rows  # the project's one TSV loader (imported late: ingest stays a leaf)
    got: dict[str, list[str]] = {"opens": [], "closes": []}
    for r in rows("field_lines.tsv"):
        got[r[0]].append(r[1])
    return tuple(re.compile("(?:" + "|".join(f"(?:{p})" for p in got[k]) + ")", re.I) for k in ("opens", "closes"))


def ends_field(line: str) -> bool:
    """The line is a whole field of the national form ("Số: 12/KH-UBND", the Quốc hiệu): nothing joins it."""
    return bool(_field_lines()[1].match(line.strip()))


def field_break(prev: str, cur: str) -> bool:
    """A paragraph must end between ``prev`` and ``cur``: ``cur`` opens a field of the national form
    ("Số:", "V/v", Quốc hiệu, Tiêu ngữ, the place-and-date line, "Kính gửi", "Nơi nhận") or ``prev``
    is a whole field line ("Số: 12/KH-UBND", the Quốc hiệu)."""
    opens, closes = _field_lines()
    return bool(opens.match(cur.strip()) or closes.match(prev.strip()))


def continues(prev: str, nxt: str) -> bool:
    """True when ``nxt`` is the rest of the paragraph ``prev`` that a page break (or a
    blank line in extracted text) cut in two."""
    p, n = prev.rstrip(), nxt.lstrip()
    if not p or not n or ends_sentence(p) or is_item_start(n):
        return False
    first = n[0]
    if first.islower():
        return True
    if first.isdigit():  # "ngày\n\n20/5/2020 của ..." but not "2. Mục tiêu"
        return True
    if _OPENER.match(n):
        return False
    return dangles(p)  # as written: an upper-case heading never dangles


def wrap_width(lines: list[str]) -> int:
    """The width at which a text was hard-wrapped (0 when it was not)."""
    lens = sorted(len(x.rstrip()) for x in lines if x.strip())
    if len(lens) < 8:
        return 0
    w = lens[int(0.95 * (len(lens) - 1))]
    if w > 160 or w < 30:
        return 0
    near = sum(1 for n in lens if n >= 0.75 * w)
    return w if near >= 0.3 * len(lens) else 0


# a list marker alone on its line ("II.", "2.", "a)", "-"): the item's text is on the next line
NUMBER_MARKER = r"(?:[IVXLC]{1,6}|\d{1,3}(?:\.\d{1,3}){0,4}|[a-zđ])[.)]"      # "II.", "2.1.", "a)"
_BARE_MARKER = re.compile(r"^(?:" + NUMBER_MARKER + "|" + BULLET + r")$")


_LETTER_RUN = re.compile(r"[^\W\d_]{2,}")


def upper_case(s: str, words: int = 0) -> bool:
    """Upper-case words (a heading's line: "II. DỰ BÁO", "CÁC CHỈ TIÊU KINH TẾ - XÃ HỘI"): every letter upper case,
    two letters or more, and at least ``words`` words of two letters or more ("KẾ HOẠCH" has 2)."""
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and (
        not words or len(_LETTER_RUN.findall(s)) >= words)


def bare_list_marker(line: str) -> bool:
    """A list marker alone on its line ("II.", "2.", "a)", "-")."""
    return _BARE_MARKER.match(line) is not None


_DASH_ITEM = re.compile("^" + BULLET + r"\s")
_DASH_LOWER = re.compile(r"^[-–]\s+(?=[^\W\d_])")


@lru_cache(maxsize=None)
def _wrap_words(kind: str) -> tuple[str, ...]:
    """The words of ``kehoach/data/wrap_words.tsv`` of one kind ("open_end", "paragraph_opener"), longest first."""
    from kehoach.extract.data import rows  # the project's one TSV loader (imported late: ingest stays a leaf)
    return tuple(sorted((r[1] for r in rows("wrap_words.tsv") if r[0] == kind), key=len, reverse=True))


@lru_cache(maxsize=1)
def _open_end() -> re.Pattern:
    """A line ending with a word no sentence, heading or cell ends with ("... giao cho các" / "Sở, ngành ...")."""
    return re.compile(r"(?<![\wÀ-ỹ])(?:" + "|".join(map(re.escape, _wrap_words("open_end"))) + ")$")


@lru_cache(maxsize=1)
def _paragraph_opener() -> re.Pattern:
    """A line opening as a paragraph of a plan's preamble or body does ("Căn cứ", "Thực hiện", "Để", ...)."""
    return re.compile("(?:" + "|".join(map(re.escape, _wrap_words("paragraph_opener"))) + r")\b")


@lru_cache(maxsize=1)
def _dashed_names() -> tuple[tuple[str, str], ...]:
    """(the two words before, the two after) the dash of each body name written with one ("Lao động" / "Thương
    binh", "Tài chính" / "Kế hoạch"), from the gazetteer and the aliases."""
    from kehoach.extract.data import rows  # the project's one TSV loader (imported late: ingest stays a leaf)
    out = set()
    for table in ("body_gazetteer.tsv", "body_aliases.tsv", "citation_orgs.tsv"):
        for row in rows(table):
            for name in row[:2]:
                if " - " in name:
                    left, right = name.split(" - ", 1)
                    out.add((" ".join(left.split()[-2:]), " ".join(right.split()[:2])))
    return tuple(sorted(out))


def _dashed_name_cut(prev: str, cur: str) -> bool:
    """``prev`` (no dash item itself) ends with the words before a body name's dash and ``cur`` opens with the dash
    and the words after it: the name was wrapped at its dash."""
    m = _DASH_LOWER.match(cur)
    if m is None or _DASH_ITEM.match(prev):
        return False              # a dash list goes on with its next item
    rest = cur[m.end():]
    return any(prev.endswith(left) and rest.startswith(right) for left, right in _dashed_names())


def _sentence_cut(lines: list[str], i: int, start: int) -> bool:
    """Line ``i - 1`` is a sentence cut where a portal wrapped it, short of the width ("Ban hành kèm theo Quyết định
    này Kế hoạch thực hiện" / "Chương trình phát triển ..."): a paragraph's first line in mixed case, no item, of six
    words or more and no punctuation at its end, before a line in mixed case that is no item either. A heading
    without a marker is shorter, or ends with ":"; one with a marker is an item."""
    prev, cur = lines[i - 1].strip(), lines[i].strip()
    words = prev.split()
    return (i - 1 == start and len(words) >= 6 and words[-1].isalpha() and words[-1].islower()
            and not upper_case(prev) and not is_item_start(prev) and not upper_case(cur) and not is_item_start(cur)
            and not _paragraph_opener().match(cur))


def _dash_lower(line: str) -> bool:
    """A dash then a lower-case word ("- ngân sách nhà nước"): a compound cut at its dash, if no sentence ended."""
    m = _DASH_LOWER.match(line)
    return m is not None and line[m.end():m.end() + 1].islower()


def _cut_first_line(lines: list[str], i: int, width: int) -> bool:
    """Line ``i`` is a paragraph's first line cut short, as portals cut it: capitalised, short of
    the wrap width, and the next line goes on with it (neither blank nor a new item). In text wrapped
    only at the width a short line ends its paragraph, so a short line with more of it after is a cut one."""
    cur = lines[i].strip()
    if not cur[:1].isupper() or upper_case(cur) or len(cur) >= 0.75 * width or i + 1 >= len(lines):
        return False
    nxt = lines[i + 1].strip()
    return bool(nxt) and (not is_item_start(nxt) or _dash_lower(nxt)) and not bare_list_marker(nxt) \
        and not upper_case(nxt)


def _heading_rest(lines: list[str], i: int, width: int) -> bool:
    """Line ``i`` is the rest of a numbered heading cut short on the line before ("2. Sở" / "Khoa học và Công
    nghệ" / "a) ..."): the heading ends no sentence, and line ``i`` is one short line ending none either, right
    before the heading's first sub-item."""
    prev, cur = lines[i - 1].strip(), lines[i].strip()
    if _DASH_ITEM.match(prev) or not is_item_start(prev) or ends_sentence(prev) or upper_case(prev):
        return False
    if not cur[:1].isupper() or ends_sentence(cur) or (width and len(cur) >= 0.75 * width) or i + 1 >= len(lines):
        return False
    nxt = lines[i + 1].strip()
    return bool(nxt) and is_item_start(nxt) and not _dash_lower(nxt)


def join_wrapped(lines: list[str], width: int) -> list[tuple[int, int]]:
    """Group hard-wrapped lines into paragraphs. Returns (first, last) line index pairs.

    A line joins the previous one when the previous one reached the wrap width
    (it was wrapped) and this one does not start a new item, or when this one
    starts in lower case, or when the previous one is a list marker alone, or when both are upper case
    and the previous one opens an item or is more than a short label (a heading or a title wrapped: "II.
    DỰ BÁO" / "CÁC CHỈ TIÊU ..."; not "KẾ HOẠCH" / its title). A capitalised mixed-case line after an
    upper-case one starts a paragraph. Blank lines always end a paragraph."""
    groups: list[tuple[int, int]] = []
    start = None
    for i, line in enumerate(lines):
        if not line.strip():
            if start is not None:
                groups.append((start, i - 1))
                start = None
            continue
        if start is None:
            start = i
            continue
        prev = lines[i - 1].rstrip()
        cur = line.strip()
        wrapped = width and len(prev) >= 0.75 * width
        upper_prev = upper_case(prev)
        # an upper-case line (a heading, a title) ends where a capitalised mixed-case line starts, and starts where
        # a sentence has ended ("... ngày 06/4/2021." / "QUYẾT ĐỊNH:")
        wrapped = wrapped and not (upper_prev and cur[:1].isupper() and not upper_case(cur)) \
            and not (not upper_prev and upper_case(cur) and ends_sentence(prev))
        # a list marker alone on its line ("II." / "NHIỆM VỤ, GIẢI PHÁP") opens an item as a marked line does
        item = is_item_start(cur) or bare_list_marker(cur)
        if item and (_dash_lower(cur) or _dashed_name_cut(prev, cur)) and not ends_sentence(prev) and not upper_prev:
            # a compound cut at its dash: "Kế hoạch tài chính" / "- ngân sách nhà nước", "Theo đề nghị của Sở Lao
            # động" / "- Thương binh và Xã hội tại Tờ trình ..."
            item, wrapped = False, True
        if item and wrapped and not upper_prev and not ends_sentence(prev) and not _DASH_ITEM.match(cur):
            item = False          # a marker at the start of a wrapped line whose sentence goes on ("... cấp độ" / "1. Cấp ngay")
        if not wrapped and not item and _DASH_ITEM.match(prev) and not upper_prev and not upper_case(cur) and (
                (cur[:1] == "(" and not ends_sentence(prev))
                or (prev.endswith(":") and cur[:1].isupper() and width and len(cur) >= 0.75 * width)):
            wrapped = True        # a dash item's cut-short first line, then its rest ("- Giai đoạn khẩn cấp" /
            #                       "(0-48 giờ): Tổ chức ...", "- Giai đoạn 48-72 giờ:" / "Tổ chức bếp ăn ...")
        if wrapped and not item and ends_sentence(prev) and _cut_first_line(lines, i, width):
            wrapped = False       # a sentence ends the wrapped line and a paragraph's cut-short first line follows
        # a comma, or a bracket left open, ends no paragraph or heading ("1. Viện Văn hóa, Nghệ thuật," / "Thể thao và
        # Du lịch Việt Nam", "5. Các chủ rừng là tổ chức (các" / "Ban quản lý rừng ...)")
        goes_on = cur[:1].islower() or prev.endswith(",") or prev.count("(") > prev.count(")") \
            or _open_end().search(prev) is not None or _heading_rest(lines, i, width) \
            or _sentence_cut(lines, i, start)
        join = (wrapped and not item) or (goes_on and not item and not ends_sentence(prev)) \
            or (bare_list_marker(prev.strip()) and not is_item_start(cur)) \
            or (upper_prev and upper_case(cur) and not is_item_start(cur)
                and (is_item_start(prev.strip()) or len(prev.split()) > 3))
        if not join or field_break(prev, cur):
            groups.append((start, i - 1))
            start = i
    if start is not None:
        groups.append((start, len(lines) - 1))
    return groups


# ---------------------------------------------------------------- designations

# "<Loại> số <số hiệu> [trích yếu]", as a portal names a document: "Quyết định số 21/2025/QĐ-TTg Quy định …"
_DESIGNATION = re.compile(r"^\s*([A-ZĐÀ-Ỹ][^\d\s]*(?:\s[^\d\s]+){0,2}?)\s+số\s+(\d{1,5}/(?:\d{4}/)?[A-ZĐ][A-ZĐa-z0-9]*(?:-[A-ZĐa-z0-9]+)*)"
                          r"(?![\w/])\s*(.{0,300}?)\s*$")


def parse_designation(t: str) -> Optional[tuple[str, str, str]]:
    """(kind as written, number, the rest: the trích yếu if any) of a designation, else None."""
    m = _DESIGNATION.match(t)
    return m.groups() if m else None
