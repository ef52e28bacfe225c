"""Images of a document (JPEG, PNG, TIFF: a scanner's output, a phone photo of a signed page, a
multi-page fax TIFF) -> IngestedDocument, through the OCR path of scanned PDFs.

Stages:

1. ``open_image``   Pillow opens the file (header only) and its size is checked against
                    ``MAX_IMAGE_PIXELS`` a frame and ``MAX_PAGES`` frames before any pixel is
                    decoded (a 20000x20000 PNG is a decompression bomb, not a page)
2. ``upright``      each frame (a TIFF page) decoded and turned upright: the EXIF orientation
                    a phone writes; a quarter turn or half turn found by Tesseract's
                    orientation detection (``osd``); a tilt of 2 to ``MAX_TILT`` degrees found by
                    the row profile of ink (``ocr.skew_angle``; smaller ones are left to
                    ``ocr.deskew``, as on a scanned PDF page); red stamp ink dropped
                    (``ocr.drop_red``), so a frame is kept as 8-bit gray
3. ``page_size``    the frame's size on paper: its own resolution when it has a plausible one
                    (a scanner's 200-600 dpi), else A4 (the national format, Nghị định
                    30/2020/NĐ-CP) fitted to the frame: a phone's "72 dpi" means nothing
4. ``add_page``     one image-only page a frame, in a PDF built in memory by pypdfium2
                    (lossless), read by ``pdf.read_pdf_document``: every page is OCR'd as a
                    page of a scanned PDF (rendered at ``ocr.DPI``, deskewed within 2 degrees,
                    frame blocks read again, tables), with page numbers = frame numbers

The record keeps the image's format (``jpeg``, ``png``, ``tiff``) and hash; ``meta["image"]``
holds, a frame, its pixel size, the resolution used and the turn applied.
"""
from __future__ import annotations

import io
import os
import re
import warnings as _warnings
from dataclasses import dataclass
from typing import Optional

from kehoach.errors import IngestError
from kehoach.models import IngestedDocument

# Pillow's own bomb limit (89.5 megapixels, ``PIL.Image.MAX_IMAGE_PIXELS``): an A3 page at 600 dpi
# is 70 megapixels, a phone photo 12-50. Larger frames are refused before they are decoded.
MAX_IMAGE_PIXELS = int(os.environ.get("KEHOACH_MAX_IMAGE_PIXELS") or 89_478_485)
MAX_TILT = 10.0                   # degrees searched either way for a photo's tilt; a tilt over
TILT_STEP = 0.5                   # ocr.MAX_SKEW (2) is turned here, ``ocr.deskew`` refines it
OSD_MIN_CONF = 2.0                # Tesseract's orientation confidence needed to turn a frame
DPI_RANGE = (100, 1200)           # resolutions a scanner writes; others (72, 96, none) are ignored
A4_IN = (8.27, 11.69)             # inches
FORMATS = {"JPEG": "jpeg", "PNG": "png", "TIFF": "tiff", "MPO": "jpeg"}   # MPO: some phones' JPEG


@dataclass
class Frame:
    image: object                 # PIL image, mode L, upright
    dpi: float                    # pixels an inch on paper
    size: tuple[int, int]         # pixels as in the file
    turn: int                     # degrees turned counter-clockwise (EXIF + osd)
    tilt: float                   # degrees of tilt corrected

    def record(self, number: int) -> dict:
        return {"page": number, "pixels": list(self.size), "dpi": round(self.dpi, 1),
                "turn": self.turn, "tilt": self.tilt}


def _kind(im) -> str:
    return FORMATS.get(im.format or "", (im.format or "image").lower())


def open_image(data: bytes, source: str):
    """The Pillow image of ``data`` (nothing decoded yet), its frames checked against the limits."""
    from PIL import Image, UnidentifiedImageError
    from kehoach.ingest import MAX_PAGES
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        m = re.search(r"\((\d+) pixels\)", str(e))     # Pillow's check, at open: over 2x its limit
        n = int(m.group(1)) if m else 0
        raise IngestError(source, _too_many_pixels("image", n, "")) from None
    except UnidentifiedImageError:
        raise IngestError(source, "not an image Pillow can read (damaged, or another format)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise IngestError(source, f"damaged image ({_short(e)})") from None
    kind = _kind(im).upper()
    n = getattr(im, "n_frames", 1)
    if n > MAX_PAGES:
        raise IngestError(source, f"{kind} has {n} pages, more than the limit of {MAX_PAGES} "
                                  "(set KEHOACH_MAX_PAGES to read it, or split the file)")
    for k in range(n):
        if k:
            im.seek(k)
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            page = f" (page {k + 1})" if n > 1 else ""
            raise IngestError(source, _too_many_pixels(f"{kind} image{page}", w * h, f" of {w}x{h} pixels"))
    if n > 1:
        im.seek(0)
    return im


def _too_many_pixels(what: str, n: int, size: str) -> str:
    return (f"{what}{size} ({n / 1e6:.0f} megapixels) is over the limit of {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels "
            "(a decompression bomb, not a page; set KEHOACH_MAX_IMAGE_PIXELS to read it)")


def _short(e: Exception) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:120]


