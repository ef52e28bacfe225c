"""Plain-text reader: text as extracted from PDF/DOCX (one paragraph a line,
tables tab-separated) and text copied from web portals (hard-wrapped lines,
the two-column letterhead flattened with lone ``|`` lines, tables one cell a
line between ``|`` lines).

Bounds: ``MAX_TEXT_MB`` on the file (``KEHOACH_MAX_TEXT_MB``, checked before decoding) and
``MAX_LINE_CHARS`` on a line (``KEHOACH_MAX_LINE_CHARS``, checked before the layout).

Encodings: UTF-8 (with or without BOM), UTF-16 (with a BOM, or told by its NUL bytes),
Windows-1258; legacy
TCVN3 (ABC) and VNI font encodings are detected and converted (ingest/legacy.py).
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources

from kehoach.errors import IngestError
from kehoach.ingest.builder import _HEADER_WORDS, DocBuilder, looks_like_header
from kehoach.ingest.normalize import (PAGE_LABEL, PAGE_NUMBER, bare_list_marker, ends_sentence, fold_lookalikes,
                                      is_item_start, join_wrapped, upper_case, wrap_width)
from kehoach.ingest.webtext import (MD_ROW as _MD_ROW, blank_separated, bounded_rows, cell_lines, group_paragraphs,
                                    lead_cell, markdown_rows, pipe_region_end)
from kehoach.models import IngestedDocument

# a lone "|" line (the portal's cell separator) is one whose strip() is "|": the same lines as
# ^\s*\|\s*$ (str.strip and \s take the same white space), without a regex call a line
_EMPH = re.compile(r"\*{1,3}")
_BULLET = re.compile(r"^(\s*)\*\s+")
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+")    # a Markdown heading's marks ("## II. NHIỆM VỤ"), as converters write them
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")   # a Markdown escape ("1\. Mục tiêu", "\- Sở Nội vụ")
_ROWNUM = re.compile(r"^(?:\d{1,3}(?:\.\d{1,2})*\.?|[IVXLC]{1,5}\.?|[a-zđ]\))$")
LEAD_CELL_LINES = 3   # a table's first cell written before its first "|" ("STT" / "|" / "Nội dung") is 1-3 lines
_DOC_TITLE = re.compile(r"^(KẾ HOẠCH|QUYẾT ĐỊNH|CHỈ THỊ|CHƯƠNG TRÌNH|NGHỊ QUYẾT|THÔNG BÁO|CÔNG VĂN|BÁO CÁO|ĐỀ ÁN)\b")


# ---------------------------------------------------------------- decoding

@lru_cache(maxsize=1)
def _legacy_words() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    text = resources.files("kehoach.data").joinpath("legacy_encodings.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        enc, word, _ = line.split("\t")
        out.setdefault(enc, set()).add(word)
    return out


def detect_legacy(text: str) -> str | None:
    """Name of the legacy font encoding the text is in (TCVN3, VNI), or None."""
    words = Counter(re.findall(r"\S+", text[:200_000]))
    proper = sum(words[w] for w in ("của", "và", "các", "được", "thực", "hiện", "năm", "ngày"))
    best, best_n = None, 0
    for enc, sig in _legacy_words().items():
        n = sum(words[w] for w in sig)
        if n > best_n:
            best, best_n = enc, n
    if best_n >= 3 and best_n > proper:
        return best
    return None


# UTF-16 without a BOM (some Windows tools write it): Vietnamese letters are U+00xx or U+1Exx,
# ASCII and Latin-1 ones (spaces, digits, most of the letters) have a NUL high byte. When at
# least this share of the bytes at odd (LE) or even (BE) positions of the first 4 KiB are NUL
# and at most a tenth of the others are, the file is UTF-16 in that byte order.
UTF16_NUL_SHARE = 0.6


def utf16_order(data: bytes) -> str | None:
    """ "utf-16-le" / "utf-16-be" for BOM-less UTF-16 text, told by its NUL bytes in alternate
    positions; None otherwise (binary files have NULs on both sides, or none)."""
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    head = head[:len(head) // 2 * 2]
    even, odd = head[0::2], head[1::2]
    ze, zo = even.count(0) / len(even), odd.count(0) / len(odd)
    if zo >= UTF16_NUL_SHARE and ze <= 0.1:
        order = "utf-16-le"
    elif ze >= UTF16_NUL_SHARE and zo <= 0.1:
        order = "utf-16-be"
    else:
        return None
    try:                                          # and it decodes (no lone surrogates)
        head.decode(order)
    except UnicodeDecodeError:
        return None
    return order


def decode(data: bytes, source: str, warnings: list[str] | None = None) -> str:
    """Bytes of a text file -> Unicode. UTF-8 (BOM or not), UTF-16 (BOM or not), Windows-1258;
    text typed in a TCVN3 (ABC) or VNI font (8-bit, or already mis-read into UTF-8) is
    converted with the standard tables (``ingest/legacy.py``) and a note added to ``warnings``."""
    from kehoach.ingest import legacy
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif order := utf16_order(data):
        text = data.decode(order, errors="replace")
    else:
        if b"\x00" in data[:4096]:
            raise IngestError(source, "binary file, not text (NUL bytes): expected a .txt, .docx or .pdf plan")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raw = legacy.bytes_view(data)          # 8-bit legacy font codes are Latin-1 code points
            if legacy.detect(raw):
                text = raw
            else:
                try:
                    text = data.decode("cp1258")
                except UnicodeDecodeError:
                    raise IngestError(source, "text is neither UTF-8, Windows-1258, TCVN3 nor VNI") from None
    text, enc = legacy.convert_text(text)
    if enc and warnings is not None:
        warnings.append(legacy.warning(enc))
    text = fold_lookalikes(text)                   # "ÐIỀU", "Ðồng Tháp": before the layout's patterns read it
    if not unicodedata.is_normalized("NFC", text):
        # decomposed text (copied on a Mac, from some PDFs): composed before the layout is read, whose line
        # widths (the hard-wrap width of portal text) count characters
        text = unicodedata.normalize("NFC", text)
    return text


# ---------------------------------------------------------------- lines -> builder

def _strip_emphasis(line: str) -> str:
    if "*" not in line:
        return line
    m = _BULLET.match(line)
    head = ""
    if m:
        head, line = m.group(1) + "* ", line[m.end():]
    line = line.replace("(*)", "\x00")
    line = _EMPH.sub("", line).replace("\x00", "(*)")
    return head + line


def _segments(lines: list[str]) -> list[list[str]]:
    """Pieces between lone '|' lines; a piece with no text between two '|' is an empty cell."""
    segs: list[list[str]] = []
    cur: list[str] = []
    opened = False
    for ln in lines:
        ln = ln.strip()
        if ln == "|":
            if cur:
                segs.append(cur)
            elif opened:
                segs.append([""])
            cur, opened = [], True
        elif ln:
            cur.append(ln)
    if cur:
        segs.append(cur)
    return segs


def join_lines(parts: list[str]) -> str:
    """Join hard-wrapped lines: a space between words, none after a symbol cut at its hyphen
    or slash ("số 250/QĐ-" + "UBND")."""
    out = ""
    for p in parts:
        p = p.strip()
        if not out:
            out = p
        elif out[-1] in "-/" and _CUT_SYMBOL.search(out) and _SYMBOL_REST.match(p) and not out.endswith((" -", "\t-")):
            out += p
        else:
            out += " " + p
    return out


_CUT_SYMBOL = re.compile(r"[\wĐđ][-/]$")
_SYMBOL_REST = re.compile(r"^[A-ZĐ0-9]")


def _fit(cells: list[str], n: int) -> list[str]:
    """A row of exactly n cells: pad a short one, fold the extra lines of a long one into its last cell."""
    if len(cells) <= n:
        return cells + [""] * (n - len(cells))
    return cells[:n - 1] + [" ".join(cells[n - 1:])]


def _pipe_table_rows(segs: list[list[str]]) -> list[list[str]] | None:
    """Rows of a table written one cell a line between ``|`` lines. Two layouts
    exist in copied web text: a ``|`` line between rows (each line a cell), or a
    ``|`` line between cells; pick the one that gives a consistent width."""
    if len(segs) < 2:
        return None
    n = len(segs[0])
    if n >= 2 and sum(len(s) == n for s in segs) >= 0.6 * len(segs):
        return [_fit(s, n) for s in segs]
    cells = [" ".join(s) for s in segs]
    width = 0
    while width < len(cells) and _HEADER_WORDS.match(cells[width].strip()):
        width += 1
    if width < 2:
        width = next((i for i, c in enumerate(cells) if _ROWNUM.match(c.strip())), 0)
    if width < 2:
        return None
    return [cells[i:i + width] for i in range(0, len(cells), width)]


def _raw_segments(lines: list[str]) -> list[list[str]]:
    """Pieces between lone '|' lines, raw (blank lines and trailing spaces kept)."""
    segs: list[list[str]] = []
    cur: list[str] = []
    for ln in lines:
        if ln.strip() == "|":
            if any(x.strip() for x in cur):
                segs.append(cur)
            cur = []
        else:
            cur.append(ln)
    if any(x.strip() for x in cur):
        segs.append(cur)
    return segs


class _Layout:
    """What the reader knows of a page's layout: wrap width, blank-line paragraphs,
    where the document's title (its kind: KẾ HOẠCH, QUYẾT ĐỊNH...) is."""

    def __init__(self, lines: list[str]) -> None:
        plain = [x for x in lines if x.strip() != "|"]
        self.width = wrap_width(plain)
        self.blank = blank_separated(plain)
        self.title_at = next((k for k, x in enumerate(lines[:120]) if _DOC_TITLE.match(x.strip())), -1)
        # where the letterhead ends: the kind line, or (a Công văn has none) the last "|" of the
        # letterhead's cells, when its first "|" comes in the first lines
        self.head_end = self.title_at
        if self.title_at < 0:
            first = next((k for k, x in enumerate(lines[:15]) if x.strip() == "|"), -1)
            if first >= 0:
                self.head_end = pipe_region_end(lines, first)


