"""Layout recovery for text copied from legal portals.

Portals lay a plan out as (measured on the copies in ``shared/real/web``):
- paragraphs separated by a blank line, the first line of each cut short (a
  dozen to fifty characters, at a word boundary) and the rest hard-wrapped at
  about 80 columns: so a blank-line group is one paragraph, whatever the case
  of its next line ("I. MỤC" / "ĐÍCH, YÊU CẦU", "a) Đối với các sở, ban, ngành," /
  "UBND các xã, phường");
- a list marker sometimes alone on its line ("1." then the heading);
- two paragraphs or list items in one group only when the line before ends a
  sentence (or is short: not wrapped) and the next starts a list marker
  ("Nơi nhận:" / "- Bộ Nội vụ;"); a marker at the start of a wrapped line
  ("... cấp độ" / "1. Cấp ngay ...") is the paragraph going on;
- the letterhead's two columns flattened one cell a line between lone ``|``
  lines, each cell's first line cut short too ("ỦY BAN NHÂN" / "DÂN ",
  "CỘNG HÒA XÃ" / "HỘI CHỦ NGHĨA VIỆT NAM", "Số:" / "2820/QĐ-UBND",
  "Đắk Lắk, ngày 18" / "tháng 11 năm 2025"); a line that ends in a space ends a
  line of the original (a ``<br>``).

Pure functions over lines; the TXT reader keeps the provenance (the builder
puts the joined text into the document and the spans follow from it).
"""
from __future__ import annotations

import re
from functools import lru_cache

from kehoach.ingest.normalize import NUMBER_MARKER, ends_field, ends_sentence, field_break, is_item_start, upper_case

# a list marker with nothing after it: "1.", "III.", "a)", "2.1."
BARE_MARKER = re.compile(r"^" + NUMBER_MARKER + r"$")
# a rule under a letterhead cell: "-------", "_____", "***"
RULE = re.compile(r"^[-_=*~.–—]{3,}$")
# a wrapped line reaches at least this share of the wrap width
WRAPPED_SHARE = 0.75


def is_bare_marker(line: str) -> bool:
    s = line.strip()
    # a bare marker is at most 20 characters ("2.1.3.4.5.", "XXXVII." is 7) and ends with "." or ")"
    return len(s) <= 20 and s[-1:] in (".", ")") and bool(BARE_MARKER.match(s))


