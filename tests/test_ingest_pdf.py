"""PDF reader: PDFs built here with reportlab, the real corpus PDFs, bad input."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import conftest_formats as F  # noqa: E402
from kehoach.errors import IngestError  # noqa: E402
from kehoach.ingest.pdf import read_pdf  # noqa: E402

CORPUS = F.SHARED / "corpus" / "pdf"
STEMS = [p.stem for p in F.SEEDS]
needs_fonts = pytest.mark.skipif(not F.fonts_available(), reason="DejaVu fonts missing in /usr/share/fonts/truetype/dejavu")


def _spans_ok(doc) -> None:
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text


@needs_fonts
def test_built_pdf_table_split_over_two_pages():
    text = F.seed_text("003_12050e55d6d4d6a9")
    paras = F.seed_paragraphs(text)[3:12]
    rows = F.seed_table_rows(text)
    header = rows[0][:4]
    body = [r[:4] for r in rows[1:] if r[0].isdigit()]
    body = (body * 3)[:30]                                    # long enough to need two pages
    data = F.make_pdf(paras, [header] + body, after=["Trên đây là Kế hoạch thực hiện."])
    doc = read_pdf(data, "built.pdf", "0" * 64)
    _spans_ok(doc)
    assert doc.pages >= 2
    assert len(doc.tables) == 1, [t.header for t in doc.tables]
    t = doc.tables[0]
    assert t.header == header
    assert t.page_start < t.page_end
    got = [doc.blocks[i].cells for i in t.rows]
    assert len(got) == len(body)
    assert [g[0] for g in got] == [r[0] for r in body]
    assert [g[1] for g in got] == [r[1] for r in body]        # diacritics intact, wraps rejoined
    # the header repeated on page 2 is not a body row
    assert sum(1 for b in doc.blocks if b.kind == "row" and b.header) == 1
    # paragraphs before the table come back whole, in order; the one after it too
    ptexts = [b.text for b in doc.blocks if b.kind == "para"]
    assert ptexts[0] == "KẾ HOẠCH"
    assert ptexts[1:1 + len(paras)] == paras
    assert ptexts[-1] == "Trên đây là Kế hoạch thực hiện."
    assert doc.blocks[-1].page == doc.pages


@needs_fonts
def test_built_pdf_with_a_text_less_page_warns():
    from reportlab.pdfgen import canvas
    F.register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("DejaVu", 12)
    c.drawString(72, 760, "Kế hoạch cải cách hành chính năm 2024.")
    c.showPage()
    c.rect(100, 100, 300, 300, fill=1)        # a page with a picture and no text
    c.showPage()
    c.save()
    doc = read_pdf(buf.getvalue(), "mixed.pdf", "x")
    assert doc.text == "Kế hoạch cải cách hành chính năm 2024."
    assert doc.pages == 2
    assert any("page 2" in w for w in doc.warnings)


@pytest.mark.parametrize("stem", STEMS)
def test_corpus_pdf_has_every_seed_paragraph(stem):
    path = CORPUS / f"{stem}.pdf"
    doc = read_pdf(path.read_bytes(), str(path), "x")
    _spans_ok(doc)
    blocks = [b.text for b in doc.blocks if b.kind == "para"]
    missing = [p for p in F.seed_paragraphs(F.seed_text(stem)) if not any(p in b for b in blocks)]
    assert not missing, missing[:3]
    assert all(b.page is not None and 1 <= b.page <= doc.pages for b in doc.blocks)
    assert not any(b.text.strip().isdigit() for b in doc.blocks if b.kind == "para")   # page numbers dropped


@pytest.mark.parametrize("stem,ntables,width,pages", [
    ("003_12050e55d6d4d6a9", 1, 5, [(4, 6)]),
    ("004_5709e56b5db05d79", 2, 6, [(6, 7), (7, 8)]),
])
def test_corpus_pdf_tables_match_seed(stem, ntables, width, pages):
    path = CORPUS / f"{stem}.pdf"
    doc = read_pdf(path.read_bytes(), str(path), "x")
    assert len(doc.tables) == ntables
    assert [(t.page_start, t.page_end) for t in doc.tables] == pages
    seed = F.seed_table_rows(F.seed_text(stem))
    assert all(t.header == seed[0] for t in doc.tables)
    got = [doc.blocks[i].cells for t in doc.tables for i in t.rows]
    assert all(len(c) == width for c in got)
    # the rows with a number are the seed's, in the seed's order, with the same task text start
    def numbered(r):
        return r[0] and len(set(x for x in r if x)) > 1
    want = [(r[0], r[1][:30]) for r in seed[1:] if numbered(r) and r != seed[0]]
    have = [(c[0], c[1][:30]) for c in got if numbered(c)]
    assert have == want
    # and no row was cut by a page break: every numbered row has its unit/lead filled
    for c in got:
        if c[0][:1].isdigit() and any(c[2:]):
            assert c[2], c


def test_corpus_pdf_and_docx_give_the_same_paragraphs():
    from kehoach.ingest.docx import read_docx
    stem = "001_4224283dfe2b5ee5"
    a = read_pdf((CORPUS / f"{stem}.pdf").read_bytes(), "a.pdf", "x")
    b = read_docx((F.SHARED / "corpus" / "docx" / f"{stem}.docx").read_bytes(), "b.docx", "x")
    assert [x.text for x in a.blocks] == [x.text for x in b.blocks]


# ---------------------------------------------------------------- bad input

def test_empty_pdf():
    with pytest.raises(IngestError, match="e.pdf: empty file"):
        read_pdf(b"", "e.pdf", "x")


def test_not_a_pdf():
    with pytest.raises(IngestError, match="corrupt PDF"):
        read_pdf(b"hello, this is text", "t.pdf", "x")


def test_truncated_pdf():
    data = (CORPUS / "000_32de8ed23e57a435.pdf").read_bytes()
    try:
        doc = read_pdf(data[:2000], "trunc.pdf", "x")
    except IngestError as e:
        assert str(e).startswith("trunc.pdf: ") and "\n" not in str(e)
        assert "corrupt PDF" in str(e) or "no text layer" in str(e)
    else:   # pdfium may recover what is there: then what comes out must be consistent
        _spans_ok(doc)


@needs_fonts
def test_encrypted_pdf():
    from reportlab.pdfgen import canvas
    F.register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="pw")
    c.setFont("DejaVu", 12)
    c.drawString(72, 760, "Kế hoạch")
    c.save()
    with pytest.raises(IngestError) as e:
        read_pdf(buf.getvalue(), "enc.pdf", "x")
    assert str(e.value) == "enc.pdf: encrypted PDF: needs a password"


def test_image_only_pdf():
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(2):
        c.rect(50, 50, 400, 600, fill=1)
        c.showPage()
    c.save()
    with pytest.raises(IngestError) as e:
        read_pdf(buf.getvalue(), "scan.pdf", "x")
    assert str(e.value) == "scan.pdf: scanned PDF with no text layer: needs OCR first"
