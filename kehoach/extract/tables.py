"""Table tasks: rows of task and indicator tables (appendix "Phụ lục" tables and
tables in the body), each with owners from the table's columns, deadline,
targets, expected output ("Sản phẩm") and span.

``table_tasks`` reads each usable table row by row: ``_row_kind`` says what a row is,
``_parent_row`` what a numbered row heading sub-rows is, ``_task_from_row`` builds the
record. A table's rows follow the grammar of issued plans:

- the header row, repeated at the top of every page, and a column-numbering row
  ("(1) | (2) | (3)", "A | B | 1 | 2") are not tasks;
- a group row ("I | Hoàn thiện thể chế ...", "1. Nhóm nhiệm vụ ...", one cell spanning
  the row, or a text with every other cell empty before sub-numbered rows) is a heading:
  its owner and deadline cells pass down to the rows below it, its STT goes into their
  section ("PL.I.1");
- an empty Đơn vị chủ trì cell, and an empty Thời gian cell in a column that is otherwise
  filled, continue a vertically merged cell: they take the value above;
- a pilot period in the row's text ("thí điểm đến 31/12/2027") is not its deadline;
- text copied from a portal loses the line breaks inside a cell and the cells a rowspan covers:
  "Các sở, ngành, UBND xã, phường, đặc khu Sở Tài chính" is two owners (a body head right after a
  lower-case word, no comma), a cell of k sentences beside owner cells of k owners each is k
  sub-rows, and cells past the header's last column are a sub-row's text, lead and support
  (``_sub_rows``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable, Literal, Optional

from kehoach.extract.bodies import bodies
from kehoach.extract.data import rows as data_rows
from kehoach.extract.tasks import Context, _deadline
from kehoach.models import Block, Deadline, Span, Table, Target, Task

RowKind = Literal["header", "group", "parent", "task"]

_COLUMN_KINDS = ("stt", "lead", "support", "time", "unit", "value", "product", "text", "eval", "note")
_ROWNUM = re.compile(r"^(?P<n>\d{1,3}(?:\.\d{1,2})*)\.?$")
_LABEL = re.compile(r"^(?:[IVXLC]{1,6}|[A-ZĐ])\.?$")          # group STT: roman numeral or capital letter
_NUMBERING = re.compile(r"^\(?(?:\d{1,2}|[A-ZĐ])\)?(?:\s*[=+*/x-]\s*\(?\d{1,2}\)?)*$")   # "(1)", "B", "4=3/2"
_YEAR = re.compile(r"(?:19|20)\d{2}")
FILLED_COLUMN = 0.6     # a column filled in at least this share of task rows: its empty cells continue a merge


@lru_cache(maxsize=1)
def column_vocab() -> dict[str, re.Pattern]:
    """column_headers.tsv -> one pattern per kind (its rows OR-ed), in file order."""
    parts: dict[str, list[str]] = {}
    for kind, pattern in data_rows("column_headers.tsv"):
        parts.setdefault(kind, []).append(f"(?:{pattern})")
    return {k: re.compile("|".join(v), re.I) for k, v in parts.items()}


def classify_columns(header: list[str]) -> dict[str, int]:
    """Header cells -> {column kind: index}; each kind names one column (the first)."""
    vocab = column_vocab()
    cols: dict[str, int] = {}
    for j, h in enumerate(header):
        h = h.strip()
        for name in _COLUMN_KINDS:
            if name in cols or not vocab[name].search(h):
                continue
            cols[name] = j
            break
    return cols


# ---------------------------------------------------------------- rows

@dataclass
class _Row:
    block: Block
    cells: list[str]
    cols: dict[str, int]

    def cell(self, name: str) -> str:
        j = self.cols.get(name)
        return self.cells[j].strip() if j is not None and j < len(self.cells) else ""

    @property
    def filled(self) -> list[str]:
        return [c.strip() for c in self.cells if c.strip()]

    def others_empty(self) -> bool:
        """Every cell but STT and the text is empty (a heading row of the table)."""
        keep = {self.cols.get("stt"), self.cols.get("text")}
        return not any(c.strip() for j, c in enumerate(self.cells) if j not in keep)


_NON_WORD = re.compile(r"\W+")


def _norm(s: str) -> str:
    return _NON_WORD.sub("", s.lower())


def _row_kind(row: _Row, header: list[str], nxt: Optional[_Row]) -> RowKind:
    """What a table row is.

    header  the table's header repeated (on every page), or a column-numbering row;
    group   a heading row: a roman/letter STT, group words ("Nhóm nhiệm vụ"), one text
            spanning the row, or a numbered text alone before rows numbered below it;
    parent  a numbered row whose sub-rows ("6." then "6.1.") follow, with no owner or value;
    task    everything else that has a text."""
    filled = row.filled
    text, stt = row.cell("text"), row.cell("stt")
    num = _ROWNUM.match(stt)
    if filled and not num and len(set(filled)) == 1 and not _NUMBERING.match(filled[0]):
        return "group"                   # one text spanning the row (merged across)
    if not text:
        return "header"
    same = sum(1 for a, b in zip(row.cells, header) if a.strip() and _norm(a) == _norm(b))
    if same >= 2 or (same and same == len(filled)):
        return "header"
    if all(_NUMBERING.match(c) for c in filled):
        return "header"
    if not num and _LABEL.match(stt):
        return "group"
    if column_vocab()["group"].search(text):
        return "group"
    if num and row.others_empty() and nxt is not None and nxt.cell("text") and not _ROWNUM.match(nxt.cell("stt")):
        return "group"                   # "1 | Hoàn thiện thể chế" over unnumbered ("-", "a)") rows
    if num and _parent_row(row, nxt):
        return "parent"
    return "task"


def _parent_row(row: _Row, nxt: Optional[_Row]) -> bool:
    """A numbered row ("6.", "1.") whose next row is numbered below it ("6.1", "1.1") and
    which states no owner and no value: the heading of its sub-rows."""
    num = _ROWNUM.match(row.cell("stt"))
    if not num or nxt is None or row.cell("value") or row.cell("lead"):
        return False
    return nxt.cell("stt").startswith(num.group("n") + ".")


@dataclass
class _TableState:
    """What the rows above pass down: the open group (label and cells), the parent row."""
    base: str
    appendix: bool
    group_label: Optional[str] = None
    group_cells: dict[str, str] = field(default_factory=dict)
    parent_text: Optional[str] = None
    parent_num: Optional[str] = None
    above: dict[str, str] = field(default_factory=dict)       # last task row's owner/time cells
    filled_columns: set[str] = field(default_factory=set)
    # read once a document: the owners of an owner cell, the deadline of a time cell (rows repeat them)
    owners_of: dict[str, list[str]] = field(default_factory=dict)
    deadline_of: dict[str, Optional[Deadline]] = field(default_factory=dict)

    def section(self, stt: str) -> str:
        parts = [self.base]
        num = _ROWNUM.match(stt)
        if self.group_label and not (num and num.group("n").startswith(self.group_label + ".")):
            parts.append(self.group_label)           # "1.1" under group "1." is "PL.1.1", not "PL.1.1.1"
        if num:
            parts.append(num.group("n"))
        elif self.parent_num:
            parts.append(self.parent_num)
        return ".".join(parts)


def _filled_columns(rows: list[_Row], header: list[str]) -> set[str]:
    """Columns whose empty cells continue a vertical merge: the owner column always (a
    merged "Tất cả các phòng" beside ten rows is written once), the time column when it is
    filled in most task rows."""
    body = [r for r in rows if r.cell("text") and not r.others_empty() and not _LABEL.match(r.cell("stt"))]
    out = {"lead"}
    if body and sum(1 for r in body if r.cell("time")) >= FILLED_COLUMN * len(body):
        out.add("time")
    return out


def _period_spans(text: str) -> list[tuple[int, int]]:
    """Pilot and similar periods in a text: where a deadline must not be read."""
    return [m.span() for m in column_vocab()["period"].finditer(text)]


def _deadline_outside_periods(ctx: Context, text: str, start: int, cell: bool = False) -> Optional[Deadline]:
    spans = _period_spans(text)
    if not spans:
        return _deadline(ctx, text, start, cell=cell)
    keep = list(text)
    for a, b in spans:
        keep[a:b] = " " * (b - a)
    return _deadline(ctx, "".join(keep), start, cell=cell)


_ASIDE = re.compile(r"\s*\([^()]*\)")


def _deadline_cell(ctx: Context, cell: str) -> Optional[Deadline]:
    """A Thời gian cell's deadline; a condition in brackets ("Năm 2026 (sau khi Chính phủ
    ban hành Nghị định ...)") is set aside when the whole cell does not read as one."""
    d = _deadline_outside_periods(ctx, cell, 0, cell=True)
    if d is None and "(" in cell:
        bare = _ASIDE.sub("", cell).strip()
        if bare and bare != cell:
            d = _deadline_outside_periods(ctx, bare, 0, cell=True)
    return d


