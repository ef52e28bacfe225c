"""DOCX reader: body paragraphs and tables in reading order -> IngestedDocument.

Stages, each a small function over the WordprocessingML tree:

1. ``_open``          bytes -> python-docx Document (clear IngestError on bad input;
                      ``check_zip_bounds`` refuses zip bombs from the zip directory)
2. ``Styles`` / ``Numbering``  style inheritance (bold, centre, heading, list) and
                      list markers rendered from numbering.xml ("a)", "1.", "-")
3. ``_walk_body``     w:p and w:tbl children of the body, in order -> items
                      (``_P`` paragraphs, ``_T`` tables with merged cells resolved)
4. ``_join_broken``   paragraphs split mid-sentence (lower-case continuation) rejoined
5. ``_feed``          items -> DocBuilder; letterhead/signature layout tables
                      become paragraphs (left column, then right column)

Pages: a DOCX has no pages. When Word saved its rendered page breaks
(w:lastRenderedPageBreak) they give the page of every block; otherwise page=None.
Headers and footers (page numbers) are not part of the body and are not read.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Iterator, Optional

from kehoach.errors import IngestError
from kehoach.ingest import legacy
from kehoach.ingest.builder import DocBuilder, looks_like_header
from kehoach.ingest.layout import layout_hits
from kehoach.ingest.normalize import clean_inline, ends_sentence, is_item_start
from kehoach.models import IngestedDocument

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _q(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


_P_TAG, _TBL, _TR, _TC, _R, _TEXT = _q("p"), _q("tbl"), _q("tr"), _q("tc"), _q("r"), _q("t")
_PPR, _RPR, _TCPR, _TRPR, _TBLPR = _q("pPr"), _q("rPr"), _q("tcPr"), _q("trPr"), _q("tblPr")
_VAL = _q("val")
_SDT, _SDT_CONTENT, _CUSTOM_XML = _q("sdt"), _q("sdtContent"), _q("customXml")
# inline containers whose runs are part of the paragraph's text
_INLINE_CONTAINERS = {_q("hyperlink"), _q("ins"), _q("smartTag"), _q("fldSimple"), _q("customXml"),
                      _q("moveTo"), _q("sdt"), _q("sdtContent"), _q("bdo"), _q("dir")}
_SKIPPED = {_q("del"), _q("moveFrom"), _PPR, _q("proofErr"), _q("bookmarkStart"), _q("bookmarkEnd")}
_TXBX = _q("txbxContent")
_FALLBACK = f"{{{MC_NS}}}Fallback"

_OFF = {"0", "false", "off", "none", "nil"}


def _on(el) -> Optional[bool]:
    """A WordprocessingML toggle: None when absent, else its boolean value."""
    if el is None:
        return None
    v = el.get(_VAL)
    return v is None or v.lower() not in _OFF


def _child(el, *path: str):
    for tag in path:
        if el is None:
            return None
        el = el.find(_q(tag))
    return el


def _attr(el, *path: str) -> Optional[str]:
    e = _child(el, *path)
    return None if e is None else e.get(_VAL)


def _int(s: Optional[str], default: int = 0) -> int:
    try:
        return int(s) if s is not None else default
    except ValueError:
        return default


# ------------------------------------------------------------------- styles

@dataclass
class _Style:
    based_on: Optional[str] = None
    name: str = ""
    bold: Optional[bool] = None
    italic: Optional[bool] = None
    jc: Optional[str] = None
    num_id: Optional[str] = None
    ilvl: Optional[int] = None
    outline: Optional[int] = None
    borders: Optional[bool] = None      # table styles: any visible border


def _borders_visible(borders_el) -> Optional[bool]:
    if borders_el is None:
        return None
    for b in borders_el:
        v = (b.get(_VAL) or "").lower()
        if v and v not in _OFF:
            return True
    return False


class Styles:
    """Paragraph/table style properties with ``basedOn`` inheritance resolved."""

    def __init__(self, root) -> None:
        self._raw: dict[str, _Style] = {}
        self.default_para: Optional[str] = None
        if root is None:
            return
        for st in root.iter(_q("style")):
            sid = st.get(_q("styleId"))
            if not sid:
                continue
            s = _Style(based_on=_attr(st, "basedOn"), name=(_attr(st, "name") or "").lower())
            rpr = st.find(_RPR)
            if rpr is not None:
                s.bold = _on(rpr.find(_q("b")))
                s.italic = _on(rpr.find(_q("i")))
            ppr = st.find(_PPR)
            if ppr is not None:
                s.jc = _attr(ppr, "jc")
                num = ppr.find(_q("numPr"))
                if num is not None:
                    s.num_id = _attr(num, "numId")
                    s.ilvl = _int(_attr(num, "ilvl"), 0)
                ol = _attr(ppr, "outlineLvl")
                s.outline = _int(ol) if ol is not None else None
            tpr = st.find(_TBLPR)
            if tpr is not None:
                s.borders = _borders_visible(tpr.find(_q("tblBorders")))
            self._raw[sid] = s
            if st.get(_q("type")) == "paragraph" and st.get(_q("default")) in ("1", "true", "on"):
                self.default_para = sid

    def get(self, sid: Optional[str]) -> _Style:
        """The effective style (own values over inherited ones)."""
        out = _Style()
        seen = set()
        chain = []
        cur = sid if sid is not None else self.default_para
        while cur and cur in self._raw and cur not in seen:
            seen.add(cur)
            chain.append(self._raw[cur])
            cur = self._raw[cur].based_on
        for s in reversed(chain):          # most basic first, own style last
            for f in ("bold", "italic", "jc", "num_id", "ilvl", "outline", "borders"):
                v = getattr(s, f)
                if v is not None:
                    setattr(out, f, v)
        if chain:
            out.name = chain[0].name
        return out


# ------------------------------------------------------------------- numbering

@dataclass(frozen=True)
class _Level:
    fmt: str
    text: str
    start: int


_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
_BULLETS_KEPT = set("-–—+*•")


def _roman(n: int) -> str:
    out = []
    for v, s in _ROMAN:
        while n >= v:
            out.append(s)
            n -= v
    return "".join(out)


def _letters(n: int) -> str:
    # Vietnamese lists skip no letters in Word's lowerLetter: a..z, then aa, bb, ...
    n = max(1, n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter",):
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class Numbering:
    """numbering.xml: renders the marker of each numbered paragraph, keeping counters."""

    def __init__(self, root) -> None:
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._nums: dict[str, tuple[str, dict[int, int]]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        if root is None:
            return
        for an in root.iter(_q("abstractNum")):
            levels = {}
            for lvl in an.findall(_q("lvl")):
                levels[_int(lvl.get(_q("ilvl")))] = _Level(
                    fmt=_attr(lvl, "numFmt") or "decimal", text=_attr(lvl, "lvlText") or "",
                    start=_int(_attr(lvl, "start"), 1))
            self._abstract[an.get(_q("abstractNumId")) or ""] = levels
        for num in root.iter(_q("num")):
            overrides = {}
            for ov in num.findall(_q("lvlOverride")):
                so = _attr(ov, "startOverride")
                if so is not None:
                    overrides[_int(ov.get(_q("ilvl")))] = _int(so, 1)
            self._nums[num.get(_q("numId")) or ""] = (_attr(num, "abstractNumId") or "", overrides)

    def marker(self, num_id: Optional[str], ilvl: int) -> Optional[str]:
        """The rendered marker of the next item of list ``num_id`` at level ``ilvl``."""
        if not num_id or num_id == "0" or num_id not in self._nums:
            return None
        aid, overrides = self._nums[num_id]
        levels = self._abstract.get(aid, {})
        lvl = levels.get(ilvl)
        if lvl is None:
            return None
        counters = self._counters.setdefault(num_id, {})
        start = overrides.get(ilvl, lvl.start)
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if lvl.fmt == "bullet":
            t = lvl.text.strip()
            return t if t and t in _BULLETS_KEPT else "-"
        if lvl.fmt == "none":
            return lvl.text.strip() or None

        def repl(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            ref = levels.get(k)
            n = counters.get(k, ref.start if ref else 1)
            return format_number(n, ref.fmt if ref else "decimal")
        out = re.sub(r"%(\d)", repl, lvl.text).strip()
        return out or None


# ------------------------------------------------------------------- items

@dataclass
class _P:
    text: str
    page: Optional[int] = None
    bold: bool = False
    italic: bool = False
    center: bool = False
    heading: bool = False
    level: Optional[int] = None
    numbered: bool = False

    @property
    def style(self) -> Optional[str]:
        flags = [n for n, on in (("heading", self.heading), ("bold", self.bold),
                                 ("italic", self.italic), ("center", self.center)) if on]
        return "+".join(flags) or None


@dataclass
class _Cell:
    paras: list[_P]
    span: int = 1
    vmerge: Optional[str] = None    # None | "restart" | "continue"

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paras if p.text)


@dataclass
class _Row:
    cells: list[_Cell]
    header: bool = False
    grid_before: int = 0


@dataclass
class _T:
    rows: list[_Row]
    grid: int
    borderless: bool
    page: Optional[int] = None


@dataclass
class _Ctx:
    styles: Styles
    numbering: Numbering
    use_pages: bool
    page: int = 1
    table_depth: int = 0
    extra: list = field(default_factory=list)   # text-box paragraphs waiting to be emitted
    legacy_font: Optional[tuple] = None          # the default font's legacy encoding (ingest/legacy.py)
    legacy: set = field(default_factory=set)     # legacy encodings converted

    @property
    def cur_page(self) -> Optional[int]:
        return self.page if self.use_pages else None


# ------------------------------------------------------------------- paragraphs

def _runs_text(el, ctx: _Ctx, out: list[str], fmt: list[tuple[bool, bool]], defaults: tuple[bool, bool],
               boxes: list) -> None:
    """Text of a paragraph's runs, depth first; tracks page breaks and run formatting."""
    for ch in el:
        tag = ch.tag
        if tag == _R:
            rpr = ch.find(_RPR)
            b, i = defaults
            if rpr is not None:
                vb, vi = _on(rpr.find(_q("b"))), _on(rpr.find(_q("i")))
                b = b if vb is None else vb
                i = i if vi is None else vi
            for rc in ch:
                rt = rc.tag
                if rt == _TEXT:
                    t = legacy.docx_run_text(rc.text or "", rpr, ctx.legacy_font, ctx.legacy)
                    out.append(t)
                    if t.strip():
                        fmt.append((b, i))
                elif rt == _q("tab") or rt == _q("ptab"):
                    out.append("\t")
                elif rt == _q("br"):
                    if (rc.get(_q("type")) or "") == "page":
                        out.append("\f")
                    else:
                        out.append("\n")
                elif rt == _q("cr"):
                    out.append("\n")
                elif rt == _q("noBreakHyphen"):
                    out.append("-")
                elif rt == _q("lastRenderedPageBreak"):
                    out.append("\v")
                elif rt in (_q("drawing"), _q("pict"), f"{{{MC_NS}}}AlternateContent", _q("object")):
                    _collect_boxes(rc, boxes)
        elif tag in _INLINE_CONTAINERS:
            _runs_text(ch, ctx, out, fmt, defaults, boxes)
        elif tag in _SKIPPED:
            continue