def _feed_paragraphs(b: DocBuilder, lines: list[str], page: int | None, lay: "_Layout | None" = None,
                     head: bool = False) -> None:
    if head:  # letterhead cells before the title: short fields, cut where the portal cut them
        for t in cell_lines(lines):
            b.para(t, page)
        return
    width = lay.width if lay is not None and lay.width else wrap_width(lines)
    if lay is not None and lay.blank:
        for first, last in group_paragraphs(lines, width):
            b.para(join_lines(lines[first:last + 1]), page)
    elif width:
        for first, last in join_wrapped(lines, width):
            b.para(join_lines(lines[first:last + 1]), page)
    else:
        marker = ""                       # a list marker alone on its line: its item's text is on the next
        for ln in lines:
            t = ln.strip()
            if not t:
                continue
            if marker and not is_item_start(t):
                b.para(f"{marker} {t}", page)
                marker = ""
                continue
            if marker:
                b.para(marker, page)
                marker = ""
            if bare_list_marker(t):
                marker = t
                continue
            b.para(ln, page)
        if marker:
            b.para(marker, page)


_SIGN_CELL = re.compile(r"^(?:KT|TM|TL|TUQ|Q)\s*\.|^(?:CHỦ TỊCH|PHÓ CHỦ TỊCH|GIÁM ĐỐC|PHÓ GIÁM ĐỐC|BỘ TRƯỞNG|THỨ TRƯỞNG)\b")


