"""PDF pages whose text is drawn turned (a landscape table set on a portrait page, /Rotate
left at 0): read in the text's upright frame, rows and words in reading order."""
from __future__ import annotations

import io
import sys
import unicodedata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kehoach.ingest.pdf import read_pdf  # noqa: E402
from tests.shared import files, need  # noqa: E402


def _turned_landscape_pdf(turn_degrees: int) -> bytes:
    """A portrait page with a ruled 3x3 table whose text is drawn turned (rotated canvas)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.saveState()
    if turn_degrees == 90:
        c.translate(w, 0)
    else:
        c.translate(0, h)
    c.rotate(turn_degrees)
    rows = [["STT", "Nhiem vu", "Don vi chu tri"], ["1", "Xay dung ke hoach trien khai", "So Noi vu"],
            ["2", "Tong hop bao cao ket qua", "So Tai chinh"]]
    xs, y0, rh = [60, 110, 420, 700], 450, 30
    for k, r in enumerate(rows):
        y = y0 - k * rh
        for j, cell in enumerate(r):
            c.drawString(xs[j] + 4, y - 20, cell)
    for k in range(len(rows) + 1):
        c.line(xs[0], y0 - k * rh, xs[-1], y0 - k * rh)
    for x in xs:
        c.line(x, y0, x, y0 - len(rows) * rh)
    c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("degrees", [90, -90])
def test_turned_table_reads_in_rows(degrees):
    doc = read_pdf(_turned_landscape_pdf(degrees), "turned.pdf", "x")
    assert len(doc.tables) == 1
    rows = [b.cells for b in doc.blocks if b.kind == "row" and b.table == 0]
    assert rows == [["STT", "Nhiem vu", "Don vi chu tri"], ["1", "Xay dung ke hoach trien khai", "So Noi vu"],
                    ["2", "Tong hop bao cao ket qua", "So Tai chinh"]]


def test_upright_pages_stay_upright():
    import pypdfium2 as pdfium
    from kehoach.ingest.pdf import text_turn
    for path in files("corpus/pdf", "*.pdf"):
        pdf = pdfium.PdfDocument(path.read_bytes())
        try:
            for i in range(len(pdf)):
                tp = pdf[i].get_textpage()
                assert text_turn(tp) == 0, (path.name, i + 1)
                tp.close()
        finally:
            pdf.close()


def _turned_pages_words(data: bytes, limit: int = 3) -> list[tuple[int, list[str], list[str]]]:
    """(page, fast path's words, pdfplumber's words of the page set upright by /Rotate) for
    the first ``limit`` pages whose text is turned."""
    import pdfplumber
    import pypdfium2 as pdfium
    from kehoach.ingest.pdf import _with_rotation, make_lines, page_segments, text_turn

    def nfc(ws):
        return sorted(unicodedata.normalize("NFC", w) for w in ws)

    pdf = pdfium.PdfDocument(data)
    out = []
    try:
        turns = {}
        fast = {}
        for i in range(len(pdf)):
            page = pdf[i]
            tp = page.get_textpage()
            try:
                t = text_turn(tp)
                if t and len(turns) < limit:
                    turns[i] = t
                    fast[i] = [w for ln in make_lines(page_segments(page, tp, turn=t), i + 1) for w in ln.text.split()]
            finally:
                tp.close()
        if not turns:
            return []
        with pdfplumber.open(io.BytesIO(_with_rotation(pdf, turns))) as doc:
            for i in turns:
                # the letters left upright on the turned page (the running header) are left out
                slow = doc.pages[i].filter(lambda o: o.get("object_type") != "char" or o.get("upright"))
                out.append((i + 1, nfc(fast[i]), nfc((slow.extract_text() or "").split())))
    finally:
        pdf.close()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quyet-dinh-so-135-qd-bldtbxh-41357.pdf", "quyet-dinh-so-28-2021-qd-ttg-34546.pdf"])
def test_turned_pages_give_pdfplumbers_words(name):
    path = need("real/pdf/" + name)
    pages = _turned_pages_words(path.read_bytes())
    assert pages, "no turned page"
    for page, fast, slow in pages:
        assert fast == slow, (page, sorted(set(fast) ^ set(slow))[:10])


@pytest.mark.slow
def test_turned_appendix_table_of_a_real_decision():
    """Quyết định 135/QĐ-BLĐTBXH lists the repealed documents in a landscape table (pages
    3-25 set in portrait): its rows read left to right, each repealed document a reference."""
    from kehoach.extract import extract
    from kehoach.ingest import read
    doc = read(need("real/pdf/quyet-dinh-so-135-qd-bldtbxh-41357.pdf"))
    assert "3202/" not in doc.text and "TTS" not in doc.text        # no letters read backwards
    rows = [b.cells for b in doc.blocks if b.kind == "row" and b.table == 0]
    assert [c for c in rows[0] if c][:3] == ["STT", "Văn bản hết hiệu lực", "Lý do hết hiệu lực"]
    row = next(r for r in rows if r[0] == "1")
    assert any(c.startswith("Thông tư số 36/2017/TT-BLĐTBXH ngày 29/12/2017") for c in row)
    assert any(c.startswith("Được thay thế bởi Thông tư số 05/2023/TT-BLĐTBXH") for c in row)
    refs = {r.symbol for r in extract(doc).legal_refs}
    assert {"36/2017/TT-BLĐTBXH", "05/2023/TT-BLĐTBXH", "63/2015/NĐ-CP"} <= refs
