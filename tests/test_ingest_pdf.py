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
from tests.shared import files, need  # noqa: E402

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


def test_pdf_of_drawings_without_text_or_image_says_so():
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(2):
        c.rect(50, 50, 400, 600, fill=1)
        c.showPage()
    c.save()
    with pytest.raises(IngestError) as e:
        read_pdf(buf.getvalue(), "scan.pdf", "x")
    assert str(e.value) == "scan.pdf: no text on its 2 pages (no text layer and no scanned image: blank pages)"


# ---------------------------------------------------------------- fast table reader vs pdfplumber

def _both_readers(data: bytes) -> list[tuple[int, object, list]]:
    """(page, fast reader's tables or the Unsure it raised, pdfplumber's tables) per ruled page."""
    import pdfplumber
    import pypdfium2 as pdfium
    from kehoach.ingest.pdf import Unsure, fast_page_tables, page_tables, ruled_page
    pdf = pdfium.PdfDocument(data)
    out = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as doc:
            for i in range(len(pdf)):
                page = pdf[i]
                if not ruled_page(page):
                    continue
                try:
                    fast = fast_page_tables(page, i + 1)
                except Unsure as e:
                    fast = e
                out.append((i + 1, fast, page_tables(doc.pages[i], i + 1)))
    finally:
        pdf.close()
    return out


def _assert_same_tables(data: bytes, min_tables: int = 1) -> None:
    pages = _both_readers(data)
    assert pages, "no ruled page"
    n = 0
    for page, fast, slow in pages:
        assert isinstance(fast, list), f"page {page}: fast reader unsure: {fast}"
        assert len(fast) == len(slow), page
        for a, b in zip(fast, slow):
            assert a.rows == b.rows, (page, [(x, y) for x, y in zip(a.rows, b.rows) if x != y][:1])
            assert all(abs(x - y) < 0.01 for x, y in zip(a.bbox, b.bbox)), (a.bbox, b.bbox)
        n += len(fast)
    assert n >= min_tables


@pytest.mark.parametrize("stem,ntables", [("003_12050e55d6d4d6a9", 3), ("004_5709e56b5db05d79", 4)])
def test_fast_tables_equal_pdfplumber_on_corpus(stem, ntables):
    _assert_same_tables((CORPUS / f"{stem}.pdf").read_bytes(), ntables)


def _reportlab_table(rows, style, size=None) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, TableStyle
    F.register_fonts()
    cell = ParagraphStyle("c", fontName="DejaVu", fontSize=9, leading=11)
    t = LongTable([[Paragraph(F._esc(c).replace("\n", "<br/>"), cell) for c in r] for r in rows], repeatRows=1)
    t.setStyle(TableStyle(style))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=size or landscape(A4), leftMargin=50, rightMargin=50,
                      topMargin=50, bottomMargin=50).build([t])
    return buf.getvalue()


def _seed_table(stem="004_5709e56b5db05d79", n=12):
    rows = F.seed_table_rows(F.seed_text(stem))
    return rows[0], [r for r in rows[1:] if len(r) == len(rows[0])][:n]


@needs_fonts
def test_fast_tables_equal_pdfplumber_on_generated_plan():
    text = F.seed_text("003_12050e55d6d4d6a9")
    rows = F.seed_table_rows(text)
    body = ([r[:4] for r in rows[1:] if r[0].isdigit()] * 3)[:30]
    data = F.make_pdf(F.seed_paragraphs(text)[3:8], [rows[0][:4]] + body, after=["Trên đây là Kế hoạch."])
    _assert_same_tables(data, 2)          # the table runs over two pages