def _numbered(rows: list[list[str]]) -> int:
    """How many rows under the header open with a row number ("1.", "II", "a)"): a reading that took the
    wrong lines as the table's first cell shifts the numbers out of the first column, one that reads two
    rows as one halves them."""
    return sum(bool(r) and _ROWNUM.match(r[0].strip()) is not None for r in rows[1:])


def _read_pipe_table(segs: list[list[str]], before: list[str], opens: bool, blank: bool) -> tuple[list[list[str]] | None, int]:
    """The rows of a table written one cell a line between ``|`` lines, and how many of the lines ``before``
    it are its first cell. Readings, in this order:

    * the table opens with its own "|" (``opens``: after a blank line): every row does, so rows are bounded
      (``bounded_rows``);
    * the first cell was written before the first "|" ("STT" / "|" / "Nội dung" ...): back to the last blank
      line (``lead_cell``, at most ``LEAD_CELL_LINES`` lines);
    * the cells read as they come (``_pipe_table_rows``).

    With blank lines between paragraphs the first of the first two whose first row is a header wins, else
    the third. Without them, where neither the opening "|" nor the first cell can be told, every reading is
    tried (the first cell as the last 1-3 lines) and the one that puts the most row numbers in the first
    column wins (``_numbered``; ties: the order above; no row numbers at all: as with blank lines)."""
    def header_first(k: int) -> tuple[list[list[str]], int] | None:
        got = _pipe_table_rows(([[x.strip() for x in before[-k:]]] if k else []) + segs)
        return (got, k) if got and looks_like_header(got[0]) else None

    bounded = bounded_rows([join_lines(s) for s in segs]) if opens or not blank else None
    readings = [(bounded, 0)] if bounded and looks_like_header(bounded[0]) else []
    lead = lead_cell(before)
    if 0 < lead <= LEAD_CELL_LINES:
        readings += [r for r in [header_first(lead)] if r]
    plain = _pipe_table_rows(segs)
    if not blank:
        others = [header_first(0)] + ([header_first(k) for k in range(1, LEAD_CELL_LINES + 1)]
                                      if lead > LEAD_CELL_LINES else [])
        scored = readings[:1] + [r for r in others if r] + readings[1:]
        best = max(scored, key=lambda r: _numbered(r[0]), default=None)      # max keeps the first of equals
        if best and _numbered(best[0]) > 0:
            return best
    return readings[0] if readings else (plain, 0)


