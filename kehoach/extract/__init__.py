"""Extract: IngestedDocument -> Extraction records (SPEC.md).

Stages, each a module with pure functions:
header (số hiệu, loại, issuer, date, title, signer) -> citations (legal
references) -> outline (items, sections, zones) -> tasks (body items and table
rows, with owners, deadlines, targets) -> ids and reference links.
"""
from __future__ import annotations

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


def _ranges(doc: IngestedDocument, lay: Layout) -> tuple[tuple[int, int], list[tuple[int, int]], Optional[int]]:
    """(body range, task ranges, appendix start) as block indices."""
    n = len(doc.blocks)
    end = lay.closing if lay.closing is not None else n
    ranges = [(lay.body_start, end)]
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
                  excluded_spans=[(r.span.start, r.span.end) for r in refs if r.span])
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

    def locate(bi: int):
        for a, b, out, app in outlines:
            if a <= bi < b:
                last = None
                for node in out.nodes:
                    if node.block < bi:
                        last = node
                    else:
                        break
                sec = last.section if last else ""
                return ("PL" + ("." + sec if sec else "")) if app else sec, app
        return "", False

    tasks.extend(table_tasks(ctx, lambda bi: locate(bi)[0], lambda bi: locate(bi)[1]))
    tasks.sort(key=lambda t: t.span.start if t.span else 0)
    for k, t in enumerate(tasks, 1):
        t.id = f"t{k}"
        if t.span:
            t.legal_refs = [r.id for r in refs if r.span and t.span.start <= r.span.start < t.span.end]
    return Extraction(source=doc.source, sha256=doc.sha256, document=info, tasks=tasks, legal_refs=refs,
                      warnings=list(doc.warnings))
