"""Tasks: body items and paragraphs in the parts about tasks (SPEC "What is a
task"), and rows of task/indicator tables, each with owners, deadline,
targets, legal references and span.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional

from kehoach.extract import owners as own
from kehoach.extract.bodies import bodies, kind_of
from kehoach.extract.data import rows
from kehoach.extract.outline import Outline
from kehoach.models import Deadline, IngestedDocument, Span, Target, Task

@dataclass
class Context:
    doc: IngestedDocument
    plan_year: Optional[int]
    deadline: Callable[..., Optional[Deadline]]      # extract.deadlines.parse_deadline
    target: Optional[Callable[..., Optional[Target]]] = None   # extract.targets.parse_target
    excluded_spans: list[tuple[int, int]] = field(default_factory=list)   # citation spans (absolute)


@lru_cache(maxsize=1)
def _non_task_patterns():
    return [re.compile(r[0], re.I) for r in rows("non_tasks.tsv")]


def is_non_task(text: str) -> bool:
    t = text.strip()
    return any(p.search(t) for p in _non_task_patterns())


def _actionable(text: str) -> bool:
    words = text.split()
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.8 * len(letters) and len(text) < 120:
        return False  # an upper-case heading or authority line
    return len(words) >= 4


def _deadline(ctx: Context, text: str, start: int, cell: bool = False) -> Optional[Deadline]:
    excl = [(a - start, b - start) for a, b in ctx.excluded_spans if b > start and a < start + len(text)]
    return ctx.deadline(text, ctx.plan_year, exclude=excl, cell=cell)


# ---------------------------------------------------------------- body tasks

def body_tasks(ctx: Context, out: Outline) -> list[Task]:
    nodes = out.nodes
    tasks: list[Task] = []
    resolved: dict[int, tuple[list[str], list[str]]] = {}   # node -> (lead, support) of a task node
    heading_owners: dict[int, list[str]] = {}                 # node -> owners its heading names (once per node)

    def heading_owner_of(a: int) -> list[str]:
        if a not in heading_owners:
            heading_owners[a] = own.heading_owner(nodes[a].text)
        return heading_owners[a]

    def context_owners(i: int) -> tuple[list[str], list[str]]:
        """Owners from headings and owner lines above node i."""
        lead: list[str] = []
        support: list[str] = []
        for a in out.ancestors(i):
            an = nodes[a]
            if an.is_heading:
                h = heading_owner_of(a)
                if h:
                    lead, support = h, []
            # owner lines ("* Cơ quan chủ trì: X") among the children of this ancestor, before the path
            for c in an.children:
                if c >= i:
                    break
                decl = own.owner_declaration(nodes[c].text)
                if decl:
                    if decl[0] == "lead":
                        lead = decl[1]
                    else:
                        support = decl[1]
        return lead, support

    for i, n in enumerate(nodes):
        if n.zone != "task":
            continue
        if n.kind == "item" and n.mtype[0] in ("roman", "part", "dieu"):
            continue
        if n.is_heading or own.owner_declaration(n.text):
            continue
        text = n.text.strip()
        if not text or is_non_task(text) or not _actionable(text):
            continue
        if n.kind == "item" and n.mtype[0] == "num" and not n.children and text.endswith(":"):
            continue
        lead, support = context_owners(i)
        # continuation of the owner block of the previous task item under the same parent
        if n.kind == "para":
            prev = _previous_task_sibling(out, i, resolved)
            if prev is not None:
                # the owner block goes on; its support too, unless it was the previous item's own "phối hợp với"
                lead = resolved[prev][0]
                if not own.support_in(nodes[prev].text):
                    support = resolved[prev][1]
        elif n.kind == "item" and n.parent is not None and not nodes[n.parent].is_heading and n.parent in resolved:
            lead = resolved[n.parent][0]
        mine, person = own.leading_owner(text)
        generic = bool(mine) and all(kind_of(x) == "generic" for x in mine)
        if mine and not ((person or generic) and lead):
            lead = mine
        sup = own.support_in(text)
        if sup:
            support = [s for s in sup if s not in lead]
        resolved[i] = (lead, support)
        block = ctx.doc.blocks[n.block]
        start = n.offset
        end = block.end
        tasks.append(Task(id="", kind="task", section=n.section, text=text, lead=list(lead), support=list(support),
                          deadline=_deadline(ctx, text, start), span=Span(start, end, block.page)))
    return tasks


def _previous_task_sibling(out: Outline, i: int, resolved: dict) -> Optional[int]:
    n = out.nodes[i]
    if n.parent is None:
        sibs = [k for k, x in enumerate(out.nodes[:i]) if x.parent is None]
    else:
        sibs = [c for c in out.nodes[n.parent].children if c < i]
    for k in reversed(sibs):
        if k in resolved:
            return k
        if out.nodes[k].kind == "item":
            return None
    if n.parent is not None and n.parent in resolved:
        return n.parent
    return None


# ---------------------------------------------------------------- table tasks

_COLS = [
    ("stt", re.compile(r"^(stt|tt|số\s*tt|số thứ tự)$", re.I)),
    ("lead", re.compile(r"chủ trì(?!.*đánh giá)|cơ quan thực hiện|đơn vị thực hiện|cơ quan, đơn vị thực hiện|trách nhiệm thực hiện|đơn vị chịu trách nhiệm|cơ quan chịu trách nhiệm", re.I)),
    ("support", re.compile(r"phối hợp", re.I)),
    ("time", re.compile(r"thời gian|thời hạn|tiến độ|hoàn thành|thời điểm", re.I)),
    ("unit", re.compile(r"^(đơn vị tính|đvt|đơn vị)$", re.I)),
    ("value", re.compile(r"(chỉ tiêu|mục tiêu|kế hoạch|giá trị)\s*(năm\s*)?\d{4}|năm\s*\d{4}|^mục tiêu$|^chỉ tiêu giao$|^giá trị", re.I)),
    ("text", re.compile(r"nhiệm vụ|nội dung|chỉ tiêu|tên|hoạt động|công việc|giải pháp|đề án|dự án|sản phẩm", re.I)),
    ("eval", re.compile(r"đánh giá", re.I)),
    ("note", re.compile(r"ghi chú|kết quả|sản phẩm", re.I)),
]
_ROWNUM = re.compile(r"^(?P<n>\d{1,3}(?:\.\d{1,2})*)\.?$")
_YEAR = re.compile(r"(?:19|20)\d{2}")


def classify_columns(header: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for j, h in enumerate(header):
        h = h.strip()
        for name, rx in _COLS:
            if name in cols or not rx.search(h):
                continue
            if name == "text" and "value" in cols and cols["value"] == j:
                continue
            cols[name] = j
            break
    return cols


def table_tasks(ctx: Context, section_of: Callable[[int], str], in_appendix: Callable[[int], bool]) -> list[Task]:
    doc = ctx.doc
    tasks: list[Task] = []
    group = 0
    for tab in doc.tables:
        if not tab.header or not tab.rows:
            continue
        cols = classify_columns(tab.header)
        if "text" not in cols:
            continue
        if not ({"lead", "time", "value"} & set(cols)):
            continue
        header_year = None
        if "value" in cols:
            y = _YEAR.search(tab.header[cols["value"]])
            header_year = int(y.group(0)) if y else ctx.plan_year
        prev_lead: list[str] = []
        parent_text: Optional[str] = None
        parent_num: Optional[str] = None
        base = section_of(tab.rows[0])
        appendix = in_appendix(tab.rows[0])
        if appendix and not re.search(r"\d", base.replace("PL", "")):
            group_mode = True
        else:
            group_mode = False
        for k, bi in enumerate(tab.rows):
            b = doc.blocks[bi]
            cells = b.cells or []
            cell = lambda name: (cells[cols[name]] if name in cols and cols[name] < len(cells) else "").strip()
            stt = cell("stt")
            text = cell("text")
            filled = [c for c in cells if c.strip()]
            if not text:
                continue
            if len(set(filled)) == 1 and not _ROWNUM.match(stt):
                group += 1 if group_mode else 0
                prev_lead = []
                parent_text = None
                continue
            num = _ROWNUM.match(stt)
            # a parent row ("6. Tỷ lệ ...") whose sub-rows ("6.1.") follow
            nxt = doc.blocks[tab.rows[k + 1]] if k + 1 < len(tab.rows) else None
            nxt_stt = (nxt.cells[cols["stt"]].strip() if nxt is not None and "stt" in cols and nxt.cells else "")
            if num and nxt_stt.startswith(num.group("n") + ".") and not cell("value") and not cell("lead"):
                parent_text, parent_num = text.rstrip(" :."), num.group("n")
                continue
            is_sub = bool(num and parent_num and num.group("n").startswith(parent_num + "."))
            if not is_sub:
                parent_text, parent_num = None, None
            lead = bodies(cell("lead")) if cell("lead") else []
            if not lead and "lead" in cols:
                lead = prev_lead
            prev_lead = lead
            support = bodies(cell("support")) if cell("support") else []
            full = f"{parent_text} - {text}" if is_sub and parent_text else text
            kind = "task"
            targets: list[Target] = []
            deadline = None
            if "value" in cols and cell("value") and ctx.target:
                t = ctx.target(full, cell("value"), cell("unit") or None, header_year)
                if t:
                    kind, targets = "indicator", [t]
            if cell("time"):
                deadline = _deadline(ctx, cell("time"), 0, cell=True)
            if deadline is None and kind == "indicator" and header_year:
                deadline = Deadline(text=f"năm {header_year}", date=f"{header_year}-12-31")
            if deadline is None:
                deadline = _deadline(ctx, text, b.start + b.text.find(text[:20]) if text[:20] in b.text else b.start)
            if group_mode:
                sec = f"PL.{max(group, 1)}"
            else:
                sec = base
            if is_sub and parent_num:
                sec = f"{sec}.{parent_num}"
            start = b.start + max(0, b.text.find(text[:30]))
            tasks.append(Task(id="", kind=kind, section=sec, text=full, lead=lead, support=support,
                              deadline=deadline, targets=targets, span=Span(start, min(b.end, start + len(text)), b.page)))
    return tasks