def blank_separated(lines: list[str]) -> bool:
    """True when the text separates its paragraphs by blank lines and wraps them
    (portal layout): blank-line groups are short, and some lines are wrapped."""
    groups, size, sizes = 0, 0, []
    for ln in lines:
        if ln and not ln.isspace():       # (as ln.strip(), without the copy)
            size += 1
        elif size:
            sizes.append(size)
            size = 0
    if size:
        sizes.append(size)
    groups = len(sizes)
    if groups < 5:
        return False
    multi = sum(1 for s in sizes if s >= 2)
    sizes.sort()
    # most groups span a few lines (a one-paragraph-a-line text has groups of one line,
    # where joining inside a group changes nothing anyway)
    return sizes[len(sizes) // 2] <= 12 and multi >= 0.2 * groups


def join_in_group(prev: str, cur: str, prev_first: bool, width: int) -> bool:
    """Inside a blank-line group: does ``cur`` go on the paragraph ``prev`` is in?"""
    p, c = prev.rstrip(), cur.strip()
    if field_break(p, c):
        return False
    if is_bare_marker(p):
        return not is_item_start(c) and not is_bare_marker(c)
    wrapped = bool(width) and len(p) >= WRAPPED_SHARE * width
    if is_item_start(c) or is_bare_marker(c):
        # a marker at the start of a wrapped line whose sentence goes on is not an item
        return wrapped and not ends_sentence(p) and not _DASH_START.match(c)
    if upper_case(p, words=2) and not wrapped and c[:1].isupper() and not c.isupper():
        return False   # "KẾ HOẠCH" / "Triển khai ...", "II. NHIỆM VỤ" / "Sở Nội vụ ...": a heading ends
    if prev_first or wrapped:
        return True
    if ends_sentence(p):
        return False
    return True


_DASH_START = re.compile(r"^[-+*•]\s")


def group_paragraphs(lines: list[str], width: int) -> list[tuple[int, int]]:
    """(first, last) line index pairs of the paragraphs of blank-line separated text."""
    out: list[tuple[int, int]] = []
    start = None
    for i, ln in enumerate(lines):
        if not ln or ln.isspace():        # a blank line (as not ln.strip(), without the copy)
            if start is not None:
                out.append((start, i - 1))
                start = None
            continue
        if start is None:
            start = i
            continue
        if not join_in_group(lines[i - 1], ln, i - 1 == start, width):
            out.append((start, i - 1))
            start = i
    if start is not None:
        out.append((start, len(lines) - 1))
    return out


# ---------------------------------------------------------------- letterhead cells

@lru_cache(maxsize=1)
def fixed_phrases() -> tuple[str, ...]:
    """Letterhead phrases a cell may cut anywhere (Quốc hiệu, Tiêu ngữ, body heads), lower case."""
    from kehoach.extract.data import rows  # the project's one TSV loader (imported late: ingest stays a leaf)
    out = [r[0].lower() for r in rows("letterhead_phrases.tsv")]
    out += [r[0].lower() for r in rows("body_heads.tsv") if " " in r[0]]
    return tuple(out)


@lru_cache(maxsize=1)
def _phrases_by_head() -> dict[str, tuple[str, ...]]:
    """Each fixed phrase under every head of it that ends at a space ("cộng ", "cộng hòa ", ...)."""
    out: dict[str, list[str]] = {}
    for ph in fixed_phrases():
        for i, c in enumerate(ph):
            if c == " ":
                out.setdefault(ph[:i + 1], []).append(ph)
    return {k: tuple(v) for k, v in out.items()}


def _cut_phrase(a: str, b: str) -> bool:
    """``a`` ends inside a fixed phrase that ``b`` goes on with ("TM. ỦY BAN" / "NHÂN DÂN",
    "CỘNG HÒA XÃ" / "HỘI CHỦ NGHĨA VIỆT NAM")."""
    words = a.lower().split()
    b_l = b.lower().strip()
    heads = _phrases_by_head()
    for k in range(len(words)):
        tail = " ".join(words[k:])
        joined = tail + " " + b_l
        for ph in heads.get(tail + " ", ()):     # the phrases that start with the tail and a space
            if joined.startswith(ph) or ph.startswith(joined):
                return True
    return False


_DATE = re.compile(r",\s*ngày\b|\bngày\s*\d*$|^(?:ngày\s+)?\d{0,2}\s*tháng\b", re.I)
_NUMBER = re.compile(r"^Số\s*:?\s*$|^Số\s*:\s*\S*[-/]$", re.I)


def cell_lines(raw: list[str]) -> list[str]:
    """The lines of one letterhead/signature cell (raw lines between two ``|``, trailing
    spaces kept) rejoined where the portal cut them: the texts of its blocks.

    A raw line joins the block before it when that block is one raw line that did not
    end the original line and either this line does (it ends in a space: "ỦY BAN NHÂN" /
    "DÂN ") or the two make one letterhead field (``_joins``)."""
    out: list[str] = []
    hard = True        # the previous raw line ended a line of the original
    single = False     # the last block is a single raw line
    for ln in raw:
        s = ln.strip()
        if not s:
            hard = True
            continue
        if out and not hard and not RULE.match(s) and not RULE.match(out[-1]) and not ends_field(out[-1]) \
                and ((single and _hard_end(ln)) or _joins(out[-1], s)):
            out[-1] = out[-1] + " " + s
            single = False
        else:
            out.append(s)
            single = True
        hard = _hard_end(ln)
    return out


def _hard_end(line: str) -> bool:
    """The raw line ends with a space: a line break of the original (``<br>``)."""
    return line.endswith((" ", "\t", "\u00a0"))


def _joins(a: str, b: str) -> bool:
    if _NUMBER.match(a):
        return True                       # "Số:" / "2820/QĐ-UBND"
    if _DATE.search(a) and re.match(r"^(?:\d{1,2}\s+)?tháng\b|^\d", b, re.I):
        return True                       # "Đắk Lắk, ngày 18" / "tháng 11 năm 2025"
    if re.search(r",\s*ngày\b", b) and not re.search(r"ngày|[.;:]$", a) and len(a) <= 30 and not a.isupper():
        return True                       # "Thành phố Hồ" / "Chí Minh, ngày 19 tháng 11 năm 2025"
    if b[:1].islower() and not ends_sentence(a) and not RULE.match(a):
        return True                       # "V/v triển khai thực hiện" / "kế hoạch số 45/KH-UBND"
    return _cut_phrase(a, b)


# ---------------------------------------------------------------- tables one cell a line

# the first cell of a table row: its number (STT) or a group's numeral/letter
ROW_START = re.compile(r"^(?:\d{1,3}(?:\.\d{1,2})*\.?|[IVXLC]{1,5}\.?|[a-zđ][.)]?)$")


def bounded_rows(cells: list[str]) -> list[list[str]] | None:
    """Rows of a table written as ``|`` + one cell a line, each cell followed by ``|``:
    every row opens with its own ``|``, so a row boundary reads as an empty cell.

    The header row has no empty cell: its cells up to the first empty one give the
    width. An empty cell ends the row when the row is full, or when the row has two
    cells or more and the next cell starts a row (a number, a group numeral): rows
    under a merged (rowspan/colspan) cell are shorter than the header."""
    n = next((k for k, c in enumerate(cells) if not c.strip()), 0)
    if n < 2:
        return None
    rows: list[list[str]] = []
    row: list[str] = []
    for k, c in enumerate(cells):
        nxt = cells[k + 1].strip() if k + 1 < len(cells) else ""
        if not c.strip() and row and (len(row) >= n or (len(row) >= 2 and ROW_START.match(nxt))):
            rows.append(row)
            if all(x.strip() for x in row):   # a full row (the column numbers "1 2 ... 8") widens
                n = max(n, len(row))
            row = []
            continue
        row.append(c)
    if any(x.strip() for x in row):
        rows.append(row)
    if len(rows) < 2:
        return None
    return _fill_rowspans(rows, n)


def _fill_rowspans(rows: list[list[str]], n: int) -> list[list[str]]:
    """A short row that does not open with a row number sits under cells merged down
    from the row above (rowspan): its number, and the columns after its own cells, are
    the row above's ("1 | Xây dựng ... | Trung tâm | Sở KH&CN | Quý IV/2026" then
    "Xây dựng hạ tầng dự phòng | Trung tâm")."""
    out: list[list[str]] = []
    for r in rows:
        prev = out[-1] if out else None
        first = r[0].strip()
        if prev is not None and len(r) < n - 1 and first and not ROW_START.match(first) \
                and ROW_START.match(prev[0].strip()) and len(prev) >= n - 1:
            r = [prev[0]] + r + prev[len(r) + 1:]
        out.append(r)
    return out


# a lone "|" line (the portal's cell separator) is one whose strip() is "|": the same lines as
# ^\s*\|\s*$ (str.strip and \s take the same white space), without a regex call a line
# a cell longer than this many lines is not a cell: the "|" layout has ended
MAX_CELL_LINES = 60


def pipe_region_end(lines: list[str], i: int) -> int:
    """Index of the last ``|`` line of the cell-a-line layout that opens at line ``i``.

    Between two ``|`` lines there is one cell: lines of text with no blank line among
    them, or one blank line (an empty cell). Blank lines after a ``|`` followed by
    text end the layout (the paragraph after a table or a letterhead)."""
    n, last = len(lines), i
    j = i + 1
    while j < n:
        ln = lines[j].strip()
        if ln == "|":
            last = j
        elif not ln:
            if not (j == last + 1 and j + 1 < n and lines[j + 1].strip() == "|"):
                break
        elif j - last > MAX_CELL_LINES:
            break
        j += 1
    return last


def lead_cell(run: list[str]) -> int:
    """How many lines at the end of ``run`` (the lines before a ``|`` line) form the cell
    written before the first ``|``: back to the last blank line."""
    k = len(run)
    while k > 0 and run[k - 1].strip() and run[k - 1].strip() != "|":
        k -= 1
    return len(run) - k


# ---------------------------------------------------------------- markdown tables

# a table row written on one line between pipes: "| 1 | Sở Nội vụ | Quý IV/2025 |"
MD_ROW = re.compile(r"^\s*\|(?:[^|\n]*\|){2,}\s*$")
_MD_RULE = re.compile(r"^\s*:?-{3,}:?\s*$")


def markdown_rows(lines: list[str]) -> list[tuple[list[str], bool]] | None:
    """(cells, is_header) of a run of one-line pipe rows; the row above a ``| --- |`` rule
    is the header, the rule itself is dropped. None when the run is not a table (one row)."""
    rows: list[tuple[list[str], bool]] = []
    for ln in lines:
        cells = [c.strip() for c in ln.strip()[1:-1].split("|")]
        if all(_MD_RULE.match(c) for c in cells if c) and any(cells):
            if rows:
                rows[-1] = (rows[-1][0], True)
            continue
        rows.append((cells, False))
    return rows if len(rows) >= 2 else None
