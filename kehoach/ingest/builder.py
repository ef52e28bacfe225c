"""Assemble a reader's paragraphs and table rows into one IngestedDocument.

Every reader (TXT, DOCX, PDF) feeds a DocBuilder in reading order; the builder
applies the rules all formats share:
- paragraphs cut by a page break are joined back (``normalize.continues``);
- a table continued on the next page (header repeated, or same column count with
  nothing in between) is one table, and a row cut by the page break is merged
  back cell by cell;
- offsets: the normalized text is the blocks joined by "\\n", so every block,
  and every record later cut from it, has a character span and a page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from kehoach.models import Block, IngestedDocument, Table
from kehoach.ingest.normalize import clean_cell, clean_inline, continues, cut_in_cell

_HEADER_WORDS = re.compile(
    r"^(stt|tt|số tt|nội dung|nhiệm vụ|các nhiệm vụ|chỉ tiêu|tên chỉ tiêu|đơn vị|cơ quan|thời gian|"
    r"thời hạn|kết quả|sản phẩm|ghi chú|tiến độ|dự kiến|kinh phí|năm)", re.I)


def looks_like_header(cells: list[str]) -> bool:
    filled = [c for c in cells if c.strip()]
    if len(filled) < 2:
        return False
    hits = sum(1 for c in filled if _HEADER_WORDS.match(c.strip()))
    return hits >= max(2, len(filled) // 2)


_NON_WORD = re.compile(r"\W+")


def _norm_header(cells: list[str]) -> tuple:
    return tuple(_NON_WORD.sub("", c.lower()) for c in cells)


@dataclass
class _Para:
    text: str
    page: Optional[int]
    style: Optional[str] = None
    level: Optional[int] = None
    joinable: bool = True


@dataclass
class _Row:
    cells: list[str]
    page: Optional[int]
    header: bool = False


@dataclass
class _Table:
    rows: list[_Row] = field(default_factory=list)
    after_repeat: bool = False
    header_key: Optional[tuple] = None   # _norm_header of its first header row (rows never change)


class DocBuilder:
    """Collects items in reading order; ``build`` returns the IngestedDocument."""

    def __init__(self) -> None:
        self._items: list[object] = []

    # -- paragraphs
    def para(self, text: str, page: Optional[int] = None, style: Optional[str] = None,
             level: Optional[int] = None, joinable: bool = True) -> None:
        text = clean_inline(text)
        if not text:
            return
        self._items.append(_Para(text, page, style, level, joinable))

    # -- tables: start one, then add its rows
    def table(self) -> None:
        self._items.append(_Table())

    def row(self, cells: list[str], page: Optional[int] = None, header: Optional[bool] = None) -> None:
        if not self._items or not isinstance(self._items[-1], _Table):
            self.table()
        t: _Table = self._items[-1]  # type: ignore[assignment]
        cells = [clean_cell(c or "") for c in cells]
        if not any(cells):
            return
        if header is None:
            header = not t.rows and looks_like_header(cells)
        if t.header_key is not None and _norm_header(cells) == t.header_key:
            t.after_repeat = True   # a header repeated inside the table (page break): drop it
            return
        if t.after_repeat and t.rows and not t.rows[-1].header and not cells[0].strip() \
                and not _is_group_title(cells):
            last = t.rows[-1]        # the rest of a row cut by the page break
            width = max(len(last.cells), len(cells))
            a = last.cells + [""] * (width - len(last.cells))
            b = cells + [""] * (width - len(cells))
            last.cells = [_join_cell(x, y) for x, y in zip(a, b)]
            t.after_repeat = False
            return
        t.after_repeat = False
        t.rows.append(_Row(cells, page, header))
        if header and t.header_key is None:
            t.header_key = _norm_header(cells)

    # -- assembly
    def _merged_items(self) -> list[object]:
        out: list[object] = []
        for it in self._items:
            if isinstance(it, _Para):
                prev = out[-1] if out else None
                if isinstance(prev, _Para) and prev.joinable and it.joinable and continues(prev.text, it.text):
                    prev.text = prev.text + " " + it.text
                    continue
                out.append(it)
            elif isinstance(it, _Table):
                if not it.rows:
                    continue
                prev = out[-1] if out else None
                if isinstance(prev, _Table) and _continues_table(prev, it):
                    _append_continuation(prev, it)
                    continue
                out.append(it)
        return out

    def build(self, source: str, sha256: str, fmt: str, pages: Optional[int] = None,
              meta: Optional[dict] = None, warnings: Optional[list[str]] = None) -> IngestedDocument:
        blocks: list[Block] = []
        tables: list[Table] = []
        parts: list[str] = []
        pos = 0

        def add(block: Block) -> None:
            nonlocal pos
            block.start, block.end = pos, pos + len(block.text)
            blocks.append(block)
            parts.append(block.text)
            pos = block.end + 1  # the "\n" between blocks

        for it in self._merged_items():
            if isinstance(it, _Para):
                add(Block("para", it.text, 0, 0, it.page, style=it.style, level=it.level))
            else:
                ti = len(tables)
                width = max(len(r.cells) for r in it.rows)
                header: list[str] = []
                tab = Table(index=ti, header=header, page_start=it.rows[0].page, page_end=it.rows[-1].page)
                for r in it.rows:
                    cells = r.cells + [""] * (width - len(r.cells))
                    if r.header and not tab.rows:
                        header[:] = cells if not header else [
                            (a + " " + b).strip() if a != b else a for a, b in zip(header, cells)]
                    text = "\t".join(c.replace("\n", " ") for c in cells)
                    add(Block("row", text, 0, 0, r.page, cells=cells, table=ti, header=r.header))
                    if not r.header:
                        tab.rows.append(len(blocks) - 1)
                tables.append(tab)
        doc = IngestedDocument(source=source, sha256=sha256, format=fmt, text="\n".join(parts),
                               blocks=blocks, tables=tables, pages=pages, meta=dict(meta or {}),
                               warnings=list(warnings or []))
        return doc


def _header_of(t: _Table) -> Optional[tuple]:
    for r in t.rows:
        if r.header:
            return _norm_header(r.cells)
    return None


def _continues_table(prev: _Table, nxt: _Table) -> bool:
    """``nxt`` directly follows ``prev`` (no paragraph between): is it the same table
    continued on the next page?"""
    hp, hn = _header_of(prev), _header_of(nxt)
    if hn is not None:
        return hp is not None and hn == hp
    wp = max(len(r.cells) for r in prev.rows)
    wn = max(len(r.cells) for r in nxt.rows)
    return wp == wn


def _is_group_title(cells: list[str]) -> bool:
    filled = [i for i, c in enumerate(cells) if c.strip()]
    if not filled:
        return False
    if len(set(c for c in cells if c.strip())) == 1 and filled[0] <= 1:
        return True  # merged cell repeated, or one title cell
    return False


def _append_continuation(prev: _Table, nxt: _Table) -> None:
    rows = [r for r in nxt.rows if not r.header]
    if rows and prev.rows and not prev.rows[-1].header:
        first = rows[0]
        if not first.cells[0].strip() and not _is_group_title(first.cells):
            last = prev.rows[-1]
            width = max(len(last.cells), len(first.cells))
            a = last.cells + [""] * (width - len(last.cells))
            b = first.cells + [""] * (width - len(first.cells))
            last.cells = [_join_cell(x, y) for x, y in zip(a, b)]
            rows = rows[1:]
    prev.rows.extend(rows)


def _join_cell(a: str, b: str) -> str:
    """A cell cut by a page break and its rest on the next page (a word cut there too: ``cut_in_cell``)."""
    if not a:
        return b
    if not b:
        return a
    return a + b if cut_in_cell(a, b) else a + " " + b