def _collect_boxes(el, boxes: list) -> None:
    """Text boxes inside a drawing (the Fallback copy of AlternateContent is skipped)."""
    stack = [el]
    while stack:
        e = stack.pop()
        if e.tag == _FALLBACK:
            continue
        if e.tag == _TXBX:
            boxes.append(e)
            continue
        stack.extend(reversed(list(e)))


def _read_para(p, ctx: _Ctx) -> list[_P]:
    """One w:p -> one or more _P (a soft line break inside a paragraph starts a new line)."""
    ppr = p.find(_PPR)
    sid = _attr(ppr, "pStyle") if ppr is not None else None
    st = ctx.styles.get(sid)
    jc = _attr(ppr, "jc") if ppr is not None else None
    jc = jc or st.jc
    num_id, ilvl = st.num_id, st.ilvl
    if ppr is not None:
        num = ppr.find(_q("numPr"))
        if num is not None:
            num_id = _attr(num, "numId") or num_id
            ilvl = _int(_attr(num, "ilvl"), ilvl or 0)
    outline = _attr(ppr, "outlineLvl") if ppr is not None else None
    heading = (st.name.startswith("heading") or st.name == "title" or
               (outline is not None and _int(outline, 9) < 9) or (st.outline is not None and st.outline < 9))
    defaults = (bool(st.bold), bool(st.italic))
    parts: list[str] = []
    fmt: list[tuple[bool, bool]] = []
    boxes: list = []
    _runs_text(p, ctx, parts, fmt, defaults, boxes)
    raw = "".join(parts)
    bold = bool(fmt) and all(b for b, _ in fmt)
    italic = bool(fmt) and all(i for _, i in fmt)
    center = jc in ("center", "centre")

    out: list[_P] = []
    # a soft line break starts a new line; an explicit page break too. A rendered page
    # break (Word's layout, "\v") moves the page on without cutting the paragraph: the
    # paragraph keeps the page it starts on.
    marker = ctx.numbering.marker(num_id, ilvl or 0) if num_id and raw.strip() else None
    for piece in re.split(r"[\n\f]", raw):
        n_breaks = piece.count("\v")
        if n_breaks and ctx.use_pages:
            lead = len(piece) - len(piece.lstrip("\v \t"))
            head_breaks = piece[:lead].count("\v")
            ctx.page += head_breaks
            n_breaks -= head_breaks
        page = ctx.cur_page
        if ctx.use_pages:
            ctx.page += n_breaks
        text = clean_inline(piece.replace("\v", "").replace("\t", " "))
        if not text:
            continue
        item = _P(text, page, bold, italic, center, heading)
        if marker is not None and not out:
            item.level, item.numbered = ilvl or 0, True
            if not is_item_start(text) and not text.startswith(marker):
                item.text = f"{marker} {text}"
        out.append(item)
    for box in boxes:
        for bp in box.iter(_P_TAG):
            out.extend(_read_para(bp, ctx))
    return out