def _cell_owners(state: _TableState, cell: str) -> list[str]:
    got = state.owners_of.get(cell)
    if got is None:
        got = state.owners_of[cell] = bodies(_unjoin(cell))
    return list(got)


def _cell_deadline(ctx: Context, state: _TableState, cell: str) -> Optional[Deadline]:
    """``_deadline_cell`` (a function of the cell's text in one document: offsets from 0) read once a text."""
    if cell not in state.deadline_of:
        state.deadline_of[cell] = _deadline_cell(ctx, cell)
    got = state.deadline_of[cell]
    return replace(got) if got is not None else None


def _task_from_row(ctx: Context, row: _Row, state: _TableState, header_year: Optional[int]) -> Task:
    """One task or indicator from a body row, with what its group and the rows above pass down."""
    b = row.block
    text, stt = row.cell("text"), row.cell("stt")
    is_sub = bool(state.parent_num and stt.startswith(state.parent_num + "."))
    if not is_sub:
        state.parent_text = state.parent_num = None

    def inherited(name: str) -> str:
        own = row.cell(name)
        if own:
            return own
        if name in state.filled_columns and state.above.get(name):
            return state.above[name]
        return state.group_cells.get(name, "")

    lead_cell, time_cell = inherited("lead"), inherited("time")
    support_cell = row.cell("support") or state.group_cells.get("support", "")
    state.above.update({"lead": lead_cell, "time": time_cell})
    lead = _cell_owners(state, lead_cell) if lead_cell else []
    support = _cell_owners(state, support_cell) if support_cell else []

    kind = "task"
    targets: list[Target] = []
    full = text
    if "value" in row.cols and row.cell("value") and ctx.target:
        named = f"{state.parent_text} - {text}" if is_sub and state.parent_text else text
        t = ctx.target(named, row.cell("value"), row.cell("unit") or None, header_year)
        if t:
            kind, targets, full = "indicator", [t], named
    deadline = _cell_deadline(ctx, state, time_cell) if time_cell else None
    if deadline is None and kind == "indicator" and header_year:
        deadline = Deadline(text=f"năm {header_year}", date=f"{header_year}-12-31")
    if deadline is None:
        at = b.start + b.text.find(text[:20]) if text[:20] in b.text else b.start
        deadline = _deadline_outside_periods(ctx, text, at)
    start = b.start + max(0, b.text.find(text[:30]))
    return Task(id="", kind=kind, section=state.section(stt), text=full, lead=lead, support=support,
                deadline=deadline, targets=targets, span=Span(start, min(b.end, start + len(text)), b.page),
                product=row.cell("product") or None)


