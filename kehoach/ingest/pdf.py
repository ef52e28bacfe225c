"""PDF reader: text layer -> paragraphs and tables in reading order -> IngestedDocument.

Stages (each a function over small records, testable alone):

1. ``_open``           bytes -> pypdfium2 document; corrupt / encrypted -> IngestError
2. ``page_segments``   one page's text runs with geometry (pypdfium2 text rects)
3. ``ruled_page``      cheap test on the page's path objects: does it draw a grid?
4. ``grid_tables``     only on ruled pages: tables from pdfium's path objects (``pdf_grid``: rulings ->
                       snapped grid -> cells, merged cells too) filled with pdfium's chars;
                       ``page_tables`` (pdfplumber) only where the grid is irregular
5. ``make_lines``      runs -> lines (same baseline); a wide gap splits a line into columns
6. ``drop_furniture``  running headers/footers and page numbers
7. ``page_items``      lines outside tables, two-column blocks (letterhead, signature)
                       and tables, in reading order (top to bottom)
8. ``paragraphs``      body lines -> paragraphs by geometry (indent, gap, short last line),
                       across page breaks too
9. ``read_pdf``        everything fed to DocBuilder, which merges tables split by pages

pypdfium2 gives text and geometry at a few milliseconds a page. Ruled tables are read
from the same pypdfium2 page by a grid reader that follows pdfplumber's table rules (same
tolerances, same cells, same text lines), so both readers give the same rows; pdfplumber
(a whole-page pdfminer layout, ~5x the grid reader's time) only runs on pages whose grid the fast
reader is unsure of (no closed frame, cells that do not tile, rulings in form XObjects).
"""
from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from kehoach.errors import IngestError
from kehoach.ingest.builder import DocBuilder
from kehoach.ingest.layout import layout_hits
from kehoach.ingest.normalize import PAGE_NUMBER, awaits_reference, continues, cut_in_cell, ends_sentence, is_item_start
from kehoach.ingest.pdf_grid import (Char, TooClose, Unsure, fill_grid, grid_cells, page_rulings, plumber_cells,
                                     snap_rulings, table_grid)
from kehoach.ingest.pdf_grid import Cell, Ruling, cell_text  # noqa: F401  (re-exported for callers of ingest.pdf)
from kehoach.models import IngestedDocument

# --------------------------------------------------------------------------- records


@dataclass
class Seg:
    """A run of text on one baseline (top-left origin, points)."""
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    size: float = 0.0
    bold: bool = False

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class Line:
    segs: list[Seg]
    page: int

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.segs)

    @property
    def x1(self) -> float:
        return max(s.x1 for s in self.segs)

    @property
    def top(self) -> float:
        return min(s.top for s in self.segs)

    @property
    def bottom(self) -> float:
        return max(s.bottom for s in self.segs)

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    @property
    def size(self) -> float:
        return max((s.size for s in self.segs), default=0.0) or self.height

    @property
    def bold(self) -> bool:
        return all(s.bold for s in self.segs if s.text.strip())

    @property
    def text(self) -> str:
        return join_segs(self.segs)

    @property
    def char_width(self) -> float:
        n = sum(len(s.text) for s in self.segs)
        return (sum(s.x1 - s.x0 for s in self.segs) / n) if n else self.height / 2


@dataclass
class PTable:
    bbox: tuple[float, float, float, float]      # x0, top, x1, bottom
    rows: list[list[str]]
    page: int


@dataclass
class Region:
    """A two-column block (letterhead, signature): read left column, then right."""
    left: list[Line]
    right: list[Line]
    page: int

    @property
    def top(self) -> float:
        return min(x.top for x in self.left + self.right)


@dataclass
class PageInfo:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[PTable] = field(default_factory=list)
    chars: int = 0
    ocr: Optional[dict] = None       # set when the page was read by OCR (ingest/ocr.py)
    turn: int = 0                    # read in its text's upright frame (``text_turn``)


# --------------------------------------------------------------------------- open

def _open(data: bytes, source: str):
    import pypdfium2 as pdfium
    if not data:
        raise IngestError(source, "empty file")
    if b"%PDF" not in data[:1024]:
        raise IngestError(source, "corrupt PDF (no %PDF header)")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        # PDFium sets no error for some files it cannot load (a PDF with no page): the error
        # then carries the previous document's, so "password" is believed only from a file
        # with an /Encrypt entry, and "Success" means PDFium gave no reason.
        msg = str(e)
        code = getattr(e, "err_code", None)
        if "password" in msg.lower() and b"/Encrypt" in data:
            raise IngestError(source, "encrypted PDF: needs a password") from None
        m = re.search(r"\(PDFium: ([^)]*)\)", msg)
        why = m.group(1) if m else msg
        if code == 0 or why.lower().startswith("success") or "password" in why.lower():
            why = "no page, or a structure PDFium cannot load"
        raise IngestError(source, f"corrupt PDF ({why})") from None


# --------------------------------------------------------------------------- text runs

# A gap between two letters of a run wider than the run's usual letter gap by this share
# of the letters' height is a word space (pdfplumber splits words at a gap too). Some PDFs
# move to the next word instead of drawing a space, or draw a space that overlaps its
# neighbours, which pdfium leaves out of the text ("banChỉ" for "ban Chỉ").
WORD_GAP = 0.15

