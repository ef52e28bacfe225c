"""OCR of scanned PDF pages with real Tesseract (vie): accuracy against a text layer,
mixed PDFs, confidence and progress, ruled tables in scans, a real signed scan."""
import io
import re
import unicodedata

import pytest

from kehoach.ingest import ocr, read
from tests.shared import files, need

pytestmark = pytest.mark.skipif(ocr.available() is not None, reason=f"OCR unavailable: {ocr.available()}")


def _scan(pdf_path, pages=None, dpi=300) -> bytes:
    """Pages of a PDF as an image-only PDF (what a scanner makes)."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(pdf_path))
    idx = range(len(pdf)) if pages is None else pages
    images = [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in idx]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buf.getvalue()


def _cer(a: str, b: str) -> float:
    from rapidfuzz.distance import Levenshtein

    def norm(s):
        return re.sub(r"\s+", " ", unicodedata.normalize("NFC", s)).strip()
    return Levenshtein.distance(norm(a), norm(b)) / max(1, len(norm(b)))


def _text_page_pdf(pdf_path, pages: list[int]) -> bytes:
    import pypdfium2 as pdfium
    src = pdfium.PdfDocument(str(pdf_path))
    out = pdfium.PdfDocument.new()
    out.import_pages(src, pages)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def test_a_scanned_seed_page_reads_as_its_text_layer(tmp_path, capsys):
    seed = files("corpus/pdf", "*.pdf")[0]
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_scan(seed, [0]))
    text = tmp_path / "text.pdf"
    text.write_bytes(_text_page_pdf(seed, [0]))
    got, ref = read(scan), read(text)
    assert _cer(got.text, ref.text) <= 0.02
    assert [r["page"] for r in got.meta["ocr"]] == [1]
    assert got.meta["ocr"][0]["confidence"] > ocr.LOW_CONFIDENCE
    assert not any("no text layer" in w for w in got.warnings)
    assert "page 1 (1/1) confidence" in capsys.readouterr().err


def test_only_pages_without_a_text_layer_are_ocred(tmp_path):
    import pypdfium2 as pdfium
    seed = files("corpus/pdf", "*.pdf")[0]
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(_text_page_pdf(seed, [0])))
    mixed.import_pages(pdfium.PdfDocument(_scan(seed, [1])))
    p = tmp_path / "mixed.pdf"
    buf = io.BytesIO()
    mixed.save(buf)
    p.write_bytes(buf.getvalue())
    doc = read(p)
    assert [r["page"] for r in doc.meta["ocr"]] == [2]
    ref = tmp_path / "text.pdf"
    ref.write_bytes(_text_page_pdf(seed, [0, 1]))
    assert _cer(doc.text, read(ref).text) <= 0.02


def test_rulings_of_a_drawn_grid_make_cells():
    from PIL import Image, ImageDraw
    img = Image.new("L", (1200, 600), 255)
    d = ImageDraw.Draw(img)
    for y in (100, 250, 400):
        d.line([(100, y), (1100, y)], fill=0, width=3)
    for x in (100, 400, 1100):
        d.line([(x, 100), (x, 400)], fill=0, width=3)
    d.text((150, 150), "Sở Nội vụ", fill=0)        # letters are not rulings
    from kehoach.ingest import pdf as P
    rulings = P.snap_rulings(ocr.image_rulings(img, dpi=300))
    assert sorted(r.orient for r in rulings) == ["h"] * 3 + ["v"] * 3
    cells = P.grid_cells(rulings)
    assert len(cells) == 1 and len(cells[0]) == 4


@pytest.mark.slow
def test_a_scanned_table_page_keeps_its_table(tmp_path):
    seed = need("corpus/pdf/003_12050e55d6d4d6a9.pdf")
    ref = read(seed)
    page = ref.meta["table_pages"][0]
    scan = tmp_path / "table.pdf"
    scan.write_bytes(_scan(seed, [page - 1]))
    doc = read(scan)
    assert doc.tables and len(doc.tables[0].rows) >= 3
    # Table.rows holds block indices: compare the width of the first body row
    width = len(doc.blocks[doc.tables[0].rows[0]].cells or [])
    assert width == len(ref.blocks[ref.tables[0].rows[0]].cells or [])


@pytest.mark.slow
def test_a_real_signed_scan_is_extracted_with_its_tasks():
    from kehoach.extract import extract
    scan = files("real/scanned", "*.pdf")[0]
    doc = read(scan)
    assert len(doc.meta["ocr"]) == doc.pages
    assert all(r["confidence"] > 80 for r in doc.meta["ocr"])
    ex = extract(doc).to_dict()
    assert ex["document"]["type"] == "Chỉ thị"
    assert "Ủy ban nhân dân tỉnh" in (ex["document"]["issuer"] or "")
    assert len(ex["tasks"]) >= 5


def test_frame_lines_get_the_accents_ocr_missed():
    assert ocr.known_caps("PHO CHỦ TỊCH") == "PHÓ CHỦ TỊCH"
    assert ocr.known_caps("KT. CHU TICH") == "KT. CHỦ TỊCH"
    assert ocr.known_caps("KE HOACH") == "KẾ HOẠCH"
    assert ocr.known_caps("Pho chu tich") == "Pho chu tich"          # only all-caps lines
    assert ocr.known_caps("TỈNH QUẢNG TRỊ") == "TỈNH QUẢNG TRỊ"      # unknown words: untouched