# ---------------------------------------------------------------- cells that lost their line breaks

# a body head right after a lower-case word with no comma between: a line break of the cell was lost
# ("... xã, phường, đặc khu Sở Tài chính"); not after words that take a body as their complement
# ("Văn phòng UBND tỉnh", "Thanh tra Sở", "thuộc Sở", "và Ủy ban nhân dân")
_LOST_BREAK = re.compile(r"(?<=[a-zà-ỹđ])(?<!\bvà)(?<!\bvới)(?<!\bcủa)(?<!\bthuộc)(?<!\bcùng)(?<!\bphòng)(?<!\btra)(?<!\bđạo)"
                         r"(?<!\btrưởng)(?<!\btịch)(?<!\bđốc)(?<!\bbộ)(?<!\bsở)"
                         r" (?=(?:Các|Sở|UBND|Ủy ban nhân dân|Bộ|Công an|Cơ quan|Trung tâm|Ngân hàng|Văn phòng)(?![\wÀ-ỹđĐ]))")
_SENTENCE_BREAK = re.compile(r"(?<=[.;])\s+(?=[A-ZĐ])")


def _cell_parts(cell: str) -> list[str]:
    return [p for p in _LOST_BREAK.split(cell.strip()) if p.strip()]


def _unjoin(cell: str) -> str:
    return "; ".join(_cell_parts(cell)) if cell and _LOST_BREAK.search(cell) else cell