# A page whose text is mostly drawn turned by a quarter or half turn (a landscape table
# set on a portrait page; /Rotate left at 0) is read in the text's own upright frame.
TEXT_TURN_SHARE = 0.5
_TURN_SAMPLE = 64


def text_turn(textpage) -> int:
    """The turn of most of the page's letters, in quarter turns counter-clockwise (0: upright;
    3: written upwards, lines from left to right, as a landscape page set in portrait), read
    from each character's angle (its text matrix). Letters only; a few turned letters (a
    vertical side label) leave the page upright."""
    import math

    import pypdfium2.raw as R
    raw = textpage.raw
    n = textpage.count_chars()
    if n <= 0:
        return 0

    def turn(i: int) -> Optional[int]:
        u = R.FPDFText_GetUnicode(raw, i)
        if u <= 32 or chr(u).isspace() or R.FPDFText_IsGenerated(raw, i):
            return None
        a = R.FPDFText_GetCharAngle(raw, i)
        if a < 0:
            return None
        return round(a / (math.pi / 2)) % 4

    step = max(1, n // _TURN_SAMPLE)
    if not any(turn(i) for i in range(0, n, step)):
        return 0
    counts = Counter(t for t in map(turn, range(n)) if t is not None)
    if not counts:
        return 0
    best, k = counts.most_common(1)[0]
    return best if best and k > TEXT_TURN_SHARE * sum(counts.values()) else 0


def turned_size(width: float, height: float, turn: int) -> tuple[float, float]:
    """The page's (width, height) in the upright frame of its text."""
    return (height, width) if turn % 2 else (width, height)


def turn_point(x: float, y: float, width: float, height: float, turn: int) -> tuple[float, float]:
    """A point in PDF space (bottom-left origin) -> the same in the text's upright frame."""
    if turn == 3:      # written upwards: the reading direction is +y, the next line is to the right
        return y, width - x
    if turn == 1:      # written downwards
        return height - y, x
    if turn == 2:
        return width - x, height - y
    return x, y


def turn_rect(left: float, top: float, right: float, bottom: float, width: float, height: float,
              turn: int) -> tuple[float, float, float, float]:
    """A box in PDF space (top > bottom) -> (left, top, right, bottom) in the upright frame."""
    ax, ay = turn_point(left, top, width, height, turn)
    bx, by = turn_point(right, bottom, width, height, turn)
    return min(ax, bx), max(ay, by), max(ax, bx), min(ay, by)


def turn_rulings(rulings: list[Ruling], width: float, height: float, turn: int) -> list[Ruling]:
    """Rulings (top-left origin) -> the text's upright frame (a horizontal one becomes vertical
    under a quarter turn)."""
    if not turn:
        return rulings
    out = []
    for r in rulings:
        ends = [(r.lo, r.pos), (r.hi, r.pos)] if r.orient == "h" else [(r.pos, r.lo), (r.pos, r.hi)]
        pts = [turn_point(x, height - y, width, height, turn) for x, y in ends]
        h2 = turned_size(width, height, turn)[1]
        (x0, y0), (x1, y1) = [(x, h2 - y) for x, y in pts]
        if abs(y0 - y1) < 1e-6:
            out.append(Ruling("h", y0, min(x0, x1), max(x0, x1)))
        else:
            out.append(Ruling("v", x0, min(y0, y1), max(y0, y1)))
    return out


def page_segments(page, textpage, sink: Optional[list[Char]] = None, turn: int = 0) -> list[Seg]:
    """Text runs of a page from pdfium's character stream: a run ends at pdfium's line
    breaks, where the text jumps back or to another baseline, and at wide gaps (columns).
    pdfium's own word spacing (generated spaces) is kept. ``sink`` (for the table reader)
    receives every character the PDF draws, spaces included, with its box.

    ``turn`` (``text_turn``): the page is read in its text's upright frame; letters turned
    otherwise (the Gazette's running header left upright) are left out, and so are pdfium's
    line breaks and generated spaces, which follow the unturned page (runs end by geometry)."""
    import ctypes

    import pypdfium2.raw as R
    pw, ph = page.get_size()
    h = turned_size(pw, ph, turn)[1]
    raw = textpage.raw
    n = textpage.count_chars()
    if n <= 0:
        return []
    text = textpage.get_text_range(0, n)
    if len(text) != n:   # characters outside the BMP: read them one by one
        text = "".join(chr(R.FPDFText_GetUnicode(raw, i) or 32) for i in range(n))
    rect = R.FS_RECTF()
    origin = (ctypes.c_double(), ctypes.c_double())
    out: list[Seg] = []
    chars: list[str] = []
    first = -1
    pitch = 0.0                      # the run's usual gap between letters (tracking, overlap)
    pending_space = False            # pdfium generated a space before the next letter
    x0 = top = x1 = bottom = 0.0     # the run's box (PDF coordinates: top > bottom)

    def close() -> None:
        nonlocal chars, first
        t = "".join(chars).strip()
        if t:
            size = float(R.FPDFText_GetFontSize(raw, first))
            bold = R.FPDFText_GetFontWeight(raw, first) >= 600 or _bold_name(R, raw, first)
            out.append(Seg(x0, h - top, x1, h - bottom, t, size, bold))
        chars, first = [], -1

    # the loop runs once per character: pdfium's functions bound once, min/max written out
    loose_box, is_generated = R.FPDFText_GetLooseCharBox, R.FPDFText_IsGenerated
    turned = (pw, ph, turn) if turn else None
    for i in range(n):
        ch = text[i]
        if turn and (is_generated(raw, i) or ch in "\r\n"
                     or round(max(R.FPDFText_GetCharAngle(raw, i), 0) / 1.5707963267948966) % 4 != turn):
            continue
        if ch in "\r\n":
            close()
            continue
        if ch in "\x02\ufffe":     # pdfium's mark for a hyphen at a line end: a real hyphen here
            ch = "-"
        elif ch == "\x00":
            continue
        if ch.isspace():
            if chars:
                chars.append(" ")
            if sink is not None:
                if is_generated(raw, i):
                    pending_space = True      # boxed once the next letter is known
                else:
                    loose_box(raw, i, rect)
                    sink.append(char_box(R, raw, i, " ", rect, h, origin, turned))
            continue
        loose_box(raw, i, rect)
        cl, ct, cr, cb = rect.left, rect.top, rect.right, rect.bottom
        if turn:
            cl, ct, cr, cb = turn_rect(cl, ct, cr, cb, pw, ph, turn)
        if sink is not None:
            cur = char_box(R, raw, i, ch, rect, h, origin, turned)
            prev = sink[-1] if sink else None
            if pending_space and prev is not None and abs(prev.top - cur.top) < 0.5 * (cur.bottom - cur.top) \
                    and prev.x1 <= cur.x0:
                # a space pdfium generated where the PDF draws one (or moves on): the table
                # reader sees it as pdfplumber sees the drawn space
                sink.append(Char(" ", prev.x1, cur.top, cur.x0, cur.bottom))
            pending_space = False
            sink.append(cur)
        if chars:
            ch_h = ct - cb
            ch_h = 1.0 if 1.0 > ch_h else ch_h                  # max(ct - cb, 1.0)
            run_h = top - bottom
            run_h = 1.0 if 1.0 > run_h else run_h               # max(top - bottom, 1.0)
            same_line = abs((ct + cb) / 2 - (top + bottom) / 2) < 0.5 * (run_h if run_h < ch_h else ch_h)
            gap = cl - x1
            if not same_line or gap < -0.5 * ch_h or gap > 1.2 * (run_h if run_h > ch_h else ch_h):
                close()
            elif chars[-1] != " " and gap - pitch > WORD_GAP * ch_h:
                # a word space the PDF draws as a shift (or a space glyph pdfium drops)
                chars.append(" ")
                if sink is not None:      # before this letter, on its line
                    cur = sink[-1]
                    sink.insert(len(sink) - 1, Char(" ", x1, cur.top, cl, cur.bottom))
            else:
                low, high = -0.1 * ch_h, 0.1 * ch_h
                pitch = low if low > gap else gap               # min(max(gap, low), high)
                pitch = high if high < pitch else pitch
        if not chars:
            first = i
            pitch = 0.0
            x0, top, x1, bottom = cl, ct, cr, cb
        else:                                                   # the run's box grows
            if cl < x0:
                x0 = cl
            if cr > x1:
                x1 = cr
            if ct > top:
                top = ct
            if cb < bottom:
                bottom = cb
        chars.append(ch)
    close()
    return out


def char_box(R, raw, index: int, ch: str, rect, height: float, origin: tuple,
             turned: Optional[tuple[float, float, int]] = None) -> Char:
    """A character's box for the table reader: across, pdfium's loose box (the advance,
    as pdfminer's); up and down, one font size above the baseline. pdfium's loose box
    follows each glyph's outline, so accents would push a letter's top several points up
    and split words; from the baseline every glyph of a line shares one top.
    ``turned``: (page width, page height, turn) of a page read in its text's upright frame."""
    ox, oy = origin
    R.FPDFText_GetCharOrigin(raw, index, ox, oy)
    left, right, low = rect.left, rect.right, oy.value
    if turned is not None:
        pw, ph, turn = turned
        left, _t, right, _b = turn_rect(rect.left, rect.top, rect.right, rect.bottom, pw, ph, turn)
        low = turn_point(ox.value, oy.value, pw, ph, turn)[1]
    return Char(ch, left, height - low - R.FPDFText_GetFontSize(raw, index), right, height - low)


def _bold_name(R, raw, index: int) -> bool:
    """A bold face named so ("...-Bold", "...,Bold") when the weight is not set."""
    import ctypes
    need = R.FPDFText_GetFontInfo(raw, index, None, 0, None)
    if not need:
        return False
    buf = ctypes.create_string_buffer(need)
    R.FPDFText_GetFontInfo(raw, index, buf, need, None)
    return b"bold" in buf.value.lower()


def join_segs(segs: list[Seg]) -> str:
    """Runs of one line, left to right, with a space where there is a gap."""
    parts: list[str] = []
    prev: Optional[Seg] = None
    for s in sorted(segs, key=lambda s: s.x0):
        t = s.text
        if prev is not None:
            gap = s.x0 - prev.x1
            cw = (prev.x1 - prev.x0) / max(1, len(prev.text))
            if gap > 0.15 * cw and not parts[-1].endswith(" ") and not t.startswith(" "):
                parts.append(" ")
        parts.append(t)
        prev = s
    return "".join(parts)


# --------------------------------------------------------------------------- tables

def ruled_page(page) -> bool:
    """Does the page draw a grid (>= 2 horizontal and >= 2 vertical rules, or boxes)?"""
    import pypdfium2.raw as R
    nh = nv = nbox = 0
    for obj in page.get_objects(filter=[R.FPDF_PAGEOBJ_PATH], max_depth=2):
        try:
            x0, y0, x1, y1 = obj.get_bounds()
        except Exception:
            continue
        w, h = x1 - x0, y1 - y0
        if h < 3 and w > 10:
            nh += 1
        elif w < 3 and h > 10:
            nv += 1
        elif w > 10 and h > 10:
            nbox += 1
        if (nh >= 2 and nv >= 2) or nbox >= 3 or (nbox >= 1 and nh + nv >= 3):
            return True
    return False


def clean_table_cell(s: Optional[str]) -> str:
    """pdfplumber's cell: wrapped lines joined; a line that starts a list item keeps its own line."""
    if not s:
        return ""
    out: list[str] = []
    for line in s.replace("\r", "\n").split("\n"):
        line = line.strip()
        if not line:
            continue
        if out and not is_item_start(line):
            prev = out[-1]
            if re.search(r"\w-$", prev) or cut_in_cell(prev, line):
                out[-1] = prev + line
            else:
                out[-1] = prev + " " + line
        else:
            out.append(line)
    return "\n".join(out)


def inherit_vertical_merges(rows: list[list[Optional[str]]],
                            boxes: list[list[Optional[tuple]]]) -> list[list[Optional[str]]]:
    """A position covered by a cell of an upper row that spans down into this row (a
    vertically merged cell) takes that cell's text, as a DOCX vMerge continuation does.
    Positions covered from the left (horizontal merges) stay empty."""
    out = [list(r) for r in rows]
    for i, brow in enumerate(boxes):
        tops = [b[1] for b in brow if b is not None]
        if not tops or i >= len(out):
            continue
        top = min(tops)
        for j, b in enumerate(brow):
            if b is not None or j >= len(out[i]):
                continue
            for k in range(i - 1, -1, -1):
                above = boxes[k][j] if j < len(boxes[k]) else None
                if above is not None:
                    if above[3] > top + 1:
                        out[i][j] = out[k][j]
                    break
    return out


def _keep_tables(found: list[tuple[tuple, list[list[Optional[str]]], list[list[Optional[tuple]]]]],
                 number: int) -> list[PTable]:
    """Raw tables (bbox, cell texts, cell boxes per row, None where a merged cell covers
    the position) -> PTables: merges resolved, cells cleaned, framed paragraphs and
    bordered letterheads dropped. Shared by both table readers."""
    out = []
    for bbox, raw, boxes in found:
        rows = inherit_vertical_merges(raw, boxes)
        rows = [[clean_table_cell(c) for c in r] for r in rows]
        rows = [r for r in rows if any(c for c in r)]
        if not rows:
            continue
        width = max(len(r) for r in rows)
        text = "\n".join(c for r in rows for c in r if c)
        if width < 2:
            continue                     # a framed paragraph, not a table
        if width <= 3 and layout_hits(text):
            continue                     # a letterhead/signature drawn with borders
        out.append(PTable(tuple(bbox), rows, number))
    return out


def page_tables(plumber_page, number: int) -> list[PTable]:
    """pdfplumber's tables of a page (the slow reader, for grids the fast one is unsure of)."""
    return _keep_tables([(t.bbox, t.extract(), [r.cells for r in t.rows]) for t in plumber_page.find_tables()],
                        number)


def fast_page_tables(page, number: int) -> list[PTable]:
    """``grid_tables`` on a pypdfium2 page alone (its own text page): for tests and
    benchmarks that compare the two readers. Raises Unsure like grid_tables."""
    tp = page.get_textpage()
    try:
        chars: list[Char] = []
        page_segments(page, tp, chars)
    finally:
        tp.close()
    return grid_tables(page, page.get_size()[1], chars, number)


def grid_tables(page, height: float, chars: list[Char], number: int, turn: int = 0) -> list[PTable]:
    """The fast reader: a ruled page's tables from its path objects and characters.
    Raises Unsure when the page's grid is irregular (pdfplumber then reads it).
    ``turn``: the page is read in its text's upright frame (``text_turn``), ``chars`` too."""
    if page.get_rotation() % 360:
        raise Unsure("rotated page")
    media = tuple(page.get_mediabox())
    if media[:2] != (0, 0) or tuple(page.get_cropbox()) != media:
        raise Unsure("cropped or shifted page")
    pw, ph = page.get_size()
    rulings = turn_rulings(page_rulings(page, ph), pw, ph, turn)
    snapped = snap_rulings(rulings)
    try:
        tables = grid_cells(snapped)
    except TooClose:
        tables = plumber_cells(snapped)   # narrow rows/columns: pdfplumber's cell rules
    found = []
    for cells in tables:
        grid = table_grid(cells)
        bbox = (min(c[0] for c in cells), min(c[1] for c in cells),
                max(c[2] for c in cells), max(c[3] for c in cells))
        found.append((bbox, fill_grid(grid, chars), grid))
    return _keep_tables(found, number)


def merge_cut_row(prev_rows: list[list[str]], rows: list[list[str]]) -> list[list[str]]:
    """A table continued on the next page whose first body row has an empty first cell and
    goes on in lower case (after an opening bracket or quote too: "(cơ sở dữ liệu về quy hoạch) ...")
    is the rest of the row the page break cut: it is appended to the previous page's last row (in
    place) and dropped here."""
    if not prev_rows or not rows:
        return rows
    k = 1 if _norm_row(rows[0]) == _norm_row(prev_rows[0]) else 0     # repeated header
    if k >= len(rows):
        return rows
    first, last = rows[k], prev_rows[-1]
    filled = [c for c in first if c]
    if first[0] or not filled or len(first) != len(last) or not all(c.lstrip("(\"“'")[:1].islower() for c in filled):
        return rows
    prev_rows[-1] = [((a + b) if cut_in_cell(a, b) else (a + " " + b)).strip() if b else a for a, b in zip(last, first)]
    return rows[:k] + rows[k + 1:]


def carry_merged_cells(prev_rows: list[list[str]], rows: list[list[str]]) -> None:
    """A vertically merged cell that runs over the page break: when the previous page's
    last two body rows share a value in a column (a merged cell there) and the next page's
    first body rows are empty in that column, they take the value (in place)."""
    if len(prev_rows) < 3 or not rows or len(rows[-1]) != len(prev_rows[-1]):
        return
    k = 1 if _norm_row(rows[0]) == _norm_row(prev_rows[0]) else 0
    a, b = prev_rows[-1], prev_rows[-2]
    for j in range(1, len(a)):
        if not a[j] or a[j] != b[j] or not a[0] or not b[0]:
            continue
        for r in rows[k:]:
            if len(r) != len(a) or r[j] or not r[0] or len(set(x for x in r if x)) == 1:
                break
            r[j] = a[j]


def _norm_row(cells: list[str]) -> tuple:
    return tuple(re.sub(r"\W+", "", c.lower()) for c in cells)


# --------------------------------------------------------------------------- lines

def make_lines(segs: list[Seg], page: int) -> list[Line]:
    """Group runs on the same baseline; lines sorted top to bottom."""
    lines: list[Line] = []
    for s in sorted(segs, key=lambda s: (round(s.top, 1), s.x0)):
        best = None
        for ln in reversed(lines[-6:]):
            # on the same line: overlaps one of its runs vertically, and none horizontally
            if any(min(o.x1, s.x1) - max(o.x0, s.x0) > 0.5 for o in ln.segs):
                continue
            if any(min(o.bottom, s.bottom) - max(o.top, s.top) >= 0.5 * min(o.height, s.height, )
                   for o in ln.segs if o.height > 0 and s.height > 0):
                best = ln
                break
        if best is not None:
            best.segs.append(s)
        else:
            lines.append(Line([s], page))
    for ln in lines:
        ln.segs.sort(key=lambda s: s.x0)
    lines.sort(key=lambda ln: ln.top)
    return lines


def split_columns(line: Line) -> list[Line]:
    """A line with a wide gap (several em) is two columns side by side."""
    if len(line.segs) < 2:
        return [line]
    out = [[line.segs[0]]]
    for s in line.segs[1:]:
        prev = out[-1][-1]
        em = max(prev.size or prev.height, s.size or s.height, 6.0)
        if s.x0 - prev.x1 > 2.2 * em:
            out.append([s])
        else:
            out[-1].append(s)
    return [Line(g, line.page) for g in out]


# --------------------------------------------------------------------------- headers, footers



def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def drop_furniture(pages: list[PageInfo]) -> None:
    """Remove page numbers and running headers/footers: short lines in the top or bottom
    margin that are bare numbers or repeat on many pages."""
    def edge_lines(p: PageInfo) -> list[Line]:
        if not p.lines:
            return []
        cand = []
        for ln in p.lines[:2] + p.lines[-2:]:
            if ln in cand:
                continue
            if ln.top < 0.12 * p.height or ln.bottom > 0.88 * p.height:
                cand.append(ln)
        return cand

    counts: Counter = Counter()
    for p in pages:
        for ln in edge_lines(p):
            counts[_furniture_key(ln.text)] += 1
    n = sum(1 for p in pages if not p.turn)   # a turned page leaves its upright running header out
    for p in pages:
        drop = []
        for ln in edge_lines(p):
            t = ln.text.strip()
            if PAGE_NUMBER.match(t):
                drop.append(ln)
            elif n >= 3 and len(t) <= 120 and counts[_furniture_key(t)] >= max(3, n // 2):
                drop.append(ln)
        if drop:
            p.lines = [x for x in p.lines if not any(x is d for d in drop)]


# --------------------------------------------------------------------------- reading order

def _inside(line: Line, bbox: tuple[float, float, float, float]) -> bool:
    cx = (line.x0 + line.x1) / 2
    cy = (line.top + line.bottom) / 2
    x0, top, x1, bottom = bbox
    return x0 - 1 <= cx <= x1 + 1 and top - 1 <= cy <= bottom + 1


def page_items(p: PageInfo) -> list[object]:
    """Lines outside tables, two-column regions and tables, top to bottom."""
    lines = [ln for ln in p.lines if not any(_inside(ln, t.bbox) for t in p.tables)]
    items: list[tuple[float, object]] = [(t.bbox[1], t) for t in p.tables]
    i = 0
    while i < len(lines):
        parts = split_columns(lines[i])
        if len(parts) < 2:
            items.append((lines[i].top, lines[i]))
            i += 1
            continue
        # a two-column block starts here; it goes on while lines sit in one column or
        # split across the same channel (left column ends before the right one starts)
        left, right = [parts[0]], [Line([s for q in parts[1:] for s in q.segs], p.number)]

        def lx1() -> float:
            return max(x.x1 for x in left)

        def rx0() -> float:
            return min(x.x0 for x in right)

        # lines just above that sit on one side belong to the block too
        while items and isinstance(items[-1][1], Line):
            prev: Line = items[-1][1]  # type: ignore[assignment]
            first_top = min(x.top for x in left + right)
            if first_top - prev.bottom > 0.6 * prev.height or ends_sentence(prev.text):
                break
            if prev.x1 < rx0() - 1:
                left.insert(0, prev)
            elif prev.x0 > lx1() + 1:
                right.insert(0, prev)
            else:
                break
            items.pop()
        last_bottom = max(x.bottom for x in left + right)
        j = i + 1
        while j < len(lines):
            ln = lines[j]
            sub = split_columns(ln)
            if len(sub) >= 2:
                if sub[0].x1 < rx0() and sub[1].x0 > lx1():
                    left.append(sub[0])
                    right.append(Line([s for q in sub[1:] for s in q.segs], p.number))
                    last_bottom = ln.bottom
                    j += 1
                    continue
                break
            if ln.top - last_bottom > 1.5 * ln.height:
                break
            fits_left, fits_right = ln.x1 < rx0() - 1, ln.x0 > lx1() + 1
            if fits_left and fits_right:   # between the columns: the nearer one
                cx = (ln.x0 + ln.x1) / 2
                fits_left = abs(cx - (min(x.x0 for x in left) + lx1()) / 2) <= \
                    abs(cx - (rx0() + max(x.x1 for x in right)) / 2)
                fits_right = not fits_left
            if fits_left:
                left.append(ln)
            elif fits_right:
                right.append(ln)
            else:
                break
            last_bottom = ln.bottom
            j += 1
        region = Region(sorted(left, key=lambda x: x.top), sorted(right, key=lambda x: x.top), p.number)
        items.append((region.top, region))
        i = j
    items.sort(key=lambda it: it[0])
    return [it[1] for it in items]


# --------------------------------------------------------------------------- paragraphs

@dataclass
class Metrics:
    """Body text geometry of the document: left/right margins and the line pitch."""
    left: float
    right: float
    pitch: float

    @property
    def center(self) -> float:
        return (self.left + self.right) / 2


def body_metrics(lines: list[Line], width: float) -> Metrics:
    long_ = [ln for ln in lines if ln.x1 - ln.x0 > 0.5 * width]
    base = long_ or lines
    if not base:
        return Metrics(0.0, width, 14.0)
    lefts = Counter(round(ln.x0 / 2) * 2 for ln in base)
    left = min(x for x, c in lefts.items() if c >= max(1, 0.2 * max(lefts.values())))
    rights = sorted(ln.x1 for ln in base)
    right = rights[int(0.9 * (len(rights) - 1))]
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:])
               if a.page == b.page and 0 < b.top - a.top < 3 * a.height]
    pitch = statistics.median(pitches) if pitches else 1.3 * statistics.median([ln.height for ln in base])
    return Metrics(float(left), float(right), float(pitch))