def _feed(b: DocBuilder, lines: list[str], page: int | None) -> None:
    """Split a page's lines into paragraph runs, tab tables and ``|`` tables."""
    i, n = 0, len(lines)
    lay = _Layout(lines)
    seen_title = False
    para_run: list[str] = []

    def flush():
        if para_run:
            _feed_paragraphs(b, para_run, page, lay, head=not seen_title and i <= lay.head_end)
            para_run.clear()

    while i < n:
        ln = lines[i]
        if not seen_title and (_DOC_TITLE.match(ln.strip()) or (lay.title_at < 0 <= lay.head_end < i)):
            flush()
            seen_title = True
        if seen_title and "|" in ln and _MD_ROW.match(ln):   # a markdown row holds three "|" at least
            j = i
            while j < n and _MD_ROW.match(lines[j]):
                j += 1
            rows = markdown_rows(lines[i:j])
            if rows:
                flush()
                b.table()
                for k, (cells, header) in enumerate(rows):
                    b.row(cells, page, header=header or (k == 0 and looks_like_header(cells)))
                i = j
                continue
        if "\t" in ln and len([c for c in ln.split("\t")]) >= 3:
            flush()
            b.table()
            while i < n and ("\t" in lines[i] and len(lines[i].split("\t")) >= 3):
                cells = lines[i].split("\t")
                b.row(cells, page, header=looks_like_header(cells))
                i += 1
            continue
        if ln.strip() == "|":
            # a run of lines with lone "|" separators
            last_pipe = pipe_region_end(lines, i)
            region = lines[i:last_pipe + 1]
            segs = _segments(region)
            rows, took = _read_pipe_table(segs, para_run, i == 0 or not lines[i - 1].strip(), lay.blank) \
                if seen_title else (None, 0)
            if took:
                del para_run[-took:]
            if rows and looks_like_header(rows[0]):
                flush()
                b.table()
                for k, r in enumerate(rows):
                    b.row(r, page, header=(k == 0))
            else:  # letterhead columns or a layout table: its pieces are paragraphs
                flush()
                for s in _raw_segments(region):
                    first = next(x.strip() for x in s if x.strip())
                    if not seen_title or _SIGN_CELL.match(first):
                        _feed_paragraphs(b, s, page, lay, head=True)
                    else:
                        _feed_paragraphs(b, s, page, lay)
            i = last_pipe + 1
            continue
        para_run.append(ln)
        i += 1
    flush()