@needs_fonts
@pytest.mark.parametrize("extra", [
    [("SPAN", (0, 1), (-1, 1))],                              # a group title across the row
    [("SPAN", (2, 2), (2, 6)), ("SPAN", (4, 1), (5, 3))],     # a lead unit down several rows; a block
    [("BACKGROUND", (0, 0), (-1, 0), "#dddddd")],             # a shaded header (filled rectangle)
], ids=["hspan", "vspan", "shaded"])
def test_fast_tables_equal_pdfplumber_with_merged_cells(extra):
    from reportlab.lib import colors
    head, body = _seed_table()
    grid = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    rows = [head, ["I. NHÓM NHIỆM VỤ CHUNG"] + [""] * (len(head) - 1)] + body
    _assert_same_tables(_reportlab_table(rows, grid + extra))
    if extra[0][0] == "SPAN":
        from kehoach.ingest.pdf import fast_page_tables
        import pypdfium2 as pdfium
        pdf = pdfium.PdfDocument(_reportlab_table(rows, grid + extra))
        (t,) = fast_page_tables(pdf[0], 1)
        if extra[0][1] == (0, 1):
            assert t.rows[1] == ["I. NHÓM NHIỆM VỤ CHUNG"] + [""] * (len(head) - 1)
        else:                       # a vertically merged cell gives its text to the rows it covers
            assert len({r[2] for r in t.rows[2:7]}) == 1 and t.rows[2][2]


@needs_fonts
@pytest.mark.parametrize("mode", ["thin_rects", "cell_boxes", "merged_last_row"])
def test_fast_tables_equal_pdfplumber_on_drawn_borders(mode):
    """Borders as Word-style thin filled rectangles, as a box per cell, or with the inner
    vertical missing in the last row."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    F.register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("DejaVu", 9)
    xs, ys = [60, 100, 330, 450, 540], [760, 730, 690, 650, 600]
    texts = [["STT", "Nội dung", "Chủ trì", "Thời gian"], ["1", "Rà soát thủ tục", "Sở Tư pháp", "Quý I"],
             ["2", "Tập huấn cán bộ", "Sở Nội vụ", "2025"], ["3", "Kiểm tra liên ngành", "Các sở", "Hằng năm"]]
    for i, r in enumerate(texts):
        for j, s in enumerate(r):
            c.drawString(xs[j] + 3, ys[i] - 12, s)
    if mode == "thin_rects":
        for y in ys:
            c.rect(xs[0], y - 0.25, xs[-1] - xs[0], 0.5, stroke=0, fill=1)
        for x in xs:
            c.rect(x - 0.25, ys[-1], 0.5, ys[0] - ys[-1], stroke=0, fill=1)
    elif mode == "cell_boxes":
        for i in range(4):
            for j in range(4):
                c.rect(xs[j], ys[i + 1], xs[j + 1] - xs[j], ys[i] - ys[i + 1])
    else:
        for y in ys:
            c.line(xs[0], y, xs[-1], y)
        for x in xs:
            c.line(x, ys[0], x, ys[-2] if x == xs[3] else ys[-1])
    c.showPage()
    c.save()
    _assert_same_tables(buf.getvalue())


@needs_fonts
def test_nested_table_read_by_pdfplumbers_cell_rules():
    """A table nested in a cell (its columns closer than MIN_UNIT to the outer rules): the
    fast reader takes pdfplumber's cell rules and gives pdfplumber's rows."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
    F.register_fonts()
    cell = ParagraphStyle("c", fontName="DejaVu", fontSize=9, leading=11)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)])
    inner = Table([["a", "b"], ["c", "d"]], colWidths=[40, 40], style=grid)
    outer = Table([[Paragraph("Nhiệm vụ", cell), inner], [Paragraph("Rà soát", cell), Paragraph("Sở Tư pháp", cell)]],
                  colWidths=[150, 120], style=grid)
    buf = io.BytesIO()
    SimpleDocTemplate(buf).build([outer])
    ((_, fast, slow),) = _both_readers(buf.getvalue())
    assert isinstance(fast, list) and [t.rows for t in fast] == [t.rows for t in slow]
    assert fast[0].rows[0][2:4] == ["a", "b"]
    doc = read_pdf(buf.getvalue(), "nested.pdf", "x")
    (t,) = doc.tables
    assert [h for h in [t.header] if h] + [doc.blocks[i].cells for i in t.rows] == slow[0].rows


