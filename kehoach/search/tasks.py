"""The tasks view: list tasks without a query, filtered by owner, province, plan, document
kind, deadline range, status as of a date and text; written as a table, JSON, CSV (UTF-8
with BOM, for Excel) or XLSX (real dates, frozen header, autofilter).

It works on the ``SearchDoc`` records of a ``SearchIndex`` (``index.docs``), so it needs no
embedding model. Every row carries its plan's number, trích yếu and province.
"""
from __future__ import annotations

import calendar
import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Iterable, Optional, Sequence

from kehoach.errors import KehoachError
from kehoach.search.text import fold, folded_tokens

STATUS_VI = {"overdue": "Quá hạn", "due_soon": "Sắp đến hạn", "continuous": "Thường xuyên",
             "no_deadline": "Chưa có thời hạn", "open": "Còn hạn"}
STATUS_ALIASES = {"overdue": "overdue", "qua-han": "overdue", "due": "due_soon", "due-soon": "due_soon",
                  "due_soon": "due_soon", "sap-den-han": "due_soon", "continuous": "continuous",
                  "recurring": "continuous", "thuong-xuyen": "continuous", "none": "no_deadline",
                  "no-deadline": "no_deadline", "no_deadline": "no_deadline", "open": "open", "con-han": "open"}
DUE_SOON_DAYS = 30


class TasksError(KehoachError):
    """A bad filter value for the tasks view."""


# ---------------------------------------------------------------- dates

_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_MY = re.compile(r"(\d{1,2})[/.-](\d{4})")


def parse_date(value: Optional[str], name: str = "date", *, end: bool = False) -> Optional[str]:
    """'31/12/2025', '2025-12-31', '12/2025', '2025-12', '2025' -> ISO day.

    A month or a year means its first day, or its last day when ``end`` (the upper bound of a range)."""
    if value is None or str(value).strip() == "":
        return None
    v = str(value).strip()
    try:
        if m := _DMY.fullmatch(v):
            return date(int(m[3]), int(m[2]), int(m[1])).isoformat()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", v):
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        y = mo = None
        if m := _MY.fullmatch(v):
            y, mo = int(m[2]), int(m[1])
        elif m := re.fullmatch(r"(\d{4})-(\d{1,2})", v):
            y, mo = int(m[1]), int(m[2])
        elif re.fullmatch(r"\d{4}", v):
            y = int(v)
        if y is not None and 1900 <= y <= 2200:
            if mo is None:
                return date(y, 12, 31).isoformat() if end else date(y, 1, 1).isoformat()
            last = calendar.monthrange(y, mo)[1]
            return date(y, mo, last if end else 1).isoformat()
    except ValueError:
        pass
    raise TasksError(f"{name}: expected a date dd/mm/yyyy or yyyy-mm-dd, got {v!r}")


def deadline_end(deadline: Optional[dict]) -> Optional[date]:
    """The last day a deadline's date allows ('2025-12' -> 2025-12-31), or None."""
    from kehoach.corpus.registry import period_end
    return period_end((deadline or {}).get("date") or "")


def status_of(deadline: Optional[dict], as_of: date, within: int = DUE_SOON_DAYS) -> str:
    """overdue | due_soon (within ``within`` days) | continuous | no_deadline | open."""
    if not deadline:
        return "no_deadline"
    if deadline.get("recurrence"):
        return "continuous"
    end = deadline_end(deadline)
    if end is None:
        return "no_deadline"
    if end < as_of:
        return "overdue"
    if end <= as_of + timedelta(days=within):
        return "due_soon"
    return "open"


# ---------------------------------------------------------------- query

def owner_key(name: str) -> str:
    from kehoach.search.who import body_key
    return " " + body_key(name) + " "