# ------------------------------------------------------------------- tables

def _table_borderless(tbl, styles: Styles) -> bool:
    tpr = tbl.find(_TBLPR)
    own = _borders_visible(tpr.find(_q("tblBorders"))) if tpr is not None else None
    if own is None:
        sid = _attr(tpr, "tblStyle") if tpr is not None else None
        own = styles.get(sid).borders if sid else None
    if own:
        return False
    # cell-level borders can draw a grid on a table without table borders
    for tcb in tbl.iter(_q("tcBorders")):
        if _borders_visible(tcb):
            return False
    return True


def _iter_children(parent, tag) -> Iterator:
    """Children with ``tag`` (rows of a table, cells of a row), looking through content
    controls and custom XML that Word wraps around them."""
    for ch in parent:
        if ch.tag == tag:
            yield ch
        elif ch.tag in (_SDT, _CUSTOM_XML):
            inner = ch.find(_SDT_CONTENT) if ch.tag == _SDT else ch
            if inner is not None:
                yield from _iter_children(inner, tag)


def _iter_cells(tr) -> Iterator:
    return _iter_children(tr, _TC)


def _iter_rows(tbl) -> Iterator:
    return _iter_children(tbl, _TR)


def _cell_paras(tc, ctx: _Ctx) -> list[_P]:
    out: list[_P] = []
    for item in _walk(tc, ctx):
        if isinstance(item, _P):
            out.append(item)
        else:  # nested table: one line per row
            for row in item.rows:
                line = " ".join(c.text.replace("\n", " ") for c in row.cells if c.text)
                if line.strip():
                    out.append(_P(clean_inline(line), ctx.cur_page))
    return out