@needs_fonts
def test_irregular_grid_goes_to_pdfplumber():
    """A column rule that stops inside a cell: the fast reader is unsure, pdfplumber reads the page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    F.register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("DejaVu", 9)
    xs, ys = [60, 100, 330, 540], [760, 730, 690, 650]
    texts = [["STT", "Nội dung", "Chủ trì"], ["1", "Rà soát thủ tục", "Sở Tư pháp"], ["2", "Tập huấn", "Sở Nội vụ"]]
    for i, r in enumerate(texts):
        for j, s in enumerate(r):
            c.drawString(xs[j] + 3, ys[i] - 12, s)
    for y in ys:
        c.line(xs[0], y, xs[-1], y)
    for x in xs:
        c.line(x, ys[0], x, ys[-1])
    c.line(200, ys[0], 200, (ys[1] + ys[2]) / 2)      # stops halfway down the second row
    c.showPage()
    c.save()
    ((_, fast, slow),) = _both_readers(buf.getvalue())
    assert not isinstance(fast, list)
    doc = read_pdf(buf.getvalue(), "irregular.pdf", "x")
    (t,) = doc.tables
    assert [h for h in [t.header] if h] + [doc.blocks[i].cells for i in t.rows] == slow[0].rows


# ---------------------------------------------------------------- grid stages alone

def test_grid_cells_merges_and_unsure():
    from kehoach.ingest.pdf import Ruling, Unsure, grid_cells, snap_rulings, table_grid
    xs, ys = [0.0, 50.0, 100.0, 150.0], [0.0, 20.0, 40.0, 60.0]
    frame = [Ruling("h", ys[0], 0, 150), Ruling("h", ys[-1], 0, 150),
             Ruling("v", xs[0], 0, 60), Ruling("v", xs[-1], 0, 60.4)]
    inner = [Ruling("h", 20.0, 0, 150), Ruling("h", 40.0, 0, 50),              # row 2 right: merged down
             Ruling("v", 50.0, 0, 60), Ruling("v", 100.0, 0, 20), Ruling("v", 101.0, 0, 19)]
    (cells,) = grid_cells(snap_rulings(frame + inner))
    grid = table_grid(cells)
    assert len(grid) == 3 and len(grid[0]) == 3
    assert grid[1][2] is None and grid[2][1:] == [None, None]     # covered from the left / from above
    assert grid[1][1][2:] == (150.0, 60.0)                        # one cell: two columns, two rows
    assert grid[0][1][2] == grid[0][2][0] == 100.5                # 100 and 101 snapped to their mean
    with pytest.raises(Unsure):                                   # a rule stopping mid-cell
        grid_cells(snap_rulings(frame + inner + [Ruling("v", 75.0, 20, 30)]))
    with pytest.raises(Unsure):                                   # no closed frame
        grid_cells(snap_rulings(frame[:3] + inner))                 # (the right side missing)
    assert grid_cells(snap_rulings([Ruling("h", 5.0, 0, 100)])) == []   # an underline: no table


def test_cell_text_lines_and_words():
    from kehoach.ingest.pdf import Char, cell_text

    def word(s, x, top, w=5.0):
        return [Char(ch, x + k * w, top, x + (k + 1) * w, top + 9) for k, ch in enumerate(s)]
    chars = word("Sở", 10, 100) + word("Tư", 24, 100.5) + word("pháp", 10, 112) + [Char(" ", 30, 112, 33, 121)] + word("x", 33, 112)
    assert cell_text(chars[::-1]) == "Sở Tư\npháp x"        # gap > 3 pt splits; a space splits; order by x


# ---------------------------------------------------------------- words: fast text path vs pdfplumber

def _page_words(data: bytes) -> list[tuple[int, list[str], list[str]]]:
    """(page, fast path's words, pdfplumber's words) for every page whose characters are all
    upright (rotated table pages read as reversed letters in both readers)."""
    import unicodedata

    import pdfplumber
    import pypdfium2 as pdfium
    from kehoach.ingest.pdf import make_lines, page_segments

    def nfc(ws):
        return sorted(unicodedata.normalize("NFC", w) for w in ws)

    out = []
    pdf = pdfium.PdfDocument(data)
    try:
        with pdfplumber.open(io.BytesIO(data)) as doc:
            for i in range(len(pdf)):
                pp = doc.pages[i]
                if not pp.chars or not all(c["upright"] for c in pp.chars):
                    continue
                page = pdf[i]
                tp = page.get_textpage()
                try:
                    segs = page_segments(page, tp)
                finally:
                    tp.close()
                fast = [w for ln in make_lines(segs, i + 1) for w in ln.text.split()]
                out.append((i + 1, nfc(fast), nfc((pp.extract_text() or "").split())))
    finally:
        pdf.close()
    return out


@pytest.mark.parametrize("path", files("real/pdf", "*.pdf") + files("corpus/pdf", "*.pdf"), ids=lambda p: p.stem)
def test_fast_text_gives_pdfplumbers_words_on_every_vendored_pdf(path):
    pages = _page_words(path.read_bytes())
    assert pages, "no upright page"
    for page, fast, slow in pages:
        assert fast == slow, (page, sorted(set(fast) ^ set(slow))[:10])


def test_word_moved_to_instead_of_a_space_gets_its_space():
    """Some PDFs set words by moving the pen instead of drawing a space, with letters drawn
    tight (negative character spacing); pdfium then keeps no space ("banChỉ" in Quyết định
    798/QĐ-TTg of 2026). The gap over the letters' usual gap is the space."""
    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    t = c.beginText(72, 700)
    t.setFont("Times-Roman", 14)
    t.setCharSpace(-1.0)
    t._code.append("[(Truong) -180 (ban) -180 (Chi) -180 (dao)] TJ")    # 0.18 em moves, no space glyph
    c.drawText(t)
    c.showPage()
    c.save()
    data = buf.getvalue()
    pdf = pdfium.PdfDocument(data)
    assert pdf[0].get_textpage().get_text_range() == "TruongbanChidao"     # pdfium's own text
    pdf.close()
    assert read_pdf(data, "shift.pdf", "x").text == "Truong ban Chi dao"