def _first_word_width(line: Line) -> float:
    w = line.text.strip().split(" ", 1)[0]
    return (len(w) + 1) * line.char_width


def _centered(line: Line, m: Metrics) -> bool:
    em = line.size or line.height
    return line.x0 > m.left + em and abs((line.x0 + line.x1) / 2 - m.center) < 1.5 * em and line.x1 < m.right - em


def _caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def starts_paragraph(prev: Line, cur: Line, m: Metrics) -> bool:
    """Is ``cur`` the first line of a new paragraph (``prev`` the line before it)?"""
    text = cur.text.strip()
    em = cur.size or cur.height
    if prev.page == cur.page and cur.top - prev.top < 2 * m.pitch and awaits_reference(prev.text):
        return False                      # "... các nội dung tại điểm" then the rest of the reference
    if is_item_start(text):
        # a wrapped line may begin with "Chương V," or "- xã hội": it goes on when the line
        # before ran to the right margin without ending a sentence and this one is not indented
        wrapped = (prev.x1 >= m.right - em and not ends_sentence(prev.text) and cur.x0 <= m.left + 0.5 * em
                   and cur.bold == prev.bold and prev.page == cur.page)
        return not wrapped
    if text[:1].islower() and not ends_sentence(prev.text) and cur.top - prev.top < 2 * m.pitch:
        return False                      # a lower-case line goes on with the one before
    if abs((cur.size or 0) - (prev.size or 0)) > 1.0 or cur.bold != prev.bold:
        return True
    if _caps(prev.text) != _caps(cur.text) and len(cur.text.split()) > 1 and len(prev.text.split()) > 1:
        return True                       # "KẾ HOẠCH" then its title
    pc, cc = _centered(prev, m), _centered(cur, m)
    same_page = prev.page == cur.page
    if same_page and cur.top - prev.top > 1.3 * m.pitch:
        return True
    if pc and cc:
        return False                      # a centred title wrapped on several lines
    if cc and not pc and abs((prev.x0 + prev.x1) / 2 - m.center) < 1.5 * em and not ends_sentence(prev.text):
        return False                      # a wide centred title line, then its centred rest
    if pc != cc:
        return True
    if cur.x0 > prev.x0 + 0.8 * em and cur.x0 > m.left + 0.8 * em:
        return True                       # first-line indent
    if prev.x1 + _first_word_width(cur) < m.right - em:
        return True                       # the next word would have fitted: prev ended there
    if not same_page:
        return ends_sentence(prev.text) and not continues(prev.text, cur.text) and cur.x0 > m.left + 0.8 * em
    return False