def _read_table(tbl, ctx: _Ctx) -> _T:
    page = ctx.cur_page
    ctx.table_depth += 1
    grid = len(tbl.findall(f"{_q('tblGrid')}/{_q('gridCol')}"))
    rows: list[_Row] = []
    for tr in _iter_rows(tbl):
        trpr = tr.find(_TRPR)
        header = bool(_on(_child(trpr, "tblHeader"))) if trpr is not None else False
        gb = _int(_attr(trpr, "gridBefore"), 0) if trpr is not None else 0
        cells = []
        for tc in _iter_cells(tr):
            tcpr = tc.find(_TCPR)
            span = max(1, _int(_attr(tcpr, "gridSpan"), 1)) if tcpr is not None else 1
            vm = _child(tcpr, "vMerge") if tcpr is not None else None
            vmerge = None if vm is None else ("restart" if vm.get(_VAL) == "restart" else "continue")
            hm = _child(tcpr, "hMerge") if tcpr is not None else None
            if hm is not None and hm.get(_VAL) != "restart" and cells:
                cells[-1].span += 1      # legacy horizontal merge: widen the cell on the left
                continue
            cells.append(_Cell(_cell_paras(tc, ctx), span, vmerge))
        rows.append(_Row(cells, header, gb))
    ctx.table_depth -= 1
    grid = max([grid] + [r.grid_before + sum(c.span for c in r.cells) for r in rows])
    return _T(rows, grid, _table_borderless(tbl, ctx.styles), page)


