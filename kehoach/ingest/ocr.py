"""OCR for PDF pages without a usable text layer (signed scans), with Tesseract's
Vietnamese model through pytesseract.

Stages:

1. ``needs_ocr``     a page draws an image and has (almost) no text: OCR it; pages with a
                     text layer are read from it (mixed PDFs exist)
2. ``render``        pypdfium2 renders the page, grayscale, at ``DPI``
3. ``ocr_image``     Tesseract (``vie``, page segmentation ``PSM``) -> words with boxes and
                     confidences
4. ``word_segments`` words -> text runs (``pdf.Seg``, in points) on Tesseract's lines, split
                     at wide gaps, so the PDF reader lays out an OCR'd page (letterhead and
                     signature columns, paragraphs, headings) exactly as a text-layer page
5. ``ocr_pages``     pages in parallel (``WORKERS`` threads: each waits on its own
                     ``tesseract`` process), one progress line per page on stderr

Each page's mean word confidence is kept (``PageOcr.confidence``, 0-100); the PDF reader
puts it in ``meta["ocr"]`` and warns below ``LOW_CONFIDENCE``.
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional

from kehoach.errors import IngestError

# 300 dpi is what Tesseract is trained for (x-height ~ 20-30 px at 12-14 pt). Measured on the
# seed PDFs rendered from their text layer (benchmarks/bench_ocr.py): 300 dpi gives a lower
# character error rate than 200 dpi, at about 1.8x the time per page.
DPI = 300
# Page segmentation 3 (automatic, Tesseract's default) finds the two-column letterhead and
# the signature block as separate blocks; their lines keep their geometry, and the PDF
# reader splits them into columns as it does for a text layer.
PSM = 3
LANG = "vie"
WORKERS = 2
LOW_CONFIDENCE = 75.0            # mean word confidence under which a page is flagged
MIN_TEXT_CHARS = 20              # fewer characters than this on an image page: no usable text layer
_RENDER_LOCK = threading.Lock()  # pdfium is not thread-safe


@dataclass
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    line: tuple[int, int, int]   # Tesseract's (block, paragraph, line)


@dataclass
class PageOcr:
    number: int                  # 1-based page number
    segs: list = field(default_factory=list)     # pdf.Seg runs, in points
    confidence: float = 0.0      # mean word confidence, weighted by length (0-100)
    words: int = 0
    seconds: float = 0.0

    def record(self) -> dict:
        return {"page": self.number, "confidence": round(self.confidence, 1), "words": self.words,
                "dpi": DPI, "engine": "tesseract", "lang": LANG}


def available() -> Optional[str]:
    """None when Tesseract with the Vietnamese model can run, else the reason."""
    try:
        import pytesseract
        langs = pytesseract.get_languages(config="")
    except ImportError:
        return "pytesseract is not installed (pip install pytesseract)"
    except Exception:
        return "Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-vie)"
    if LANG not in langs:
        return "Tesseract's Vietnamese model is not installed (apt-get install tesseract-ocr-vie)"
    return None


def needs_ocr(page, n_chars: int) -> bool:
    """A page with no usable text layer: fewer than ``MIN_TEXT_CHARS`` characters and at
    least one image drawn on it (a blank page has neither and is left alone)."""
    if n_chars >= MIN_TEXT_CHARS:
        return False
    import pypdfium2.raw as R
    return any(o.type == R.FPDF_PAGEOBJ_IMAGE for o in page.get_objects(max_depth=2))


def render(pdf, index: int, dpi: Optional[int] = None):
    """One page as a grayscale PIL image at ``dpi``."""
    dpi = dpi or DPI
    with _RENDER_LOCK:
        page = pdf[index]
        try:
            return page.render(scale=dpi / 72, grayscale=True).to_pil()
        finally:
            page.close()


def ocr_image(image, psm: Optional[int] = None, lang: str = LANG) -> list[Word]:
    """Tesseract's words on an image, with boxes (pixels) and confidences."""
    import pytesseract
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")   # parallel pages, not threads inside one
    d = pytesseract.image_to_data(image, lang=lang, config=f"--psm {psm or PSM}",
                                  output_type=pytesseract.Output.DICT)
    out: list[Word] = []
    for i, t in enumerate(d["text"]):
        t = (t or "").strip()
        if not t:
            continue
        out.append(Word(t, d["left"][i], d["top"][i], d["width"][i], d["height"][i], float(d["conf"][i]),
                        (d["block_num"][i], d["par_num"][i], d["line_num"][i])))
    return out