def join_lines(lines: list[Line]) -> str:
    out = ""
    for ln in lines:
        t = ln.text.strip()
        if not out:
            out = t
        elif re.search(r"\w-$", out) and t[:1].isalnum():
            out += t
        else:
            out += " " + t
    return out


def paragraphs(lines: list[Line], m: Metrics) -> list[list[Line]]:
    groups: list[list[Line]] = []
    for ln in lines:
        if groups and not starts_paragraph(groups[-1][-1], ln, m):
            groups[-1].append(ln)
        else:
            groups.append([ln])
    return groups


def column_paragraphs(lines: list[Line]) -> list[list[Line]]:
    """In a letterhead/signature column every line stands alone, unless the next one
    continues it (lower case, no sentence end)."""
    groups: list[list[Line]] = []
    for ln in lines:
        if groups:
            prev = groups[-1][-1].text.strip()
            cur = ln.text.strip()
            if cur[:1].islower() and not ends_sentence(prev) and not is_item_start(cur):
                groups[-1].append(ln)
                continue
        groups.append([ln])
    return groups


def _style(lines: list[Line], m: Metrics) -> Optional[str]:
    flags = []
    if all(ln.bold for ln in lines):
        flags.append("bold")
    if all(_centered(ln, m) for ln in lines):
        flags.append("center")
    return "+".join(flags) or None