def grid_rows(t: _T) -> list[list[str]]:
    """Table rows as grid-aligned cell texts: a spanned cell's text sits in its first
    column (the others are ""), a vertically merged continuation takes the text above."""
    above: dict[int, str] = {}
    out = []
    for r in t.rows:
        vals = [""] * t.grid
        col = r.grid_before
        for c in r.cells:
            if col >= t.grid:
                break
            text = above.get(col, "") if c.vmerge == "continue" else c.text
            vals[col] = text
            for k in range(col, min(col + c.span, t.grid)):
                above[k] = text if k == col else ""
            col += c.span
        out.append(vals)
    return out


# ------------------------------------------------------------------- body walk

def _walk(container, ctx: _Ctx) -> Iterator[object]:
    for ch in container:
        tag = ch.tag
        if tag == _P_TAG:
            yield from _read_para(ch, ctx)
        elif tag == _TBL:
            yield _read_table(ch, ctx)
        elif tag in (_SDT, _CUSTOM_XML):
            inner = ch.find(_SDT_CONTENT) if tag == _SDT else ch
            if inner is not None:
                yield from _walk(inner, ctx)


def _join_broken(items: list[object]) -> list[object]:
    """A body paragraph that starts in lower case right after one that does not end a
    sentence is the same paragraph (documents converted from PDF break every line)."""
    out: list[object] = []
    for it in items:
        prev = out[-1] if out else None
        if (isinstance(it, _P) and isinstance(prev, _P) and not it.numbered and not it.center
                and not prev.center and it.text[:1].islower() and not ends_sentence(prev.text)
                and not is_item_start(it.text)):
            prev.text = prev.text + " " + it.text
            continue
        out.append(it)
    return out


def is_layout_table(t: _T, rows: list[list[str]]) -> bool:
    """Letterhead / signature blocks laid out with a table: few columns, few rows, and the
    words of a letterhead or a signature; a visible grid needs two kinds of evidence."""
    if t.grid > 3 or len(rows) > 12 or not rows:
        return False
    text = "\n".join(c for r in rows for c in r if c)
    hits = layout_hits(text)
    if not hits:
        return False
    return t.borderless or len(hits) >= 2


def _emit_table(b: DocBuilder, t: _T) -> None:
    rows = grid_rows(t)
    if is_layout_table(t, rows):
        for r in t.rows:
            for c in r.cells:
                if c.vmerge == "continue":
                    continue
                for p in c.paras:
                    b.para(p.text, p.page, p.style, p.level, joinable=False)
        return
    if t.grid == 1:   # a one-column table is a framed text box
        for r in t.rows:
            for c in r.cells:
                for p in c.paras:
                    b.para(p.text, p.page, p.style, p.level, joinable=False)
        return
    b.table()
    any_marked = any(r.header for r in t.rows)
    for i, (r, cells) in enumerate(zip(t.rows, rows)):
        if any_marked:
            header = r.header
        elif i == 0:
            bold_all = all(p.bold for c in r.cells for p in c.paras) and any(c.paras for c in r.cells)
            header = looks_like_header(cells) or bold_all
        else:
            header = False
        page = r.cells[0].paras[0].page if r.cells and r.cells[0].paras else t.page
        b.row(cells, page, header)


# ------------------------------------------------------------------- entry point

# Bounds on what a DOCX may unzip to, checked on the zip directory before anything is
# decompressed (python-docx reads every part into memory; zipfile stops a member at its
# declared size, so the declared sizes bound the real ones). A 300-page plan with
# scanned annexes unzips to ~60 MiB, its document.xml to ~15 MiB, at ratios under 30.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
MAX_XML_PART_BYTES = 128 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_RATIO = 200             # uncompressed / compressed, for members over RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1024 * 1024


def check_zip_bounds(z: zipfile.ZipFile, source: str) -> None:
    """Refuse a zip bomb: too many entries, too much unzipped data, a part that inflates
    by more than ``MAX_RATIO``, or an XML part too large to parse."""
    infos = z.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise IngestError(source, f"DOCX has {len(infos)} zip entries (limit {MAX_ZIP_ENTRIES}): not a Word document, "
                                  "or a zip bomb")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise IngestError(source, f"DOCX part {info.filename} inflates {info.file_size // max(1, info.compress_size)}x "
                                      f"(limit {MAX_RATIO}x): a zip bomb")
        if info.filename.lower().endswith((".xml", ".rels")) and info.file_size > MAX_XML_PART_BYTES:
            raise IngestError(source, f"DOCX part {info.filename} is {info.file_size // 2 ** 20} MiB of XML "
                                      f"(limit {MAX_XML_PART_BYTES // 2 ** 20} MiB)")
    if total > MAX_UNZIPPED_BYTES:
        raise IngestError(source, f"DOCX unzips to {total // 2 ** 20} MiB (limit {MAX_UNZIPPED_BYTES // 2 ** 20} MiB): "
                                  "a zip bomb or not a Word document")


