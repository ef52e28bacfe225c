"""Helpers that build DOCX and PDF files for the format tests (from the seed texts)."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

from tests.shared import SHARED, need

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _seeds() -> list[Path]:
    """The seed texts; the modules parametrized over them fail to collect, naming the data, without."""
    found = sorted((SHARED / "seeds").glob("*.txt"))
    if not found:
        raise FileNotFoundError(f"test data missing: no seed texts in {SHARED / 'seeds'} "
                                "(vendored under tests/data/shared; see its README)")
    return found


SEEDS = _seeds()


def seed_text(stem: str) -> str:
    return need(f"seeds/{stem}.txt").read_text(encoding="utf-8")


def strip_markup(line: str) -> str:
    """Seed lines use *italic* / **bold** markup; a leading "* " is a literal bullet."""
    lead = "* " if line.startswith("* ") else ""
    body = line[len(lead):]
    return lead + body.replace("*", "")


def seed_paragraphs(text: str) -> list[str]:
    from kehoach.ingest.normalize import clean_inline
    out = []
    for line in text.split("\n"):
        if "\t" in line or not line.strip():
            continue
        out.append(clean_inline(strip_markup(line.strip())))
    return out


def seed_table_rows(text: str) -> list[list[str]]:
    """The seed's table rows, without repeated header rows."""
    from kehoach.ingest.normalize import clean_inline
    rows = [[clean_inline(c) for c in ln.split("\t")] for ln in text.split("\n") if "\t" in ln]
    if not rows:
        return []
    head = rows[0]
    return [r for i, r in enumerate(rows) if i == 0 or r != head]


def fonts_available() -> bool:
    return (FONT_DIR / "DejaVuSans.ttf").exists() and (FONT_DIR / "DejaVuSans-Bold.ttf").exists()


def register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    have = set(pdfmetrics.getRegisteredFontNames())
    for name, file in (("DejaVu", "DejaVuSans.ttf"), ("DejaVu-Bold", "DejaVuSans-Bold.ttf")):
        if name not in have:     # each name on its own: another test may have registered one of them
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))


def make_pdf(paragraphs: list[str], table: list[list[str]] | None = None, after: list[str] | None = None,
             heading: str = "KẾ HOẠCH") -> bytes:
    """A plan as PDF (reportlab, DejaVu fonts): heading, paragraphs, an optional ruled table
    whose header repeats on each page, then more paragraphs."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    register_fonts()
    # justified body, as official documents are (Nghị định 30/2020 layout)
    body = ParagraphStyle("b", fontName="DejaVu", fontSize=11, leading=15, firstLineIndent=20, spaceAfter=6,
                          alignment=4)
    cell = ParagraphStyle("c", fontName="DejaVu", fontSize=9, leading=11)
    head = ParagraphStyle("h", fontName="DejaVu-Bold", fontSize=13, leading=17, alignment=1, spaceAfter=8)
    story = [Paragraph(heading, head)]
    story += [Paragraph(_esc(p), body) for p in paragraphs]
    if table:
        data = [[Paragraph(_esc(c), cell) for c in r] for r in table]
        t = LongTable(data, repeatRows=1, colWidths=[40, 200, 120, 110])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [Spacer(1, 6), t, Spacer(1, 6)]
    story += [Paragraph(_esc(p), body) for p in after or []]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=60, rightMargin=60, topMargin=60, bottomMargin=60).build(story)
    return buf.getvalue()


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None, letterhead: tuple | None = None,
              bullets: list[str] | None = None, merge_lead_from: int | None = None,
              group_title: str | None = None) -> bytes:
    """A plan as DOCX (python-docx): optional borderless letterhead table, paragraphs,
    a list with Word numbering, and a ruled table (header row marked to repeat, a group
    title merged across the row, the lead column merged vertically from a row on)."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    d = docx.Document()
    if letterhead:
        left, right = letterhead
        t = d.add_table(rows=1, cols=2)
        t.cell(0, 0).text = left[0]
        for x in left[1:]:
            t.cell(0, 0).add_paragraph(x)
        t.cell(0, 1).text = right[0]
        for x in right[1:]:
            t.cell(0, 1).add_paragraph(x)
    for p in paragraphs:
        d.add_paragraph(p)
    for b in bullets or []:
        d.add_paragraph(b, style="List Number")
    if table:
        width = len(table[0])
        rows = list(table)
        if group_title:
            rows.insert(1, [group_title] + [""] * (width - 1))
        t = d.add_table(rows=len(rows), cols=width)
        t.style = "Table Grid"
        for i, r in enumerate(rows):
            for j, c in enumerate(r):
                cell = t.cell(i, j)
                lines = c.split("\n")
                cell.text = lines[0]
                for x in lines[1:]:
                    cell.add_paragraph(x)
        trpr = t.rows[0]._tr.get_or_add_trPr()
        h = OxmlElement("w:tblHeader")
        h.set(qn("w:val"), "true")
        trpr.append(h)
        if group_title:
            t.cell(1, 0).merge(t.cell(1, width - 1))
            t.cell(1, 0).text = group_title
        if merge_lead_from is not None:
            top = t.cell(merge_lead_from, 2)
            keep = top.text
            merged = top.merge(t.cell(len(rows) - 1, 2))
            for p in list(merged.paragraphs)[1:]:
                p._p.getparent().remove(p._p)
            merged.paragraphs[0].text = keep
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def words(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "io", "os", "re", "Path", "need")]
