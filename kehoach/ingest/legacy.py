"""Legacy Vietnamese font encodings (TCVN3/ABC, VNI Windows) to Unicode.

Before Unicode, Vietnamese was typed in 8-bit fonts: the bytes are Latin-1 code points
that the font draws as Vietnamese letters. Read as Unicode, such text looks like
``Kõ ho¹ch`` (TCVN3) or ``Keá hoaïch`` (VNI). The standard tables are data:

- ``data/tcvn3.tsv``  byte -> letter (single-byte, precomposed). TCVN3 has no toned
  capitals: headings use a caps font (``.VnTimeH``) that draws the lowercase codes as
  capitals, so a caps font name, or a word between all-caps words, restores them.
- ``data/vni.tsv``    letter -> base letter + mark character(s) (``ế`` = ``eá``).

Stages: ``font_encoding`` (a font name says the encoding), ``detect`` (common words as
they look in each encoding, ``data/legacy_encodings.tsv``), ``to_unicode`` (table lookup,
longest match first), ``from_unicode`` (the inverse, used by the tests to build inputs).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Optional

ENCODINGS = ("TCVN3", "VNI")
# Words of plain Unicode Vietnamese: more of these than legacy words means Unicode text.
_UNICODE_WORDS = ("của", "và", "các", "được", "thực", "hiện", "năm", "ngày")
MIN_HITS = 3            # legacy signature words needed before a text is called legacy


def _rows(name: str) -> list[list[str]]:
    text = resources.files("kehoach.data").joinpath(name).read_text("utf-8")
    return [ln.split("\t") for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=None)
def _decode_table(enc: str) -> dict[str, str]:
    """Legacy spelling (as Latin-1 characters) -> Unicode letter."""
    if enc == "TCVN3":
        return {chr(int(b, 16)): u for b, u in _rows("tcvn3.tsv")}
    return {v: u for u, v in _rows("vni.tsv")}


@lru_cache(maxsize=None)
def _encode_table(enc: str) -> dict[str, str]:
    """Unicode letter -> legacy spelling. TCVN3 capitals with a tone take the lowercase
    code (what a caps font draws); capitals without one stay ASCII."""
    table = {u: k for k, u in _decode_table(enc).items()}
    if enc == "TCVN3":
        for u, k in list(table.items()):
            up = u.upper()
            if up not in table and up != u:
                table[up] = k
    return table


@lru_cache(maxsize=None)
def _pattern(enc: str) -> re.Pattern:
    keys = sorted(_decode_table(enc), key=len, reverse=True)
    return re.compile("|".join(re.escape(k) for k in keys))


@lru_cache(maxsize=1)
def _signatures() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for enc, word, _ in _rows("legacy_encodings.tsv"):
        out.setdefault(enc, set()).add(word)
    return {k: frozenset(v) for k, v in out.items()}


def font_encoding(name: Optional[str]) -> Optional[tuple[str, bool]]:
    """(encoding, caps font) for a legacy font name, e.g. ``.VnTime`` -> ("TCVN3", False),
    ``.VnTimeH`` -> ("TCVN3", True), ``VNI-Times`` -> ("VNI", False); None otherwise.
    A PDF subset prefix (``ABCDEF+``) is ignored."""
    if not name:
        return None
    n = name.split("+", 1)[-1].strip()
    low = n.lower()
    if low.startswith(("vni-", "vni ", "vni_")):
        return "VNI", False
    if low.startswith((".vn", "vn")) and not low.startswith(("vni", "vn-")):
        stem = re.split(r"[,\-\s]", n.lstrip("."), maxsplit=1)[0]
        return "TCVN3", len(stem) > 3 and stem.endswith("H")
    return None


def detect(text: str) -> Optional[str]:
    """The legacy encoding a text is in ("TCVN3", "VNI"), or None for Unicode text:
    common words as they look in each encoding, against the same words in Unicode."""
    words = Counter(text[:200_000].split())          # the same tokens as \S+, without the regex
    proper = sum(words[w] for w in _UNICODE_WORDS)
    best, best_n = None, 0
    for enc, sig in _signatures().items():
        n = sum(words[w] for w in sig)
        if n > best_n:
            best, best_n = enc, n
    return best if best_n >= MIN_HITS and best_n > proper else None


def _restore_caps(chars: list[str], lowered: list[bool]) -> str:
    """TCVN3 without a caps font can only write toned letters in lowercase. A word whose
    other letters are all capitals is a capitalised word when it has two capitals or stands
    within two words of a Vietnamese all-caps word on its line (``KÕ HO¹CH`` -> ``KẾ HOẠCH``, but ``KÕ ho¹ch`` -> ``Kế hoạch``)."""
    text = "".join(chars)
    spans = [m.span() for m in re.finditer(r"[^ \t\n]+", text)]

    def kind(a: int, b: int) -> tuple[int, bool, bool]:
        """(capitals, any free lowercase, any Vietnamese letter) of a word."""
        up = sum(chars[i].isupper() for i in range(a, b))
        free_low = any(chars[i].islower() and not lowered[i] for i in range(a, b))
        toned = any(lowered[i] for i in range(a, b)) or (
            any(chars[i].isupper() and not chars[i].isascii() for i in range(a, b))
            and any(unicodedata.normalize("NFD", chars[i])[0] in "AEIOUY" for i in range(a, b)))
        return up, free_low, toned

    kinds = [kind(a, b) for a, b in spans]
    for k, (a, b) in enumerate(spans):
        up, free_low, has_lowered = kinds[k]
        if not has_lowered or free_low or up == 0:
            continue
        near = [kinds[j] for j in (k - 2, k - 1, k + 1, k + 2) if 0 <= j < len(spans)
                and "\n" not in text[min(a, spans[j][0]):max(b, spans[j][1])]]
        # the neighbour is itself a toned all-caps word (not an acronym such as "UBND")
        if up >= 2 or any(u >= 2 and not fl and lw for u, fl, lw in near):
            for i in range(a, b):
                chars[i] = chars[i].upper()
    return "".join(chars)


@lru_cache(maxsize=1)
def _lost_capital_heads() -> Optional[re.Pattern]:
    """Body names (``data/body_heads.tsv``) that start with a toned capital TCVN3 cannot
    write (``Ủy ban nhân dân``): their lowercase spelling is given its capital back."""
    heads = [r[0] for r in _rows("body_heads.tsv")]
    capitals = set(_decode_table("TCVN3").values())
    lost = sorted({h for h in heads if h[:1].isupper() and not h[0].isascii() and h[0] not in capitals},
                  key=len, reverse=True)
    if not lost:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(h[0].lower() + h[1:]) for h in lost) + r")(?!\w)")


def to_unicode(text: str, enc: str, caps: bool = False) -> str:
    """Text in a legacy encoding (its bytes read as Latin-1/Windows-1252) -> NFC Unicode.
    ``caps``: the text is set in a caps font (``.VnTimeH``), every letter is a capital."""
    table = _decode_table(enc)
    if enc == "VNI":
        out = _pattern(enc).sub(lambda m: table[m.group()], text)
    else:
        chars = [table.get(c, c) for c in text]
        capitals = set(table.values())
        lowered = [c in table and table[c].upper() not in capitals for c in text]
        out = _restore_caps(chars, lowered)
        heads = _lost_capital_heads()
        if heads is not None:
            out = heads.sub(lambda m: m.group()[0].upper() + m.group()[1:], out)
    if caps:
        out = out.upper()
    return unicodedata.normalize("NFC", out)


def from_unicode(text: str, enc: str) -> str:
    """Unicode text -> the same text in a legacy encoding (as Latin-1 characters)."""
    table = _encode_table(enc)
    return "".join(table.get(c, c) for c in unicodedata.normalize("NFC", text))


def encode_bytes(text: str, enc: str) -> bytes:
    """Unicode text -> the bytes of a legacy-encoded .txt file (Windows-1252 for punctuation)."""
    s = from_unicode(text, enc)
    out = bytearray()
    for c in s:
        o = ord(c)
        if o < 256:
            out.append(o)
        else:
            try:
                out += c.encode("cp1252")
            except UnicodeEncodeError:
                out += b"?"
    return bytes(out)


def bytes_view(data: bytes) -> str:
    """A legacy file's bytes as the characters its font codes are (Latin-1 code points),
    with Windows-1252 punctuation in 0x80-0x9F (“ ” – …) where legacy fonts leave it."""
    out = []
    for b in data:
        if 0x80 <= b <= 0x9F:
            try:
                out.append(bytes([b]).decode("cp1252"))
                continue
            except UnicodeDecodeError:
                pass
        out.append(chr(b))
    return "".join(out)


def convert_text(text: str) -> tuple[str, Optional[str]]:
    """(Unicode text, encoding converted from or None) for a text of unknown encoding."""
    enc = detect(text)
    if enc is None:
        return text, None
    return to_unicode(text, enc), enc


def warning(enc: str, where: str = "") -> str:
    return f"text{(' ' + where) if where else ''} was in the legacy {enc} font encoding: converted to Unicode"


def looks_legacy(text: str, enc: str) -> bool:
    """Text that can only be ``enc``: it has the encoding's Latin-1 marks and none of the
    letters beyond Latin-1 (ạ, ư, ơ, đ, ...) that Unicode Vietnamese always has."""
    marks = {c for k in _decode_table(enc) for c in k if ord(c) >= 0xA0}
    viet = any(0x100 <= ord(c) < 0x2000 for c in text)
    return not viet and sum(c in marks for c in text) >= 2


def convert_pdf_page(info, hint: Optional[str] = None) -> Optional[str]:
    """A PDF page (``pdf.PageInfo``) whose text layer is in a legacy font encoding: its
    runs and table cells converted in place; the encoding, or None. Detected per page, on
    the page's words; a page with too few words to tell (a table, a signature) follows
    ``hint``, the encoding of the pages before it, when its characters can only be that."""
    segs = [s for ln in info.lines for s in ln.segs]
    text = " ".join(s.text for s in segs) + " " + " ".join(
        c or "" for t in info.tables for r in t.rows for c in r)
    enc = detect(text)
    if enc is None and hint and looks_legacy(text, hint):
        enc = hint
    if enc is None:
        return None
    for s in segs:
        s.text = to_unicode(s.text, enc)
    for t in info.tables:
        t.rows = [[to_unicode(c, enc) if c else c for c in r] for r in t.rows]
    return enc


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _rfonts_name(rpr) -> Optional[str]:
    f = rpr.find(_W + "rFonts") if rpr is not None else None
    if f is None:
        return None
    return f.get(_W + "ascii") or f.get(_W + "hAnsi")


def docx_default_font(document) -> Optional[tuple[str, bool]]:
    """The legacy encoding of a DOCX's default font (docDefaults, then the Normal style), if any."""
    try:
        root = document.part._styles_part.element
    except Exception:
        return None
    name = _rfonts_name(root.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr"))
    for st in root.iter(_W + "style"):
        if st.get(_W + "styleId") == "Normal":
            name = _rfonts_name(st.find(_W + "rPr")) or name
    return font_encoding(name)


def docx_run_text(text: str, rpr, default: Optional[tuple[str, bool]], seen: set[str]) -> str:
    """A DOCX run's text, converted when the run (or, without its own font, the document's
    default font) is a legacy font; the encoding is added to ``seen``."""
    name = _rfonts_name(rpr)
    enc = font_encoding(name) if name else default
    if enc is None or not text:
        return text
    seen.add(enc[0])
    return to_unicode(text, enc[0], enc[1])