MAX_TYPES_BYTES = 1 << 20     # [Content_Types].xml is a few kB
# The main part's content type of the other Office Open XML files, as [Content_Types].xml names it.
_OTHER_KINDS = ((b"spreadsheetml.sheet.main", "an Excel workbook (.xlsx)"),
                (b"ms-excel.sheet.macroEnabled.main", "an Excel workbook (.xlsm)"),
                (b"spreadsheetml.template.main", "an Excel template (.xltx)"),
                (b"presentationml.presentation.main", "a PowerPoint presentation (.pptx)"),
                (b"ms-powerpoint.presentation.macroEnabled.main", "a PowerPoint presentation (.pptm)"),
                (b"presentationml.slideshow.main", "a PowerPoint slide show (.ppsx)"),
                (b"presentationml.template.main", "a PowerPoint template (.potx)"),
                (b"visio.drawing.main", "a Visio drawing (.vsdx)"))


def other_office_kind(types: bytes) -> Optional[str]:
    """What an Office Open XML package that is no Word document is, from its [Content_Types].xml
    (None for a Word document, or when no other kind is named)."""
    if b"wordprocessingml.document.main" in types or b"ms-word.document.macroEnabled.main" in types \
            or b"wordprocessingml.template.main" in types or b"ms-word.template.macroEnabledTemplate.main" in types:
        return None
    for key, what in _OTHER_KINDS:
        if key in types:
            return what
    return None


def _open(data: bytes, source: str):
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise IngestError(source, "encrypted or legacy Word file (OLE container, not a DOCX): "
                                  "remove the password or save it as .docx")
    if not data:
        raise IngestError(source, "empty file")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(source, "not a valid DOCX file (not a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            check_zip_bounds(z, source)
            types = z.read("[Content_Types].xml")[:MAX_TYPES_BYTES] if "[Content_Types].xml" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise IngestError(source, f"not a valid DOCX file ({e})") from None
    if "[Content_Types].xml" not in names:
        raise IngestError(source, "not a valid DOCX file (no [Content_Types].xml: a zip, not a Word document)")
    if "EncryptedPackage" in names:
        raise IngestError(source, "encrypted DOCX: needs a password")
    other = other_office_kind(types)
    if other:
        raise IngestError(source, f"{other}, not a Word document (save it as .docx or .pdf if it holds the plan)")
    try:
        import docx  # python-docx
        return docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises many kinds (KeyError, ValueError, PackageNotFoundError, XMLSyntaxError)
        msg = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise IngestError(source, f"not a valid DOCX file ({msg})") from None


def _part_root(getter):
    try:
        part = getter()
    except (NotImplementedError, KeyError, AttributeError, ValueError):
        return None
    return getattr(part, "element", None) if part is not None else None


def read_docx(data: bytes, source: str, sha256: str) -> IngestedDocument:
    document = _open(data, source)
    body = document.element.body
    styles = Styles(_part_root(lambda: document.part._styles_part))
    numbering = Numbering(_part_root(lambda: document.part.numbering_part))
    rendered_breaks = sum(1 for _ in body.iter(_q("lastRenderedPageBreak")))
    ctx = _Ctx(styles, numbering, use_pages=rendered_breaks > 0, legacy_font=legacy.docx_default_font(document))
    items = _join_broken(list(_walk(body, ctx)))

    b = DocBuilder()
    for it in items:
        if isinstance(it, _P):
            b.para(it.text, it.page, it.style, it.level, joinable=False)
        else:
            _emit_table(b, it)  # type: ignore[arg-type]
    meta = {"reader": "python-docx"}
    props = document.core_properties
    if props.title:
        meta["title_property"] = props.title
    return b.build(source, sha256, "docx", pages=ctx.page if ctx.use_pages else None, meta=meta,
                   warnings=[legacy.warning(e, "in legacy-font runs") for e in sorted(ctx.legacy)])
