"""Extract: IngestedDocument -> Extraction records (SPEC.md).

Stages, each a module with pure functions:
header (số hiệu, loại, issuer, date, title, signer) -> citations (legal
references) -> outline (items, sections, zones) -> tasks (body items and table
rows, with owners, deadlines, targets) -> ids and reference links.
"""
from __future__ import annotations

from bisect import bisect_left

import re
from typing import Optional

from kehoach.extract.citations import CitationContext, find_citations
from kehoach.extract.deadlines import parse_deadline
from kehoach.extract.header import Layout, issuer_kind, parse_header
from kehoach.extract.outline import Outline, build_outline
from kehoach.extract.targets import parse_target
from kehoach.extract.tables import table_tasks
from kehoach.extract.tasks import Context, body_tasks
from kehoach.models import Extraction, IngestedDocument, LegalRef


def _plan_year(date: Optional[str], text: str) -> Optional[int]:
    if date:
        return int(date[:4])
    years = re.findall(r"năm\s+((?:19|20)\d{2})", text[:3000])
    return int(max(years)) if years else None


def _citations(doc: IngestedDocument, info) -> list[LegalRef]:
    ctx = CitationContext(issuer=info.issuer, province=info.province, issuer_kind=issuer_kind(info.issuer),
                          own_number=info.number)
    return find_citations(doc.text, ctx, page_at=doc.page_at)


_SALUTATION = re.compile(r"^\s*Kính\s+gửi\s*:?", re.I)
_RECIPIENT = re.compile(r"^\s*[-+•–]\s*\S|.{0,150}[;,]\s*$")


def _after_salutation(doc: IngestedDocument, start: int, end: int) -> int:
    """A Công văn opens its body with the salutation ("Kính gửi:" and the recipients, one a
    line: "- Các bệnh viện trực thuộc;"), Nghị định 30/2020/NĐ-CP Phụ lục I: they are
    addressees, not tasks. The body starts after them."""
    i = start
    while i < min(end, start + 4) and doc.blocks[i].kind == "para" and not _SALUTATION.match(doc.blocks[i].text):
        i += 1
    if i >= end or doc.blocks[i].kind != "para" or not _SALUTATION.match(doc.blocks[i].text):
        return start
    i += 1
    while i < end and doc.blocks[i].kind == "para" and _RECIPIENT.match(doc.blocks[i].text) \
            and len(doc.blocks[i].text) < 200:
        i += 1
    return i


_LIST_ITEM = re.compile(r"^\s*(?:[-+•*]|\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ]\)|[a-zđ]\.(?=\s+[A-ZĐÀ-Ỹ])|[IVX]+\.)\s")


def _before_closing_formula(doc: IngestedDocument, start: int, end: int) -> int:
    """The content ends with "./." (Nghị định 30/2020/NĐ-CP); a short plain paragraph ending
    so right after the last list item ("Sở Y tế đề nghị các đơn vị nghiêm túc triển khai
    thực hiện./.") is the closing formula of a Công văn: not part of the last item."""
    last = end - 1
    if last - 1 <= start or doc.blocks[last].kind != "para" or doc.blocks[last - 1].kind != "para":
        return end
    t = doc.blocks[last].text.strip()
    if t.endswith("./.") and len(t) < 250 and not _LIST_ITEM.match(t) and _LIST_ITEM.match(doc.blocks[last - 1].text):
        return last
    return end


def _ranges(doc: IngestedDocument, lay: Layout) -> tuple[tuple[int, int], list[tuple[int, int]], Optional[int]]:
    """(body range, task ranges, appendix start) as block indices."""
    n = len(doc.blocks)
    end = lay.closing if lay.closing is not None else n
    ranges = [(_after_salutation(doc, lay.body_start, end), _before_closing_formula(doc, lay.body_start, end))]
    appendix = lay.appendix
    if lay.embedded_plan is not None:
        # a Quyết định issuing a plan: the plan's body is a task range too
        start = lay.embedded_plan + 1
        stop = next((i for i in range(start, n) if doc.blocks[i].kind == "para"
                     and re.match(r"^(Nơi nhận|PHỤ LỤC|Phụ lục)\b", doc.blocks[i].text.strip())), n)
        ranges.append((start, stop))
        appendix = next((i for i in range(stop, n) if re.match(r"^(PHỤ LỤC|Phụ lục)\b", doc.blocks[i].text.strip())), None)
    return ranges[0], ranges, appendix