# ---------------------------------------------------------------- narrow grid units (double rules)

def _too_close_pages(pdf) -> list[int]:
    """Ruled upright pages whose grid has a row or column under MIN_UNIT (grid_cells unsure)."""
    from kehoach.ingest.pdf import Unsure, grid_cells, page_rulings, ruled_page, snap_rulings
    from kehoach.ingest.pdf_grid import TooClose
    out = []
    for i in range(len(pdf)):
        page = pdf[i]
        if not ruled_page(page):
            continue
        try:
            grid_cells(snap_rulings(page_rulings(page, page.get_size()[1])))
        except TooClose:
            out.append(i)
        except Unsure:
            pass
    return out


def test_narrow_grid_units_read_as_pdfplumber_on_a_real_decision():
    """Quyết định 892/QĐ-TTg draws some column borders twice (3 pt apart): the grid reader
    takes pdfplumber's cell rules there and gives pdfplumber's rows, without pdfplumber."""
    import pdfplumber
    import pypdfium2 as pdfium
    from kehoach.ingest.pdf import fast_page_tables, page_tables
    data = need("real/pdf/quyet-dinh-so-892-qd-ttg-469579.pdf").read_bytes()
    pdf = pdfium.PdfDocument(data)
    pages = _too_close_pages(pdf)
    assert len(pages) >= 2
    n = 0
    with pdfplumber.open(io.BytesIO(data)) as doc:
        for i in pages:
            fast, slow = fast_page_tables(pdf[i], i + 1), page_tables(doc.pages[i], i + 1)
            assert [t.rows for t in fast] == [t.rows for t in slow], i + 1
            assert all(abs(x - y) < 0.01 for a, b in zip(fast, slow) for x, y in zip(a.bbox, b.bbox))
            n += len(fast)
    assert n >= 1


def test_narrow_grid_units_of_a_turned_appendix_as_pdfplumber():
    """Quyết định 135/QĐ-BLĐTBXH's landscape appendix (text turned on portrait pages) has
    5 pt spacer columns: the fast reader gives pdfplumber's rows on the pages turned upright."""
    import pdfplumber
    import pypdfium2 as pdfium
    from kehoach.ingest.pdf import (Char, _with_rotation, grid_tables, page_segments, page_tables,
                                    ruled_page, text_turn, turned_size)
    pdf = pdfium.PdfDocument(need("real/pdf/quyet-dinh-so-135-qd-bldtbxh-41357.pdf").read_bytes())
    fast, turned = {}, {}
    for i in range(2, 8):                  # the first pages of the appendix
        page = pdf[i]
        tp = page.get_textpage()
        turn = text_turn(tp)
        assert turn and ruled_page(page)
        chars: list[Char] = []
        page_segments(page, tp, chars, turn)
        tp.close()
        fast[i] = grid_tables(page, turned_size(*page.get_size(), turn)[1], chars, i + 1, turn)
        turned[i] = turn
    with pdfplumber.open(io.BytesIO(_with_rotation(pdf, turned))) as doc:
        for i, tables in fast.items():
            slow = page_tables(doc.pages[i], i + 1)
            assert tables and [t.rows for t in tables] == [t.rows for t in slow], i + 1