# --------------------------------------------------------------------------- entry point

def read_pdf(data: bytes, source: str, sha256: str) -> IngestedDocument:
    pdf = _open(data, source)
    try:
        return read_pdf_document(pdf, data, source, sha256)
    finally:
        pdf.close()


SHAPE_TOLERANCE = 0.02   # page sizes within 2 % are one shape (a scan's pages differ by a few pixels)


def page_shapes(pages: list[PageInfo]) -> dict[int, tuple[int, int]]:
    """Page number -> its shape (rounded width, height): the first shape seen that is within
    SHAPE_TOLERANCE in both sides, else its own. Portrait and landscape pages stay apart; a
    scanned sheet a few pixels off its neighbours shares their metrics, so a paragraph that
    runs over the page break is still joined."""
    shapes: list[tuple[int, int]] = []
    out = {}
    for p in pages:
        key = next((k for k in shapes if abs(k[0] - p.width) <= SHAPE_TOLERANCE * k[0]
                    and abs(k[1] - p.height) <= SHAPE_TOLERANCE * k[1]), None)
        if key is None:
            key = (round(p.width), round(p.height))
            shapes.append(key)
        out[p.number] = key
    return out


def read_pdf_document(pdf, data: bytes, source: str, sha256: str, fmt: str = "pdf",
                      what: str = "scanned PDF") -> IngestedDocument:
    """An open pypdfium2 document -> IngestedDocument (``data``: its bytes, for pdfplumber on
    ruled text pages; ``b""`` for a document built in memory, such as ``ingest/image.py``'s).
    ``what`` names the input in the message when OCR finds no text on any page."""
    pages, warnings = _read_pages(pdf, data, source)
    if not any(p.chars for p in pages):
        n = len(pages)
        if any(p.ocr for p in pages):
            raise IngestError(source, f"{what}: OCR found no text" + (f" on its {n} pages" if n > 1 else ""))
        raise IngestError(source, f"no text on its {n} page{'s' if n != 1 else ''} "
                                  "(no text layer and no scanned image: blank pages)")
    drop_furniture(pages)

    b = DocBuilder()
    # one metrics per page shape (portrait / landscape appendix pages differ)
    by_shape: dict[tuple[int, int], list[Line]] = {}
    shape_of = page_shapes(pages)
    for p in pages:
        by_shape.setdefault(shape_of[p.number], []).extend(
            ln for ln in p.lines if not any(_inside(ln, t.bbox) for t in p.tables))
    metrics = {k: body_metrics(v, k[0]) for k, v in by_shape.items()}

    stream: list[object] = []        # ("para", text, page, style) tuples and PTables, in order
    run: list[Line] = []
    run_metrics: Optional[Metrics] = None

    def flush() -> None:
        nonlocal run
        if run and run_metrics is not None:
            for g in paragraphs(run, run_metrics):
                stream.append(("para", join_lines(g), g[0].page, _style(g, run_metrics)))
        run = []

    for p in pages:
        m = metrics[shape_of[p.number]]
        if run_metrics is not None and m is not run_metrics:
            flush()
        run_metrics = m
        for it in page_items(p):
            if isinstance(it, Line):
                run.append(it)
            elif isinstance(it, Region):
                flush()
                for col in (it.left, it.right):
                    for g in column_paragraphs(col):
                        stream.append(("para", join_lines(g), g[0].page, _style(g, m)))
            else:
                flush()
                stream.append(it)
    flush()

    for k, it in enumerate(stream):
        if isinstance(it, PTable):
            prev = stream[k - 1] if k else None
            if isinstance(prev, PTable):
                it.rows = merge_cut_row(prev.rows, it.rows)
                carry_merged_cells(prev.rows, it.rows)
    for it in stream:
        if isinstance(it, PTable):
            b.table()
            for k, r in enumerate(it.rows):
                b.row(r, it.page, None if k == 0 else False)
        else:
            _, text, page, style = it  # type: ignore[misc]
            b.para(text, page, style, joinable=False)
    meta = {"reader": "pypdfium2+pdfplumber",
            "table_pages": [p.number for p in pages if p.tables]}
    if any(p.ocr for p in pages):
        meta["ocr"] = [p.ocr for p in pages if p.ocr]
    return b.build(source, sha256, fmt, pages=len(pages), meta=meta, warnings=warnings)