def _sub_rows(row: _Row, header: list[str]) -> list[_Row]:
    """The sub-rows a portal text folded into one row: cells past the header's last named column (a
    rowspan sub-row's own text, lead and support), or k sentences beside lead and support cells of k
    owners each. [] when the row is one task."""
    cols = row.cols
    if not {"text", "lead"} <= set(cols):
        return []
    width = max((j for j, h in enumerate(header) if h.strip()), default=-1) + 1
    cells = list(row.cells)
    extra = [j for j in range(width, len(cells)) if cells[j].strip()]
    order = [cols[n] for n in ("text", "lead", "support") if n in cols]
    if extra and len(cells) >= len(order) + 1:
        # the trailing run of filled cells that reaches past the header: one cell per own column
        j = len(cells)
        while j > 0 and cells[j - 1].strip():
            j -= 1
        run = cells[j:]
        if len(run) == len(order) and j < width and _SENTENCE_BREAK.sub(" ", run[0]).split() and \
                len(run[0].split()) >= 5:
            main = cells[:j] + [""] * (len(cells) - j)
            sub = list(main)
            for c, v in zip(order, run):
                sub[c] = v
            if "product" in cols:
                sub[cols["product"]] = ""
            row.cells = main
            return [_Row(row.block, sub, cols)]
    text = row.cell("text")
    sentences = [x for x in _SENTENCE_BREAK.split(text) if x.strip()]
    leads = _cell_parts(row.cell("lead"))
    sups = _cell_parts(row.cell("support")) if "support" in cols and row.cell("support") else None
    k = len(sentences)
    if k >= 2 and len(leads) == k and (sups is None or len(sups) == k) and all(len(x.split()) >= 5 for x in sentences):
        out = []
        for n in range(k):
            sub = list(cells)
            sub[cols["text"]] = sentences[n]
            sub[cols["lead"]] = leads[n]
            if sups is not None:
                sub[cols["support"]] = sups[n]
            out.append(_Row(row.block, sub, cols))
        row.cells = out[0].cells
        return out[1:]
    return []


# ---------------------------------------------------------------- tables

def _usable(tab: Table) -> Optional[dict[str, int]]:
    """The columns of a task/indicator table (a text column and an owner, time or value
    column), else None."""
    if not tab.header or not tab.rows:
        return None
    cols = classify_columns(tab.header)
    if "text" not in cols or not ({"lead", "time", "value"} & set(cols)):
        return None
    if not ({"lead", "time"} & set(cols)) and _figures_form(tab.header):
        return None
    return cols


def _figures_form(header: list[str]) -> bool:
    """A form of figures over years (two or more "Năm 2026" / "Dự toán 2026" / "Ước thực hiện" columns):
    it reports or forecasts, it assigns no target (see ``series`` in column_headers.tsv)."""
    rx = column_vocab()["series"]
    return sum(bool(rx.search(h.strip())) for h in header if h.strip()) >= 2


def table_tasks(ctx: Context, section_of: Callable[[int], str], in_appendix: Callable[[int], bool]) -> list[Task]:
    doc = ctx.doc
    tasks: list[Task] = []
    counter = 0                      # unlabelled group rows, counted across appendix tables
    owners_of: dict[str, list[str]] = {}
    deadline_of: dict[str, Optional[Deadline]] = {}
    for tab in doc.tables:
        cols = _usable(tab)
        if cols is None:
            continue
        header_year = None
        if "value" in cols:
            y = _YEAR.search(tab.header[cols["value"]])
            header_year = int(y.group(0)) if y else ctx.plan_year
        rows = [_Row(doc.blocks[bi], doc.blocks[bi].cells or [], cols) for bi in tab.rows]
        base = section_of(tab.rows[0])
        appendix = in_appendix(tab.rows[0])
        numbered_base = bool(re.search(r"\d", base.replace("PL", "")))
        state = _TableState(base=base, appendix=appendix, owners_of=owners_of, deadline_of=deadline_of)
        state.filled_columns = _filled_columns(rows, tab.header)
        if appendix and not numbered_base:
            state.group_label = str(max(counter, 1))
        for k, row in enumerate(rows):
            kind = _row_kind(row, tab.header, rows[k + 1] if k + 1 < len(rows) else None)
            if kind == "header":
                continue
            if kind == "group":
                stt = row.cell("stt").rstrip(".")
                if _LABEL.match(row.cell("stt")) or _ROWNUM.match(row.cell("stt")):
                    state.group_label = stt
                elif appendix and not numbered_base:
                    counter += 1
                    state.group_label = str(counter)
                else:
                    state.group_label = None
                state.group_cells = {n: row.cell(n) for n in ("lead", "support", "time") if row.cell(n)}
                state.above = {}
                state.parent_text = state.parent_num = None
                continue
            if kind == "parent":
                state.parent_text = row.cell("text").rstrip(" :.")
                state.parent_num = _ROWNUM.match(row.cell("stt")).group("n")  # type: ignore[union-attr]
                continue
            subs = _sub_rows(row, tab.header)
            tasks.append(_task_from_row(ctx, row, state, header_year))
            for sub in subs:
                tasks.append(_task_from_row(ctx, sub, state, header_year))
    return tasks
