"""Table tasks: rows of task and indicator tables (appendix "Phụ lục" tables and
tables in the body), each with owners from the table's columns, deadline,
targets and span.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from kehoach.extract.bodies import bodies
from kehoach.extract.tasks import Context, _deadline
from kehoach.models import Deadline, Span, Target, Task


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