@dataclass
class TaskQuery:
    owner: Optional[str] = None
    role: Optional[str] = None          # "lead" | "support" | None (either)
    province: Optional[str] = None
    plan: Optional[str] = None
    kind: Optional[str] = None          # document kind: Kế hoạch, Quyết định, Chỉ thị, ...
    deadline_from: Optional[str] = None
    deadline_to: Optional[str] = None
    status: Optional[str] = None
    within: int = DUE_SOON_DAYS
    as_of: Optional[str] = None
    text: Optional[str] = None
    limit: Optional[int] = None

    def normalized(self) -> "TaskQuery":
        q = TaskQuery(**asdict(self))
        q.deadline_from = parse_date(q.deadline_from, "deadline_from")
        q.deadline_to = parse_date(q.deadline_to, "deadline_to", end=True)
        q.as_of = parse_date(q.as_of, "as_of") or date.today().isoformat()
        if q.status:
            s = STATUS_ALIASES.get(fold(q.status).strip().replace(" ", "-"))
            if s is None:
                raise TasksError(f"status: expected one of {', '.join(STATUS_VI)}, got {q.status!r}")
            q.status = s
        if q.role not in (None, "", "lead", "support"):
            raise TasksError(f"role: expected lead or support, got {q.role!r}")
        if not 0 <= int(q.within) <= 3660:
            raise TasksError(f"within: expected 0..3660 days, got {q.within}")
        for name in ("owner", "province", "plan", "kind", "text"):
            v = getattr(q, name)
            if v is not None and len(v) > 200:
                raise TasksError(f"{name}: longer than 200 characters")
        return q

    def notes(self) -> list[str]:
        """What the filters are, in the words shown to the user ("lọc: tỉnh Bắc Ninh")."""
        out = []
        if self.owner:
            out.append(f"cơ quan {self.owner}" + {"lead": " (chủ trì)", "support": " (phối hợp)"}.get(self.role or "", ""))
        if self.province:
            out.append(f"tỉnh {self.province}")
        if self.plan:
            out.append(f"kế hoạch {self.plan}")
        if self.kind:
            out.append(f"loại {self.kind}")
        if self.deadline_from or self.deadline_to:
            out.append(f"hạn {self.deadline_from or '…'} → {self.deadline_to or '…'}")
        if self.status:
            out.append(f"tình trạng {STATUS_VI[self.status]}")
        if self.text:
            out.append(f"chứa “{self.text}”")
        return out


def _plan_match(plan: dict, ref: str) -> bool:
    from pathlib import Path
    ref = ref.strip()
    return ref == str(plan.get("id")) or fold(ref) == fold(plan.get("number") or "") \
        or ref == plan.get("source") or ref == Path(plan.get("source") or "").stem


def province_matches(plan: dict, want: str) -> bool:
    """The plan is of province ``want`` (its province or its issuer names it, whole words, any diacritics)."""
    return _province_match(plan, want)


def kind_matches(plan: dict, kind: str) -> bool:
    """The plan is a document of ``kind``: its type says so, or it is a decision that issues one
    ("Quyết định ... Ban hành Kế hoạch triển khai ..." is asked for as a Kế hoạch too)."""
    k = " ".join(folded_tokens(kind))
    if not k:
        return True
    if (" " + k + " ") in (" " + " ".join(folded_tokens(plan.get("type") or "")) + " "):
        return True
    title = " ".join(folded_tokens(plan.get("title") or ""))
    return bool(re.match(r"(?:ve viec\s+)?(?:ban hanh|phe duyet)\s+" + re.escape(k) + r"\b", title))


def _province_match(plan: dict, want: str) -> bool:
    w = " ".join(folded_tokens(want))
    for hay in (plan.get("province"), plan.get("issuer")):
        if hay and (" " + w + " ") in (" " + " ".join(folded_tokens(hay)) + " "):
            return True
    return False


def select(docs: Iterable, query: TaskQuery) -> list:
    """The docs (``SearchDoc``) that pass every filter of ``query``, in plan then text order."""
    q = query.normalized()
    as_of = date.fromisoformat(q.as_of)
    want_owner = owner_key(q.owner) if q.owner else None
    text = " ".join(folded_tokens(q.text)) if q.text else None
    out = []
    for d in docs:
        p = d.plan or {}
        if q.province and not _province_match(p, q.province):
            continue
        if q.plan and not _plan_match(p, q.plan):
            continue
        if q.kind and not kind_matches(p, q.kind):
            continue
        if want_owner:
            names = (d.lead if q.role != "support" else []) + (d.support if q.role != "lead" else [])
            if not any(want_owner in owner_key(n) for n in names):
                continue
        if q.deadline_from or q.deadline_to:
            end = deadline_end(d.deadline)
            if end is None or (q.deadline_from and end.isoformat() < q.deadline_from) \
                    or (q.deadline_to and end.isoformat() > q.deadline_to):
                continue
        if q.status and status_of(d.deadline, as_of, q.within) != q.status:
            continue
        if text and text not in " ".join(folded_tokens(d.text)):
            continue
        out.append(d)
        if q.limit and len(out) >= q.limit:
            break
    return out


# ---------------------------------------------------------------- rows

FIELDS = ["plan_number", "plan_date", "plan_title", "province", "plan_type", "plan_id", "section", "task_id",
          "text", "lead", "support", "deadline_date", "deadline_text", "product", "status", "source"]