def extract(doc: IngestedDocument) -> Extraction:
    info, lay = parse_header(doc)
    refs = _citations(doc, info)
    year = _plan_year(info.date, doc.text)
    ctx = Context(doc=doc, plan_year=year, deadline=parse_deadline, target=parse_target,
                  excluded_spans=[(r.span.start, r.span.end) for r in refs if r.span], plan_date=info.date)
    _, ranges, appendix = _ranges(doc, lay)
    tasks = []
    outlines: list[tuple[int, int, Outline, bool]] = []
    for a, b in ranges:
        out = build_outline(doc.blocks, a, b)
        outlines.append((a, b, out, False))
        tasks.extend(body_tasks(ctx, out))
    if appendix is not None:
        out = build_outline(doc.blocks, appendix, len(doc.blocks))
        outlines.append((appendix, len(doc.blocks), out, True))

    starts: list[list[int]] = []      # per outline, the block numbers its nodes start at, up to the first out of order
    for _a, _b, out, _app in outlines:
        bl: list[int] = []
        for node in out.nodes:
            if bl and node.block < bl[-1]:
                break
            bl.append(node.block)
        starts.append(bl)

    def locate(bi: int):
        """(section, in an appendix) of block ``bi``: the last heading before it (one bisect)."""
        for (a, b, out, app), bl in zip(outlines, starts):
            if a <= bi < b:
                k = bisect_left(bl, bi)
                sec = out.nodes[k - 1].section if k else ""
                return ("PL" + ("." + sec if sec else "")) if app else sec, app
        return "", False

    tasks.extend(table_tasks(ctx, lambda bi: locate(bi)[0], lambda bi: locate(bi)[1]))
    tasks.sort(key=lambda t: t.span.start if t.span else 0)
    # the references that start inside each task's span, in the order of ``refs`` (one bisect a task)
    by_start = sorted((r.span.start, k) for k, r in enumerate(refs) if r.span)
    ref_starts = [s for s, _k in by_start]
    for k, t in enumerate(tasks, 1):
        t.id = f"t{k}"
        if t.span:
            lo, hi = bisect_left(ref_starts, t.span.start), bisect_left(ref_starts, t.span.end)
            t.legal_refs = [refs[j].id for j in sorted(j for _s, j in by_start[lo:hi])]
    for t in tasks:
        if not t.context and t.span:
            t.context = _context_at(outlines, doc, t.span.start)
    return Extraction(source=doc.source, sha256=doc.sha256, document=info, tasks=tasks, legal_refs=refs,
                      warnings=list(doc.warnings) + signals(doc.source, tasks, outlines, info))


# A warning when more than this share of the tasks has no lead: the owners were not found.
NO_OWNER_SHARE = 0.5
NO_OWNER_MIN_TASKS = 4


def _context_at(outlines, doc: IngestedDocument, start: int) -> str:
    """Heading path above a character offset (table rows: the headings above their table)."""
    for a, b, out, _app in outlines:
        if not out.nodes or not (doc.blocks[a].start <= start < (doc.blocks[b - 1].end if b > a else start)):
            continue
        last = next((k for k in range(len(out.nodes) - 1, -1, -1) if out.nodes[k].offset <= start), None)
        if last is None:
            return ""
        path = out.ancestors(last) + [last]
        return " > ".join(" ".join(out.nodes[k].text.replace("*", " ").split()).rstrip(":").strip()
                          for k in path if out.nodes[k].is_heading)
    return ""


def signals(source: str, tasks, outlines, info=None) -> list[str]:
    """Honest signals: no letterhead at all (no kind, number or issuer: a file that is likely no
    administrative document); no tasks although the document has a part about tasks; most tasks with no
    owner."""
    out = []
    if info is not None and not (info.type or info.number or info.issuer):
        out.append(f"no letterhead in {source}: no document kind, number or issuer found (not an administrative "
                   f"document?)")
    if not tasks:
        part = next((n.text.strip() for _a, _b, o, app in outlines if not app for n in o.nodes
                     if n.zone == "task" and n.is_heading), None)
        if part:
            out.append(f"0 tasks found in {source} although it has a task part ({part[:80]})")
    elif len(tasks) >= NO_OWNER_MIN_TASKS:
        none = sum(1 for t in tasks if not t.lead)
        if none > NO_OWNER_SHARE * len(tasks):
            out.append(f"{none} of {len(tasks)} tasks in {source} have no owner (chủ trì)")
    return out