# A plan is some tens of kB of text (the largest seen, with its appendices, ~1 MB) and its
# longest paragraph some thousand characters; laying out text costs ~1 s a MB and ~20 bytes of
# memory a character. Larger texts and longer lines are refused before that work.
MAX_TEXT_MB = float(os.environ.get("KEHOACH_MAX_TEXT_MB") or 16)
MAX_LINE_CHARS = int(os.environ.get("KEHOACH_MAX_LINE_CHARS") or 1_000_000)


def check_text_size(data: bytes, source: str) -> None:
    """Refuse a text file over ``MAX_TEXT_MB`` (before it is decoded)."""
    if len(data) > MAX_TEXT_MB * 2 ** 20:
        raise IngestError(source, f"text of {len(data) / 2 ** 20:.1f} MiB is over the limit of {MAX_TEXT_MB:g} MiB "
                                  "for a text file (a plan is some tens of kB; set KEHOACH_MAX_TEXT_MB to read it)")


def check_line_length(text: str, source: str) -> None:
    """Refuse a text with a line over ``MAX_LINE_CHARS`` characters (before it is laid out)."""
    if len(text) <= MAX_LINE_CHARS:
        return
    for k, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE_CHARS:
            raise IngestError(source, f"line {k} has {len(line):,} characters, over the limit of {MAX_LINE_CHARS:,} "
                                      "a line (not a plan's text; set KEHOACH_MAX_LINE_CHARS to read it)")


def _footer_cut(prev: str, after: str) -> bool:
    """A page footer dropped between ``prev`` and ``after`` cut one paragraph: ``prev`` ends no sentence and is no
    heading, ``after`` starts no item, and neither is a table's "|"."""
    return bool(prev and after) and "|" not in (prev.strip(), after) and not ends_sentence(prev) \
        and not upper_case(prev) and not is_item_start(after)


def _drop_page_numbers(lines: list[str], paged: bool) -> list[str]:
    """A page's number kept in copied or converted text: "Trang 3" / "Page 3 / 10" wherever it stands (a footer
    pasted from a PDF viewer lands mid-paragraph: the blank lines around it go too when it cut a paragraph,
    ``_footer_cut``), and on a form-feed page (``paged``) a bare number ("3", "- 3 -") as its first or last line."""
    out: list[str] = []
    k = 0
    while k < len(lines):
        if not PAGE_LABEL.match(lines[k].strip()):
            out.append(lines[k])
            k += 1
            continue
        nxt = next((j for j in range(k + 1, len(lines)) if lines[j].strip()), len(lines))
        prev = next((x for x in reversed(out) if x.strip()), "")
        if nxt < len(lines) and _footer_cut(prev, lines[nxt].strip()):
            while not out[-1].strip():
                out.pop()
            k = nxt
        else:
            k += 1
    if paged:
        filled = [k for k, x in enumerate(out) if x.strip()]
        edges = {filled[0], filled[-1]} if filled else set()
        out = [x for k, x in enumerate(out) if not (k in edges and PAGE_NUMBER.match(x.strip()))]
    return out


def read_text(data: bytes, source: str, sha256: str) -> IngestedDocument:
    warnings: list[str] = []
    check_text_size(data, source)
    text = decode(data, source, warnings)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_line_length(text, source)
    pages = text.split("\f")
    b = DocBuilder()
    for pno, page_text in enumerate(pages, 1):
        lines = _drop_page_numbers(page_text.split("\n"), len(pages) > 1)
        lines = [_MD_ESCAPE.sub(r"\1", x) if "\\" in x else x for x in lines]
        lines = [_strip_emphasis(x) if "*" in x else x for x in lines]
        lines = [_ATX.sub("", x) if "#" in x else x for x in lines]
        _feed(b, lines, pno if len(pages) > 1 else None)
    return b.build(source, sha256, "txt", pages=len(pages) if len(pages) > 1 else None,
                   warnings=warnings)