HEADERS_VI = {"plan_number": "Số hiệu", "plan_date": "Ngày ban hành", "plan_title": "Trích yếu",
              "province": "Tỉnh/thành", "plan_type": "Loại văn bản", "plan_id": "Mã kế hoạch",
              "section": "Mục", "task_id": "Mã nhiệm vụ", "text": "Nhiệm vụ", "lead": "Chủ trì",
              "support": "Phối hợp", "deadline_date": "Hạn (ngày)", "deadline_text": "Thời hạn",
              "product": "Sản phẩm", "status": "Tình trạng", "source": "Tệp nguồn"}
SEP = "; "


def rows(docs: Sequence, as_of: Optional[str] = None, within: int = DUE_SOON_DAYS) -> list[dict]:
    from kehoach.search.who import is_owner         # a period or a form label is never shown as an owner
    day = date.fromisoformat(parse_date(as_of, "as_of") or date.today().isoformat())
    out = []
    for d in docs:
        p = d.plan or {}
        dl = d.deadline or {}
        out.append({"plan_number": p.get("number") or "", "plan_date": p.get("date") or "",
                    "plan_title": p.get("title") or "", "province": p.get("province") or "",
                    "plan_type": p.get("type") or "", "plan_id": p.get("id"), "section": d.section or "",
                    "task_id": d.task_id, "text": d.text, "lead": SEP.join(n for n in d.lead if is_owner(n)),
                    "support": SEP.join(n for n in d.support if is_owner(n)),
                    "deadline_date": dl.get("date") or "", "deadline_text": dl.get("text") or "",
                    "product": getattr(d, "product", None) or "",
                    "status": STATUS_VI[status_of(d.deadline, day, within)], "source": d.source})
    return out


def write_csv(rs: list[dict], out) -> None:
    """UTF-8 with BOM (``out`` a binary stream or a text stream that the caller encodes)."""
    w = csv.writer(out)
    w.writerow([HEADERS_VI[f] for f in FIELDS])
    for r in rs:
        w.writerow(["" if r[f] is None else r[f] for f in FIELDS])


def csv_bytes(rs: list[dict]) -> bytes:
    buf = io.StringIO(newline="")
    write_csv(rs, buf)
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")


def _as_date(iso: str):
    try:
        return date.fromisoformat(iso) if len(iso) == 10 else (iso or None)
    except ValueError:
        return iso or None


WIDTHS = {"plan_number": 15, "plan_date": 12, "plan_title": 40, "province": 14, "plan_type": 12, "plan_id": 8,
          "section": 10, "task_id": 8, "text": 80, "lead": 30, "support": 30, "deadline_date": 12,
          "deadline_text": 26, "product": 30, "status": 16, "source": 24}


def xlsx_bytes(rs: list[dict], title: str = "Nhiệm vụ") -> bytes:
    """A sheet people can filter: real dates, bold frozen header, autofilter."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([HEADERS_VI[f] for f in FIELDS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in rs:
        ws.append([_as_date(r[f]) if f in ("plan_date", "deadline_date") else r[f] for f in FIELDS])
        for f in ("plan_date", "deadline_date"):
            c = ws.cell(ws.max_row, FIELDS.index(f) + 1)
            if isinstance(c.value, date):
                c.number_format = "DD/MM/YYYY"
    for i, f in enumerate(FIELDS, 1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(f, 15)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(FIELDS))}{max(ws.max_row, 1)}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def table(rs: list[dict], width: int = 70) -> str:
    """Plain text: one block per task, the plan on the first line."""
    lines = []
    for n, r in enumerate(rs, 1):
        plan = " · ".join(x for x in (r["plan_number"] or "(không số)", r["province"], r["plan_date"]) if x)
        title = r["plan_title"] if len(r["plan_title"]) <= 60 else r["plan_title"][:59] + "…"
        text = r["text"] if len(r["text"]) <= 160 else r["text"][:159] + "…"
        lines.append(f"{n:3}. {plan}  {r['task_id']} [{r['section'] or '-'}]  — {title}")
        lines.append(f"     {text}")
        bits = []
        if r["lead"]:
            bits.append(f"chủ trì: {r['lead']}")
        if r["support"]:
            bits.append(f"phối hợp: {r['support']}")
        bits.append(f"hạn: {r['deadline_date'] or r['deadline_text'] or '-'}")
        bits.append(r["status"])
        lines.append("     " + " | ".join(bits))
    return "\n".join(lines) + ("\n" if lines else "")


def to_json(rs: list[dict], query: TaskQuery) -> str:
    return json.dumps({"filters": {k: v for k, v in asdict(query).items() if v not in (None, "")},
                       "notes": query.notes(), "count": len(rs), "tasks": rs}, ensure_ascii=False, indent=1)
