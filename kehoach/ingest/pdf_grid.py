"""The fast ruled-table reader: a page's painted paths (pypdfium2 path objects) -> rulings
-> snapped grid -> cells (merged cells too) -> each cell's text from the page's characters.

It follows pdfplumber's table rules (same tolerances, same cells, same text lines), so both
readers give the same rows; where it cannot vouch for a grid (rulings in form XObjects,
cells that do not tile, rows or columns under MIN_UNIT) it raises ``Unsure`` and
``ingest.pdf`` hands the page to pdfplumber.

Stages: ``page_rulings`` -> ``snap_rulings`` -> ``grid_cells`` -> ``table_grid`` ->
``fill_grid`` (``cell_text`` per cell).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple, Optional


class Char(NamedTuple):
    """One drawn character and its box (top-left origin, points), for table cells."""
    text: str
    x0: float
    top: float
    x1: float
    bottom: float


# ---- the fast reader: pdfium path objects -> rulings -> grid -> cells -> text.
# Tolerances are pdfplumber's defaults, so both readers see the same grid.

SNAP = 3.0          # rulings this close on the cross axis are one ruling (their mean)
JOIN = 3.0          # collinear rulings with a gap up to this are one
MIN_RULING = 3.0    # shorter rulings are dropped
TOUCH = 3.0         # a ruling ending this close to another still meets it
MIN_UNIT = 10.0     # grid rows/columns narrower than this: unsure (double rules, stubs)
TEXT_X, TEXT_Y = 3.0, 3.0   # a gap wider than TEXT_X splits words; tops within TEXT_Y share a line


@dataclass(frozen=True)
class Ruling:
    """A horizontal ("h": at ``pos`` = top, from ``lo`` = x0 to ``hi`` = x1) or vertical
    ("v": at ``pos`` = x, from ``lo`` = top to ``hi`` = bottom) line, top-left origin."""
    orient: str
    pos: float
    lo: float
    hi: float


TOO_CLOSE = "grid lines too close"


class Unsure(Exception):
    """The fast table reader cannot vouch for this page: pdfplumber reads it."""


class TooClose(Unsure):
    """Some rows or columns of the grid are narrower than MIN_UNIT (double rules, spacer columns):
    ``plumber_cells`` reads it from the same rulings instead of the whole page going to pdfplumber."""


def page_rulings(page, height: float) -> list[Ruling]:
    """Every horizontal and vertical piece of the page's painted paths, as pdfminer sees
    them: a two-point subpath is a line, other subpaths (rectangles, polygons, curves)
    give one piece per pair of consecutive points (curve end points only)."""
    import ctypes
    import pypdfium2.raw as R
    x, y = ctypes.c_float(), ctypes.c_float()
    m = R.FS_MATRIX()
    out: list[Ruling] = []
    raw_page = page.raw
    for k in range(R.FPDFPage_CountObjects(raw_page)):
        obj = R.FPDFPage_GetObject(raw_page, k)
        kind = R.FPDFPageObj_GetType(obj)
        if kind == R.FPDF_PAGEOBJ_FORM:
            if _form_has_paths(R, obj):
                raise Unsure("rulings inside a form XObject")
            continue
        if kind != R.FPDF_PAGEOBJ_PATH:
            continue
        R.FPDFPageObj_GetMatrix(obj, m)
        a, b, c, d, e, f = m.a, m.b, m.c, m.d, m.e, m.f
        subpaths: list[tuple[list[tuple[float, float]], bool]] = []
        pts: list[tuple[float, float]] = []
        curved, nbez = False, 0
        for i in range(R.FPDFPath_CountSegments(obj)):
            seg = R.FPDFPath_GetPathSegment(obj, i)
            R.FPDFPathSegment_GetPoint(seg, x, y)
            px, py = x.value, y.value
            pt = (a * px + c * py + e, height - (b * px + d * py + f))
            t = R.FPDFPathSegment_GetType(seg)
            if t == R.FPDF_SEGMENT_MOVETO:
                if pts:
                    subpaths.append((pts, curved))
                pts, curved, nbez = [pt], False, 0
            elif t == R.FPDF_SEGMENT_BEZIERTO:
                curved, nbez = True, nbez + 1
                if nbez % 3 == 0:          # control, control, end point
                    pts.append(pt)
            else:
                pts.append(pt)
            if R.FPDFPathSegment_GetClose(seg) and pts and pts[-1] != pts[0]:
                pts.append(pts[0])
        if pts:
            subpaths.append((pts, curved))
        for pts, curved in subpaths:
            out.extend(_subpath_rulings(pts, curved))
    return out


def _form_has_paths(R, form) -> bool:
    for k in range(R.FPDFFormObj_CountObjects(form)):
        obj = R.FPDFFormObj_GetObject(form, k)
        kind = R.FPDFPageObj_GetType(obj)
        if kind == R.FPDF_PAGEOBJ_PATH or (kind == R.FPDF_PAGEOBJ_FORM and _form_has_paths(R, obj)):
            return True
    return False


def _subpath_rulings(pts: list[tuple[float, float]], curved: bool) -> list[Ruling]:
    if len(pts) < 2:
        return []
    if not curved and (len(pts) == 2 or (len(pts) == 3 and pts[2] == pts[0])):
        pairs = [(pts[0], pts[1])]                      # a line
        (x0, y0), (x1, y1) = pts[0], pts[1]
        if x0 != x1 and y0 != y1 and abs(y1 - y0) >= 1:
            raise Unsure("a slanted line")              # pdfplumber takes it for a vertical rule
    else:
        pairs = list(pairwise(pts))
    out = []
    for (x0, y0), (x1, y1) in pairs:
        if x0 == x1 and abs(y1 - y0) >= 1:
            out.append(Ruling("v", x0, min(y0, y1), max(y0, y1)))
        elif y0 == y1 and x0 != x1 and abs(x1 - x0) >= 1:
            out.append(Ruling("h", y0, min(x0, x1), max(x0, x1)))
    return out


def snap_rulings(rulings: list[Ruling]) -> list[Ruling]:
    """Rulings of one orientation whose positions chain within SNAP move to their mean;
    collinear ones that overlap or nearly meet (JOIN) become one; short ones go."""
    out: list[Ruling] = []
    for orient in ("v", "h"):
        rs = sorted((r for r in rulings if r.orient == orient), key=lambda r: r.pos)
        groups: list[list[Ruling]] = []
        for r in rs:
            if groups and r.pos <= groups[-1][-1].pos + SNAP:
                groups[-1].append(r)
            else:
                groups.append([r])
        for g in groups:
            pos = sum(r.pos for r in g) / len(g)
            joined: list[list[float]] = []
            for r in sorted(g, key=lambda r: r.lo):
                if joined and r.lo <= joined[-1][1] + JOIN:
                    joined[-1][1] = max(joined[-1][1], r.hi)
                else:
                    joined.append([r.lo, r.hi])
            out.extend(Ruling(orient, pos, lo, hi) for lo, hi in joined if hi - lo >= MIN_RULING)
    return out


def _meets(h: Ruling, v: Ruling) -> bool:
    return v.lo <= h.pos + TOUCH and v.hi >= h.pos - TOUCH and h.lo - TOUCH <= v.pos <= h.hi + TOUCH


def _covers(rulings: list[Ruling], pos: float, lo: float, hi: float) -> bool:
    return any(r.pos == pos and r.lo <= lo + TOUCH and r.hi >= hi - TOUCH for r in rulings)


def _touches(rulings: list[Ruling], pos: float, lo: float, hi: float) -> bool:
    return any(r.pos == pos and r.lo < hi - TOUCH and r.hi > lo + TOUCH for r in rulings)


Cell = tuple[float, float, float, float]      # x0, top, x1, bottom


def grid_cells(rulings: list[Ruling]) -> list[list[Cell]]:
    """Snapped rulings -> tables, each a list of cells (merged cells span several grid
    units). Rulings that meet form a group; a group is a table when it is a closed frame
    whose inner rulings cut it into rectangles, each drawn by one ruling per side.
    Anything else that could make cells raises Unsure."""
    hs = [r for r in rulings if r.orient == "h"]
    vs = [r for r in rulings if r.orient == "v"]
    parent = list(range(len(hs) + len(vs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if _meets(h, v):
                parent[find(i)] = find(len(hs) + j)
    groups: dict[int, tuple[list[Ruling], list[Ruling]]] = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    tables = []
    for gh, gv in groups.values():
        if not gh or not gv:
            continue                    # a lone line (underline, signature rule): no cells
        cells = _group_cells(gh, gv)
        if len(cells) > 1:
            tables.append(cells)
    tables.sort(key=lambda cs: min((c[1], c[0]) for c in cs))
    return tables


def _group_cells(hs: list[Ruling], vs: list[Ruling]) -> list[Cell]:
    xs = sorted({v.pos for v in vs})
    ys = sorted({h.pos for h in hs})
    if len(xs) < 2 or len(ys) < 2:
        return []                       # rulings meeting in a cross or a corner: no cells
    if min(b - a for a, b in pairwise(xs)) < MIN_UNIT or min(b - a for a, b in pairwise(ys)) < MIN_UNIT:
        raise TooClose(TOO_CLOSE)
    nr, nc = len(ys) - 1, len(xs) - 1
    # is the border between two grid units drawn? (drawn over part of it: unsure)
    h_drawn = [[False] * nc for _ in ys]
    v_drawn = [[False] * nr for _ in xs]
    for i, yy in enumerate(ys):
        for j in range(nc):
            h_drawn[i][j] = _covers(hs, yy, xs[j], xs[j + 1])
            if not h_drawn[i][j] and _touches(hs, yy, xs[j], xs[j + 1]):
                raise Unsure("a ruling stops inside a cell")
    for j, xx in enumerate(xs):
        for i in range(nr):
            v_drawn[j][i] = _covers(vs, xx, ys[i], ys[i + 1])
            if not v_drawn[j][i] and _touches(vs, xx, ys[i], ys[i + 1]):
                raise Unsure("a ruling stops inside a cell")
    if not (all(h_drawn[0]) and all(h_drawn[-1]) and all(v_drawn[0]) and all(v_drawn[-1])):
        raise Unsure("no closed frame")
    # units joined where no border is drawn between them: the merged cells
    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(nr):
        for j in range(nc):
            if j + 1 < nc and not v_drawn[j + 1][i]:
                parent[find(i * nc + j)] = find(i * nc + j + 1)
            if i + 1 < nr and not h_drawn[i + 1][j]:
                parent[find(i * nc + j)] = find((i + 1) * nc + j)
    spans: dict[int, list[int]] = {}
    for i in range(nr):
        for j in range(nc):
            r = spans.setdefault(find(i * nc + j), [i, j, i, j, 0])
            r[0], r[1], r[2], r[3] = min(r[0], i), min(r[1], j), max(r[2], i), max(r[3], j)
            r[4] += 1
    cells = []
    for i0, j0, i1, j1, n in spans.values():
        if n != (i1 - i0 + 1) * (j1 - j0 + 1):
            raise Unsure("cells do not tile the frame")
        inner_h = any(h_drawn[i][j] for i in range(i0 + 1, i1 + 1) for j in range(j0, j1 + 1))
        inner_v = any(v_drawn[j][i] for j in range(j0 + 1, j1 + 1) for i in range(i0, i1 + 1))
        if inner_h or inner_v:
            raise Unsure("a ruling stops inside a merged cell")
        x0, top, x1, bottom = xs[j0], ys[i0], xs[j1 + 1], ys[i1 + 1]
        if not (_covers(hs, top, x0, x1) and _covers(hs, bottom, x0, x1)
                and _covers(vs, x0, top, bottom) and _covers(vs, x1, top, bottom)):
            raise Unsure("a cell side drawn in broken pieces")
        cells.append((x0, top, x1, bottom))
    return cells


def table_grid(cells: list[Cell]) -> list[list[Optional[Cell]]]:
    """Cells -> rows (by top), one slot per distinct cell left edge; a slot covered by a
    merged cell is None."""
    xs = sorted({c[0] for c in cells})
    rows: dict[float, dict[float, Cell]] = {}
    for c in sorted(cells, key=lambda c: (c[1], c[0])):
        rows.setdefault(c[1], {})[c[0]] = c
    return [[r.get(x) for x in xs] for _, r in sorted(rows.items())]


def _in_box(ch: Char, box: Cell) -> bool:
    cx, cy = (ch.x0 + ch.x1) / 2, (ch.top + ch.bottom) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


def cell_text(chars: list[Char]) -> str:
    """The characters of a cell as lines (tops within TEXT_Y chain into one line) of
    words (split at spaces, at a gap wider than TEXT_X and where the text goes back)."""
    if not chars:
        return ""
    tops = sorted({c.top for c in chars})
    line_of: dict[float, int] = {}
    n = 0
    for k, t in enumerate(tops):
        if k and t > tops[k - 1] + TEXT_Y:
            n += 1
        line_of[t] = n
    lines: list[list[Char]] = [[] for _ in range(n + 1)]
    for c in chars:
        lines[line_of[c.top]].append(c)
    out = []
    for ln in lines:
        words: list[str] = []
        word: list[Char] = []
        for c in sorted(ln, key=lambda c: (c.x0, c.bottom)):
            if c.text.isspace():
                if word:
                    words.append("".join(w.text for w in word))
                word = []
                continue
            if word:
                p = word[-1]
                if c.x0 < p.x0 or c.x0 > p.x1 + TEXT_X or abs(c.top - p.top) > TEXT_Y:
                    words.append("".join(w.text for w in word))
                    word = []
            word.append(c)
        if word:
            words.append("".join(w.text for w in word))
        out.append(" ".join(words))
    return "\n".join(out)


def fill_grid(grid: list[list[Optional[Cell]]], chars: list[Char]) -> list[list[Optional[str]]]:
    """Each cell's text from the characters whose centre lies in it (left/top edges
    inclusive, as pdfplumber); characters keep the page's stream order."""
    by_y = sorted(((c.top + c.bottom) / 2, k) for k, c in enumerate(chars))
    ys = [y for y, _ in by_y]
    rows = []
    for row in grid:
        present = [c for c in row if c is not None]
        x0, x1 = min(c[0] for c in present), max(c[2] for c in present)
        lo, hi = bisect_left(ys, min(c[1] for c in present)), bisect_left(ys, max(c[3] for c in present))
        row_chars = [chars[k] for _, k in sorted(by_y[lo:hi], key=lambda t: t[1])]
        row_chars = [ch for ch in row_chars if x0 <= (ch.x0 + ch.x1) / 2 < x1]
        rows.append([None if c is None else cell_text([ch for ch in row_chars if _in_box(ch, c)]) for c in row])
    return rows


def plumber_cells(rulings: list[Ruling]) -> list[list[Cell]]:
    """Snapped rulings -> tables by pdfplumber's own cell rules (its pure geometry functions:
    intersections -> smallest closed rectangles -> corner-sharing groups), for the grids
    ``grid_cells`` is unsure of because some rows or columns are narrower than MIN_UNIT
    (double rules, a spacer column): pdfplumber reads them as narrow cells, and so does this.
    The rulings are already snapped and joined as pdfplumber would (``snap_rulings``)."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells
    edges = [{"orientation": "h", "x0": r.lo, "x1": r.hi, "top": r.pos, "bottom": r.pos,
              "width": r.hi - r.lo} if r.orient == "h" else
             {"orientation": "v", "x0": r.pos, "x1": r.pos, "top": r.lo, "bottom": r.hi,
              "height": r.hi - r.lo} for r in rulings]
    cells = intersections_to_cells(edges_to_intersections(edges, TOUCH, TOUCH))
    return [list(t) for t in cells_to_tables(cells)]