def _with_rotation(pdf, turned: dict[int, int]) -> bytes:
    """The PDF with /Rotate set on the pages whose text is turned, so that it reads upright
    (for pdfplumber, which applies /Rotate); ``pdf`` itself is left as it was."""
    pages = [(i, pdf[i]) for i in turned]
    old = [(p, p.get_rotation()) for _i, p in pages]
    try:
        for i, p in pages:
            p.set_rotation((p.get_rotation() + 90 * (4 - turned[i])) % 360)
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()
    finally:
        for p, r in old:
            p.set_rotation(r)
            p.close()


def _read_pages(pdf, data: bytes, source: str) -> tuple[list[PageInfo], list[str]]:
    from kehoach.ingest import legacy, ocr
    pages: list[PageInfo] = []
    warnings: list[str] = []
    ruled: list[int] = []
    turned: dict[int, int] = {}      # ruled pages read in their text's upright frame: their turn
    scanned: list[int] = []          # pages with no usable text layer: OCR
    for i in range(len(pdf)):
        page = pdf[i]
        try:
            tp = page.get_textpage()
            try:
                chars = tp.count_chars()
                turn = text_turn(tp) if chars else 0
                w, h = turned_size(*page.get_size(), turn)
                sink: Optional[list[Char]] = [] if chars and ruled_page(page) else None
                segs = page_segments(page, tp, sink, turn) if chars else []
            finally:
                tp.close()
            info = PageInfo(i + 1, w, h, make_lines(segs, i + 1), chars=len(segs), turn=turn)
            if info.chars and sink is not None:
                try:
                    info.tables = grid_tables(page, h, sink, i + 1, turn)
                except Exception:        # Unsure, or a path pdfium would not describe
                    ruled.append(i)
                    if turn:
                        turned[i] = turn
            if ocr.needs_ocr(page, chars):
                scanned.append(i)
        finally:
            page.close()
        if not info.chars and i not in scanned:
            warnings.append(f"page {i + 1} has no text layer (scanned image?): its text is missing")
        pages.append(info)
    if ruled:                        # grids the fast reader is unsure of
        import pdfplumber
        try:
            if turned:               # pdfminer reads a page turned by /Rotate upright
                data = _with_rotation(pdf, turned)
            with pdfplumber.open(io.BytesIO(data)) as doc:
                for i in ruled:
                    pages[i].tables = page_tables(doc.pages[i], i + 1)
        except Exception as e:  # pdfminer can choke on odd files pdfium reads: keep the text
            warnings.append(f"tables not read ({type(e).__name__}): table text kept as lines")
    enc = None
    for p in pages:                  # TCVN3 / VNI font text layers
        found = legacy.convert_pdf_page(p, enc)
        if found:
            enc = found
            warnings.append(legacy.warning(enc, f"on page {p.number}"))
    ocr.fill_pages(pdf, pages, scanned, source, warnings)
    return pages, warnings
