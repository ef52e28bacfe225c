"""HTML reader: a page saved from a legal portal (vbpl, chinhphu.vn, provincial
portals, ...) -> IngestedDocument with the same blocks as the DOCX reader.

Stages, each a small function over the lxml tree:

1. ``_parse``      bytes -> lxml tree; the encoding from the BOM or ``<meta charset>``,
                   else UTF-8 when the bytes decode, else Windows-1258
2. ``_prune``      what is never document text goes: scripts, styles, forms controls,
                   ``nav``/``aside``/``footer``, ARIA navigation roles, hidden elements
3. ``find_body``   the document body: from ``<body>`` go down into the child that holds
                   at least ``BODY_SHARE`` of the text outside links (menus, breadcrumbs
                   and "related documents" lists are link text), unless that would drop
                   a letterhead or signature that the child does not have
4. ``_Walker``     block elements -> paragraphs (``<br>`` starts a new line, as a soft
                   break does in Word), ``<li>`` markers rendered, ``<table>`` -> a grid
                   with ``colspan``/``rowspan`` resolved (the DOCX reader's table record)
5. DOCX rules      ``docx._join_broken`` and ``docx._emit_table``: broken lines rejoined,
                   letterhead/signature layout tables read as paragraphs, one-column
                   tables as framed text, real tables as rows

A page has no pages: ``page`` is None. Spans are offsets into the normalized text,
like every reader's. A page without a document (site chrome only, or the document
only as an embedded PDF) is refused with one line saying so.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Optional

from kehoach.errors import IngestError
from kehoach.ingest.builder import DocBuilder
from kehoach.ingest.docx import _Cell, _emit_table, _join_broken, _P, _Row, _T, format_number
from kehoach.ingest.layout import layout_hits
from kehoach.ingest.normalize import clean_inline, is_item_start, parse_designation
from kehoach.models import IngestedDocument

# A child is the document body rather than its parent when it holds this share of the
# parent's non-link text: the vbpl reading pane holds 93-99% of its page's, the site
# header with its title summary and tab bar the rest.
BODY_SHARE = 0.8
# Fewer characters of non-link text than this in the body: the page has no document.
MIN_DOCUMENT_CHARS = 200
# Bounds on table spans (HTML allows colspan 1000, rowspan 65534): a hostile page must
# not make a grid of millions of cells.
MAX_COLSPAN = 100
MAX_ROWSPAN = 1000
# lxml's tree takes ~10x the page's bytes; a saved page is ~1 MiB (most of it scripts and
# styles), one with inline images a few MiB.
MAX_HTML_BYTES = 64 * 1024 * 1024

_BLOCK = frozenset("""address article aside blockquote body caption center dd details dialog dir div dl dt
fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main menu nav ol p pre
section summary table tbody td tfoot th thead tr ul""".split())
_DROP = frozenset("""script style noscript template svg math iframe frame frameset object embed canvas video
audio map button select input textarea option datalist nav aside footer head title meta link base""".split())
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar", "toolbar",
                         "tablist", "dialog", "alert"})
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|bolder|[6-9]00)", re.I)
_NORMAL_WEIGHT = re.compile(r"font-weight\s*:\s*(normal|lighter|[1-5]00)", re.I)
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*(italic|oblique)", re.I)
_CENTER_STYLE = re.compile(r"text-align\s*:\s*center", re.I)
_ALIGN_STYLE = re.compile(r"text-align\s*:\s*(left|right|justify|start|end)", re.I)
_BORDER_STYLE = re.compile(r"border(-style)?\s*:\s*([^;]*)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_WS = re.compile(r"[ \t\r\n\f]+")


# ------------------------------------------------------------------- parsing

def _encoding(data: bytes) -> str:
    """The page's encoding: BOM, then ``<meta charset>`` in the first 4 KiB (the HTML
    prescan), then UTF-8 when the bytes decode, else Windows-1258 (Vietnamese Windows)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return enc
    m = _META_CHARSET.search(data[:4096])
    if m:
        name = m.group(1).decode("ascii", "replace").lower()
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1258"