def _resolution(im) -> Optional[float]:
    """The frame's own resolution when a scanner wrote a plausible one, else None."""
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        x = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    if not (DPI_RANGE[0] <= x <= DPI_RANGE[1]):
        return None
    w, h = im.size
    if max(w, h) / x > 17.0:       # over A3's long side: the resolution is wrong
        return None
    return x


def page_dpi(size: tuple[int, int], own: Optional[float]) -> float:
    """Pixels an inch for a frame: its own resolution, else A4 (portrait or landscape) fitted."""
    if own:
        return own
    w, h = size
    pw, ph = A4_IN if h >= w else A4_IN[::-1]
    return max(w / pw, h / ph)


def quarter_turn(gray) -> int:
    """Degrees (0, 90, 180, 270) to turn ``gray`` counter-clockwise to read it upright, from
    Tesseract's orientation and script detection on a copy about 1,600 pixels long; 0 when it
    is unsure or finds too few letters."""
    import pytesseract
    small = gray
    f = max(gray.size) // 1600
    if f >= 2:
        small = gray.reduce(f)
    try:
        osd = pytesseract.image_to_osd(small, config="--psm 0", output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:       # too few characters to tell
        return 0
    if float(osd.get("orientation_conf", 0)) < OSD_MIN_CONF:
        return 0
    return int(osd.get("rotate", 0)) % 360     # tesseract's "rotate": degrees clockwise to upright


def tilt_angle(gray) -> float:
    """The rotation (degrees, counter-clockwise) that makes a photo's lines horizontal, searched
    within ``MAX_TILT`` on a copy about 800 pixels wide (``ocr.skew_angle`` with a wider range)."""
    from kehoach.ingest import ocr
    return ocr.skew_angle(gray, max_skew=MAX_TILT, step=TILT_STEP, reduce=max(1, gray.width // 800))


def upright(im) -> Frame:
    """The current frame of ``im`` decoded, turned upright, tilt corrected, red ink dropped."""
    from PIL import Image, ImageOps
    from kehoach.ingest import ocr
    size = im.size
    own = _resolution(im)
    im.load()
    exif_turn = {3: 180, 6: 270, 8: 90}.get(im.getexif().get(0x0112, 1), 0) if hasattr(im, "getexif") else 0
    frame = ImageOps.exif_transpose(im) if exif_turn else im
    if frame.mode in ("1", "I;16", "I", "F", "P", "LA", "PA", "CMYK", "YCbCr", "RGBA", "LAB", "HSV"):
        frame = frame.convert("RGB") if frame.mode not in ("1", "I;16", "I", "F") else frame.convert("L")
    gray = ocr.drop_red(frame)
    turn = exif_turn
    r = quarter_turn(gray)
    if r:
        gray = gray.rotate(-r, expand=True)       # PIL rotates counter-clockwise
        turn = (turn - r) % 360
    tilt = tilt_angle(gray)
    if abs(tilt) > ocr.MAX_SKEW:       # a scan's small skew is left to ``ocr.deskew`` (one resampling)
        gray = gray.rotate(tilt, resample=Image.BICUBIC, expand=True, fillcolor=255)
    else:
        tilt = 0.0
    return Frame(gray, page_dpi(gray.size, own), size, turn, round(tilt, 1))


def add_page(pdf, f: Frame) -> None:
    """One image-only page at the end of ``pdf`` (pypdfium2), sized by the frame's resolution;
    the frame's pixels are then held by PDFium only."""
    import pypdfium2 as pdfium
    w, h = f.image.size
    pw, ph = w * 72.0 / f.dpi, h * 72.0 / f.dpi
    page = pdf.new_page(pw, ph)
    obj = pdfium.PdfImage.new(pdf)
    bitmap = pdfium.PdfBitmap.from_pil(f.image)
    obj.set_bitmap(bitmap)
    bitmap.close()
    obj.set_matrix(pdfium.PdfMatrix().scale(pw, ph))
    page.insert_obj(obj)
    page.gen_content()
    page.close()
    f.image = None


def read_image(data: bytes, source: str, sha256: str) -> IngestedDocument:
    from kehoach.ingest import ocr
    from kehoach.ingest.pdf import read_pdf_document
    im = open_image(data, source)
    kind = _kind(im)
    why = ocr.available()
    if why:
        raise IngestError(source, f"{kind.upper()} image needs OCR, but {why}")
    import pypdfium2 as pdfium
    frames: list[Frame] = []
    pdf = pdfium.PdfDocument.new()
    try:
        try:
            for k in range(getattr(im, "n_frames", 1)):
                if k:
                    im.seek(k)
                frames.append(upright(im))
                add_page(pdf, frames[-1])
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            page = f" page {len(frames) + 1}" if getattr(im, "n_frames", 1) > 1 else ""
            raise IngestError(source, f"damaged {kind.upper()} image{page} ({_short(e)})") from None
        finally:
            im.close()
        doc = read_pdf_document(pdf, b"", source, sha256, fmt=kind, what=f"{kind.upper()} image")
    finally:
        pdf.close()
    doc.meta["reader"] = "Pillow+tesseract"
    doc.meta["image"] = [f.record(k + 1) for k, f in enumerate(frames)]
    return doc
