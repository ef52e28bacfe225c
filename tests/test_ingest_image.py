"""Images of signed documents (JPEG, PNG, multi-page TIFF, a phone photo turned and tilted) read
through the OCR path of scanned PDFs. The images are made here from the real signed scans
(real/scanned: Chỉ thị of Ủy ban nhân dân tỉnh Quảng Ngãi, red stamps, numbers and days filled in
by hand) as a scanner or a phone gives them; real Tesseract, no mocks."""
from __future__ import annotations

import pytest

from kehoach.extract import extract
from kehoach.ingest import ocr, read
from tests import bad_inputs as B
from tests.shared import files

pytestmark = pytest.mark.skipif(ocr.available() is not None, reason=f"OCR unavailable: {ocr.available()}")

SCANS = files("real/scanned", "*.pdf")
# What the scans themselves give (kehoach extract on the PDF): the number as OCR reads it (the
# hand-written 11 reads "44", 16 not at all: docs/formats.md), the month of the date (its day is
# hand-written).
EXPECT = {"04CT": ("04/CT-UBND", "2024-03"), "11 CT": ("44/CT-UBND", "2024-09"), "16CT": (None, "2021-12")}


def _expect(scan):
    return next(v for k, v in EXPECT.items() if scan.name.startswith(k))


def _pages(scan, first: int = 0, last: int | None = None, dpi: int = 300):
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(scan))
    try:
        return [pdf[i].render(scale=dpi / 72).to_pil() for i in range(first, last if last is not None else len(pdf))]
    finally:
        pdf.close()


def _photo(page, turn: int = 90, tilt: float = 4.0, exif: bool = False):
    """A phone photo of ``page``: turned a quarter (the phone held sideways), tilted, JPEG at 80,
    no resolution; with ``exif`` the pixels stay sideways and the EXIF orientation says so."""
    from PIL import Image
    img = page.rotate(turn, expand=True).rotate(tilt, resample=Image.BICUBIC, expand=True, fillcolor="white")
    ex = Image.Exif()
    if exif:
        ex[0x0112] = {90: 6, 270: 8, 180: 3}[turn]     # what a phone writes for the turn it saw
    return img, ex


def _check_header(rec, scan, exact_number: bool = True):
    number, month = _expect(scan)
    d = rec["document"]
    assert d["type"] == "Chỉ thị"
    assert (d["issuer"] or "").startswith("Ủy ban nhân dân tỉnh Quảng Ngãi")
    assert (d["date"] or "").startswith(month)
    if exact_number:
        assert d["number"] == number
    else:                                       # a photo's hand-written digits may read otherwise
        assert d["number"] is None or d["number"].endswith("/CT-UBND")


@pytest.mark.parametrize("scan", SCANS, ids=lambda p: p.name.split(".")[0])
def test_a_scanned_page_as_png_gives_the_number_type_and_tasks_of_the_scan(scan, tmp_path):
    p = tmp_path / "page1.png"
    _pages(scan, 0, 1)[0].save(p, dpi=(300, 300))
    doc = read(p)
    assert doc.format == "png" and doc.pages == 1
    meta = doc.meta["image"][0]
    assert (meta["page"], meta["dpi"], meta["turn"], meta["tilt"]) == (1, 300.0, 0, 0.0)
    assert doc.meta["ocr"][0]["confidence"] > 90
    rec = extract(doc).to_dict()
    _check_header(rec, scan)
    assert len(rec["tasks"]) >= 3 and all(t["span"]["page"] == 1 for t in rec["tasks"])


@pytest.mark.slow
@pytest.mark.parametrize("scan", SCANS, ids=lambda p: p.name.split(".")[0])
def test_a_scanned_page_as_jpeg_and_as_phone_photos_gives_the_type_and_tasks(scan, tmp_path):
    page = _pages(scan, 0, 1)[0]
    p = tmp_path / "page1.jpg"
    page.save(p, quality=85)                    # no resolution written: the page is fitted to A4
    rec = extract(read(p)).to_dict()
    _check_header(rec, scan)
    assert len(rec["tasks"]) >= 3
    for exif in (False, True):
        img, ex = _photo(page, 90, 4.0, exif)
        q = tmp_path / f"photo-exif{int(exif)}.jpg"
        img.save(q, quality=80, exif=ex)
        doc = read(q)
        meta = doc.meta["image"][0]
        assert meta["turn"] in (90, 270) and 3.0 <= abs(meta["tilt"]) <= 5.0, meta
        rec = extract(doc).to_dict()
        _check_header(rec, scan, exact_number=False)
        assert len(rec["tasks"]) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("scan", SCANS, ids=lambda p: p.name.split(".")[0])
def test_a_multipage_tiff_of_a_scan_reads_as_the_scanned_pdf(scan, tmp_path):
    """Every page as one frame of a TIFF (LZW, 300 dpi, as a scanner writes it): the record is the
    scanned PDF's, with the frame numbers as page numbers."""
    pages = _pages(scan)
    p = tmp_path / "scan.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(300, 300))
    doc = read(p)
    assert doc.format == "tiff" and doc.pages == len(pages)
    assert [m["page"] for m in doc.meta["image"]] == list(range(1, len(pages) + 1))
    got = extract(doc).to_dict()
    want = extract(read(scan)).to_dict()
    _check_header(got, scan)
    # the frames are the pages PDFium rendered, rendered once more: a few letters and
    # punctuation marks read otherwise ("những;" / "những:"), and a hand-written day may too
    for key in ("number", "type", "issuer", "place", "title", "signer"):
        assert got["document"][key] == want["document"][key], key
    assert got["document"]["date"][:7] == want["document"]["date"][:7]
    n, m = len(got["tasks"]), len(want["tasks"])
    print(f"{scan.name}: TIFF {got['document']['number']} {n} tasks ({sum(bool(t['lead']) for t in got['tasks'])} "
          f"with an owner), PDF {want['document']['number']} {m} ({sum(bool(t['lead']) for t in want['tasks'])})")
    assert abs(n - m) <= max(2, m // 10), (n, m)
    assert {t["span"]["page"] for t in got["tasks"]} >= {1, 2}
    assert max(t["span"]["page"] for t in got["tasks"]) <= len(pages)


def test_a_sideways_tilted_page_is_turned_upright_before_ocr():
    """Tesseract's orientation detection finds the quarter turn, the row profile the tilt."""
    from kehoach.ingest.image import upright
    page = B.scan_page_image(0, 150)
    img, _ = _photo(page, 90, 6.0)
    f = upright(img)
    assert f.turn == 270 and abs(f.tilt + 6.0) <= 0.5, (f.turn, f.tilt)
    assert f.image.height > f.image.width                    # portrait again
    upside = upright(page.rotate(180))
    assert upside.turn == 180
    assert upright(page).turn == 0


def test_an_image_with_a_scanner_resolution_keeps_its_size_on_paper():
    from kehoach.ingest.image import page_dpi
    assert page_dpi((2480, 3508), 300.0) == 300.0            # A4 at 300 dpi
    assert round(page_dpi((3000, 4000), None)) == 363        # a phone photo: A4 fitted
    assert round(page_dpi((4000, 3000), None)) == 363        # landscape: A4 landscape