def confidence(words: list[Word]) -> float:
    scored = [(w.conf, len(w.text)) for w in words if w.conf >= 0]
    n = sum(k for _, k in scored)
    return sum(c * k for c, k in scored) / n if n else 0.0


def word_segments(words: list[Word], dpi: Optional[int] = None) -> list:
    """Words -> ``pdf.Seg`` runs in points: one per Tesseract line, cut where the gap
    between two words is wider than 1.5 line heights (two columns on one baseline)."""
    from kehoach.ingest.pdf import Seg
    k = 72.0 / (dpi or DPI)
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    segs = []
    for ws in lines.values():
        ws.sort(key=lambda w: w.left)
        h = statistics.median(w.height for w in ws)
        runs: list[list[Word]] = [[ws[0]]]
        for w in ws[1:]:
            prev = runs[-1][-1]
            if w.left - (prev.left + prev.width) > 1.5 * h:
                runs.append([w])
            else:
                runs[-1].append(w)
        for r in runs:
            x0 = min(w.left for w in r)
            top = min(w.top for w in r)
            x1 = max(w.left + w.width for w in r)
            bottom = max(w.top + w.height for w in r)
            size = statistics.median(w.height for w in r) * k
            segs.append(Seg(x0 * k, top * k, x1 * k, bottom * k, " ".join(w.text for w in r), size))
    return segs


def ocr_page(pdf, index: int, dpi: Optional[int] = None, psm: Optional[int] = None) -> PageOcr:
    import time
    t0 = time.perf_counter()
    words = ocr_image(render(pdf, index, dpi), psm)
    return PageOcr(index + 1, word_segments(words, dpi), confidence(words), len(words),
                   time.perf_counter() - t0)


def _progress(source: str, total: int) -> Callable[[PageOcr], None]:
    done = [0]
    tty = sys.stderr.isatty()

    def report(p: PageOcr) -> None:
        done[0] += 1
        msg = (f"ocr {source}: page {p.number} ({done[0]}/{total}) "
               f"confidence {p.confidence:.0f}, {p.seconds:.1f} s")
        sys.stderr.write(("\r" + msg + ("\n" if done[0] == total else "")) if tty else msg + "\n")
        sys.stderr.flush()
    return report


def ocr_pages(pdf, indices: list[int], source: str = "", workers: Optional[int] = None,
              dpi: Optional[int] = None, psm: Optional[int] = None, progress: bool = True) -> dict[int, PageOcr]:
    """OCR the pages at ``indices`` (0-based) of an open pypdfium2 document, in parallel;
    page index -> PageOcr. Raises IngestError when Tesseract cannot run. Unset arguments
    take the module's ``WORKERS``, ``DPI``, ``PSM`` at call time."""
    if not indices:
        return {}
    why = available()
    if why:
        raise IngestError(source, f"scanned PDF with no text layer needs OCR, but {why}")
    report = _progress(source, len(indices)) if progress else None
    out: dict[int, PageOcr] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers or WORKERS, len(indices)))) as pool:
        futures = {pool.submit(ocr_page, pdf, i, dpi, psm): i for i in indices}
        from concurrent.futures import as_completed
        for f in as_completed(futures):
            p = f.result()
            out[futures[f]] = p
            if report:
                report(p)
    return out


def fill_pages(pdf, pages: list, indices: list[int], source: str, warnings: list[str]) -> None:
    """OCR the PDF reader's pages at ``indices`` (``pdf.PageInfo``) and give them lines,
    as a text layer would; each page's confidence goes in ``PageInfo.ocr``, low ones in
    ``warnings``."""
    from kehoach.ingest.pdf import make_lines
    for i, p in sorted(ocr_pages(pdf, indices, source).items()):
        info = pages[i]
        info.lines = make_lines(p.segs, info.number)
        info.chars = len(p.segs)
        info.ocr = p.record()
        if not p.segs:
            warnings.append(f"page {info.number}: OCR found no text")
        elif p.confidence < LOW_CONFIDENCE:
            warnings.append(f"page {info.number}: OCR confidence {p.confidence:.0f}/100 is low; "
                            f"check its text against the scan")