def test_plumber_cells_keeps_a_double_rule_as_a_narrow_column():
    from kehoach.ingest.pdf import Ruling, grid_cells, plumber_cells, snap_rulings
    from kehoach.ingest.pdf_grid import TooClose
    hs = [Ruling("h", y, 0, 150) for y in (0.0, 20.0, 40.0)]
    vs = [Ruling("v", x, 0, 40) for x in (0.0, 50.0, 55.0, 150.0)]      # 50 and 55: a double rule
    rulings = snap_rulings(hs + vs)
    with pytest.raises(TooClose):
        grid_cells(rulings)
    (cells,) = plumber_cells(rulings)
    assert sorted(cells) == sorted((x0, y0, x1, y1) for x0, x1 in ((0, 50), (50, 55), (55, 150))
                                   for y0, y1 in ((0, 20), (20, 40)))
    assert plumber_cells(snap_rulings([Ruling("h", 5.0, 0, 100)])) == []   # an underline: no table


def test_scanned_pages_a_few_pixels_apart_share_one_shape():
    """A scan's sheets differ by a pixel or two (597x848, 599x846 on the Quảng Ngãi Chỉ thị):
    they share one page shape (one set of paragraph metrics, so a paragraph runs on over the
    page break); a landscape page keeps its own."""
    from kehoach.ingest.pdf import PageInfo, page_shapes
    pages = [PageInfo(1, 597.1, 848.2), PageInfo(2, 599.0, 846.0), PageInfo(3, 595.3, 845.4),
             PageInfo(4, 842.0, 595.0), PageInfo(5, 612.0, 792.0)]
    shapes = page_shapes(pages)
    assert shapes[1] == shapes[2] == shapes[3] == (597, 848)
    assert shapes[4] == (842, 595) and shapes[5] == (612, 792)     # landscape; US Letter


def test_a_word_number_or_symbol_a_narrow_column_broke_is_one_again():
    """Lines of one table cell where the column's edge broke a word, a date or a document symbol (seen on the real
    plans printed by LibreOffice with a 9-column annex, and on their scans): joined without a space."""
    from kehoach.ingest.pdf import clean_table_cell
    assert clean_table_cell("Các sở, ngành, UBND xã, phườn\ng, đặc khu") == "Các sở, ngành, UBND xã, phường, đặc khu"
    assert clean_table_cell("Trung tâm Chuyể\nn đổi số Thành phố") == "Trung tâm Chuyển đổi số Thành phố"
    assert clean_table_cell("Quý IV/202\n5") == "Quý IV/2025"
    assert clean_table_cell("Quyết định số 06/QĐ-T\nTg ngày 02/01/2025") == "Quyết định số 06/QĐ-TTg ngày 02/01/2025"
    assert clean_table_cell("đang có hiệu lực (chuy\nển tiếp)") == "đang có hiệu lực (chuyển tiếp)"   # one syllable
    assert clean_table_cell("(cơ sở dữ liệu về quy hoạch\n) của Hệ thống") == "(cơ sở dữ liệu về quy hoạch) của Hệ thống"
    # a new word, a new number or a list item stays apart
    assert clean_table_cell("Sở Tài chính\nCác sở, ngành") == "Sở Tài chính Các sở, ngành"
    assert clean_table_cell("thành\nphố Hồ Chí Minh") == "thành phố Hồ Chí Minh"          # two syllables
    assert clean_table_cell("Năm 2025 -\n2026") == "Năm 2025 - 2026"
    assert clean_table_cell("Báo cáo\n- Quý I") == "Báo cáo\n- Quý I"