def _parse(data: bytes, source: str):
    import lxml.html
    from lxml import etree
    enc = _encoding(data)
    try:
        text = data.decode(enc, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    # strip an XML declaration: lxml refuses str input that declares its own encoding
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        root = lxml.html.document_fromstring(text, parser=lxml.html.HTMLParser(remove_comments=True))
    except (etree.ParserError, ValueError) as e:
        raise IngestError(source, f"not a readable HTML page ({e})") from None
    return root


def _style(el) -> str:
    return el.get("style") or ""


def _hidden(el) -> bool:
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return True
    return bool(_HIDDEN.search(_style(el)))


def _prune(root) -> None:
    """Drop the elements that never hold document text (their tails are kept)."""
    doomed = [el for el in root.iter() if not isinstance(el.tag, str) or el.tag in _DROP
              or (el.get("role") or "").lower() in _DROP_ROLES or _hidden(el)]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()


# ------------------------------------------------------------------- the body

def _text_stats(root) -> dict:
    """Element -> (characters of text, characters inside links), one pass bottom-up."""
    stats: dict = {}
    for el in reversed(list(root.iter())):
        total = len(_WS.sub(" ", el.text or "").strip())
        link = 0
        for ch in el:
            t, lk = stats.get(ch, (0, 0))
            tail = len(_WS.sub(" ", ch.tail or "").strip())
            total += t + tail
            link += lk
        if el.tag == "a":
            link = total
        stats[el] = (total, link)
    return stats


def _content(stats: dict, el) -> int:
    t, lk = stats.get(el, (0, 0))
    return t - lk


def _kinds(el) -> set[str]:
    return {h.split(":", 1)[0] for h in layout_hits(el.text_content())}


def find_body(root):
    """The element that holds the document: the deepest one reached by going into the
    child with ``BODY_SHARE`` of the non-link text, stopping before a step that would
    leave a letterhead or signature behind."""
    body = root.find("body")
    node = body if body is not None else root
    stats = _text_stats(node)
    while True:
        kids = [ch for ch in node if isinstance(ch.tag, str)]
        if not kids:
            return node, stats
        best = max(kids, key=lambda ch: _content(stats, ch))
        total = _content(stats, node)
        if total <= 0 or _content(stats, best) < BODY_SHARE * total:
            return node, stats
        dropped = set()
        for ch in kids:
            if ch is not best and _content(stats, ch) > 0:
                dropped |= _kinds(ch)
        if dropped - _kinds(best):
            return node, stats
        node = best


# ------------------------------------------------------------------- walking

@dataclass(frozen=True)
class _State:
    bold: bool = False
    italic: bool = False
    center: bool = False
    heading: bool = False
    pre: bool = False
    list_depth: int = 0


def _child_state(el, st: _State) -> _State:
    tag, style = el.tag, _style(el)
    bold, italic, center, heading, pre = st.bold, st.italic, st.center, st.heading, st.pre
    if tag in ("b", "strong", "th") or _BOLD_STYLE.search(style):
        bold = True
    elif _NORMAL_WEIGHT.search(style):
        bold = False
    if tag in ("i", "em", "cite") or _ITALIC_STYLE.search(style):
        italic = True
    if tag in _BLOCK:
        align = (el.get("align") or "").lower()
        if tag == "center" or align == "center" or _CENTER_STYLE.search(style):
            center = True
        elif align in ("left", "right", "justify") or _ALIGN_STYLE.search(style):
            center = False
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        heading, bold = True, True
    if tag in ("pre", "xmp", "listing", "plaintext"):
        pre = True
    return _State(bold, italic, center, heading, pre, st.list_depth + (tag in ("ol", "ul")))


def _int_attr(el, name: str, default: int, cap: int) -> int:
    try:
        return max(1, min(cap, int((el.get(name) or "").strip() or default)))
    except ValueError:
        return default


def _bordered(el) -> Optional[bool]:
    """Whether an element draws a border: None when it does not say."""
    border = el.get("border")
    out: Optional[bool] = None
    if border is not None:
        out = border.strip() not in ("", "0")
    for m in _BORDER_STYLE.finditer(_style(el)):
        v = m.group(2).lower()
        out = not any(w in v for w in ("none", "hidden")) and not re.match(r"^\s*0(px|pt)?\s*$", v)
    return out


class _Walker:
    """One container's children -> ``_P`` paragraphs and ``_T`` tables in reading order."""

    def __init__(self) -> None:
        self.items: list[object] = []
        self._line: list[str] = []
        self._fmt: list[tuple[bool, bool]] = []
        self._blocks: list[_State] = [_State()]
        self._marker: Optional[tuple[str, int]] = None
        self._counters: list[int] = []

    # -- text
    def _add(self, text: Optional[str], st: _State) -> None:
        if not text:
            return
        if st.pre:
            lines = text.replace("\r\n", "\n").split("\n")
            for k, line in enumerate(lines):
                if k:
                    self.flush()
                self._add_run(line, st)
        else:
            self._add_run(_WS.sub(" ", text), st)

    def _add_run(self, text: str, st: _State) -> None:
        self._line.append(text)
        if text.strip():
            self._fmt.append((st.bold, st.italic))

    def flush(self) -> None:
        text = clean_inline("".join(self._line))
        fmt = self._fmt
        self._line, self._fmt = [], []
        if not text:
            return
        blk = self._blocks[-1]
        bold = bool(fmt) and all(b for b, _ in fmt)
        italic = bool(fmt) and all(i for _, i in fmt)
        p = _P(text, None, bold, italic, blk.center, blk.heading)
        if self._marker is not None:
            marker, level = self._marker
            self._marker = None
            p.level, p.numbered = level, True
            if marker and not is_item_start(text) and not text.startswith(marker):
                p.text = f"{marker} {text}"
        self.items.append(p)

    # -- elements
    def walk_children(self, el, st: _State) -> None:
        self._add(el.text, st)
        for ch in el:
            self.walk(ch, st)
            self._add(ch.tail, st)

    def walk(self, el, st: _State) -> None:
        if not isinstance(el.tag, str):
            return
        tag = el.tag
        if tag in ("br", "hr"):      # a line break starts a new line, as a soft break does in Word
            self.flush()
            return
        cst = _child_state(el, st)
        if tag == "table":
            self.flush()
            t = _read_table(el, cst)
            if t is not None:
                self.items.append(t)
            return
        if tag not in _BLOCK:
            self.walk_children(el, cst)
            return
        self.flush()
        self._blocks.append(cst)
        if tag in ("ol", "ul"):
            self._counters.append(_int_attr(el, "start", 1, 10 ** 6) - 1)
        if tag == "li":
            self._marker = (self._li_marker(el), max(0, cst.list_depth - 1))
        self.walk_children(el, cst)
        self.flush()
        if tag in ("ol", "ul"):
            self._counters.pop()
        if tag == "li":
            self._marker = None
        self._blocks.pop()

    def _li_marker(self, li) -> str:
        parent = li.getparent()
        if parent is None or parent.tag != "ol" or not self._counters:
            return "-"
        value = li.get("value")
        if value is not None and value.strip().lstrip("-").isdigit():
            self._counters[-1] = int(value)
        else:
            self._counters[-1] += 1
        n = self._counters[-1]
        kind = parent.get("type") or "1"
        fmt = {"a": "lowerLetter", "A": "upperLetter", "i": "lowerRoman", "I": "upperRoman"}.get(kind, "decimal")
        num = format_number(n, fmt)
        return f"{num})" if fmt == "lowerLetter" else f"{num}."


def _cell_paras(td, st: _State) -> list[_P]:
    w = _Walker()
    w._blocks = [st]
    w.walk_children(td, st)
    w.flush()
    out: list[_P] = []
    for it in w.items:
        if isinstance(it, _P):
            out.append(it)
        else:  # a table inside a cell: one line per row, as the DOCX reader does
            for row in it.rows:  # type: ignore[attr-defined]
                line = " ".join(c.text.replace("\n", " ") for c in row.cells if c.text)
                if line.strip():
                    out.append(_P(clean_inline(line)))
    return out


def _table_rows(table) -> list:
    """The ``<tr>`` of this table (not of tables nested in its cells), in order."""
    rows = []
    for ch in table:
        if ch.tag == "tr":
            rows.append((ch, False))
        elif ch.tag in ("thead", "tbody", "tfoot"):
            rows.extend((tr, ch.tag == "thead") for tr in ch if tr.tag == "tr")
    return rows


def _read_table(table, st: _State) -> Optional[_T]:
    """``<table>`` -> the DOCX reader's table record: a ``rowspan`` becomes the
    "continue" cells Word writes for a vertical merge, a ``colspan`` the cell's span."""
    rows: list[_Row] = []
    pending: dict[int, list[int]] = {}      # column -> [rows left, span] of a rowspan from above
    any_border = _bordered(table)
    cell_borders: list[Optional[bool]] = []
    for tr, in_head in _table_rows(table):
        rst = _child_state(tr, st)
        cells: list[_Cell] = []
        col = 0

        def fill_pending() -> None:
            nonlocal col
            while col in pending:
                left_span = pending[col]
                cells.append(_Cell([], left_span[1], "continue"))
                left_span[0] -= 1
                span = left_span[1]
                if left_span[0] <= 0:
                    del pending[col]
                col += span

        tds = [c for c in tr if c.tag in ("td", "th")]
        for td in tds:
            fill_pending()
            cst = _child_state(td, rst)
            span = _int_attr(td, "colspan", 1, MAX_COLSPAN)
            down = _int_attr(td, "rowspan", 1, MAX_ROWSPAN)
            cells.append(_Cell(_cell_paras(td, cst), span, "restart" if down > 1 else None))
            cell_borders.append(_bordered(td))
            if down > 1:
                pending[col] = [down - 1, span]
            col += span
        while pending and col <= max(pending):
            if col in pending:
                fill_pending()
            else:
                cells.append(_Cell([], 1, None))
                col += 1
        header = in_head or (bool(tds) and all(td.tag == "th" for td in tds))
        rows.append(_Row(cells, header, 0))
    if not rows:
        return None
    grid = max(sum(c.span for c in r.cells) for r in rows)
    if grid == 0:
        return None
    visible = [b for b in cell_borders if b is not None]
    if visible:
        borderless = not any(visible)
    else:
        borderless = not any_border
    return _T(rows, grid, borderless, None)


# ------------------------------------------------------------------- entry point

def _embedded_document(root) -> bool:
    for el in root.iter("iframe", "embed", "object"):
        src = (el.get("src") or el.get("data") or "").lower()
        if ".pdf" in src or "pdf" in (el.get("type") or "").lower():
            return True
    return False


# A document's designation as portals print it in the page's chrome (breadcrumb, heading, tab title):
# "Quyết định số 21/2025/QĐ-TTg Quy định tiêu chí môi trường ...". Some portals show the body without the
# letterhead ("Số: …" missing); the extractor then takes the number from the designation whose type and
# title are the body's own (related-document lists name other documents).
MAX_DESIGNATIONS = 20


def page_designations(root) -> list[str]:
    """The distinct short text pieces of the whole page (chrome included) that read "<Loại> số <số hiệu>
    [trích yếu]", in page order, at most ``MAX_DESIGNATIONS``."""
    out: list[str] = []
    for piece in root.itertext():
        if not (12 <= len(piece) <= 400):
            continue
        t = clean_inline(" ".join(piece.split()))
        if " số " in t and parse_designation(t) and t not in out:
            out.append(t)
            if len(out) >= MAX_DESIGNATIONS:
                break
    return out


def read_html(data: bytes, source: str, sha256: str) -> IngestedDocument:
    if len(data) > MAX_HTML_BYTES:
        raise IngestError(source, f"HTML page of {len(data) // 2 ** 20} MiB (limit {MAX_HTML_BYTES // 2 ** 20} MiB)")
    root = _parse(data, source)
    title_el = root.find(".//title")
    title = clean_inline(title_el.text_content()) if title_el is not None else ""
    embedded = _embedded_document(root)
    designations = page_designations(root)
    _prune(root)
    try:
        body, stats = find_body(root)
        chars = _content(stats, body)
        if chars < MIN_DOCUMENT_CHARS:
            why = ("the document is only an embedded PDF: download the original file"
                   if embedded else f"only {chars} characters of text outside links and menus")
            raise IngestError(source, f"no document in the HTML page ({why})")
        w = _Walker()
        w.walk_children(body, _child_state(body, _State()))
        w.flush()
    except RecursionError:
        raise IngestError(source, "HTML page nested too deeply to read") from None
    items = _join_broken(w.items)

    b = DocBuilder()
    for it in items:
        if isinstance(it, _P):
            b.para(it.text, None, it.style, it.level, joinable=False)
        else:
            _emit_table(b, it)  # type: ignore[arg-type]
    meta = {"reader": "lxml.html", "html_body": body.getroottree().getpath(body)}
    if title:
        meta["title_property"] = title
    if designations:
        meta["designations"] = designations
    return b.build(source, sha256, "html", meta=meta)


def read_mhtml(data: bytes, source: str, sha256: str) -> IngestedDocument:
    """A page saved as a web archive (.mht/.mhtml: MIME multipart/related, as browsers
    and Word save it): its first text/html part, read as an HTML page."""
    import email
    from email import policy
    msg = email.message_from_bytes(data, policy=policy.compat32)
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True) or b""
            charset = part.get_content_charset()
            if charset and not html.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                try:
                    html = html.decode(charset, errors="replace").encode("utf-8")
                    html = b'<meta charset="utf-8">' + html
                except LookupError:
                    pass
            doc = read_html(html, source, sha256)
            doc.format = "mhtml"
            return doc
    raise IngestError(source, "web archive without an HTML page in it")
