"""OCR for PDF pages without a usable text layer (signed scans), with Tesseract's
Vietnamese model through pytesseract.

Stages:

1. ``needs_ocr``     a page draws an image and has (almost) no text: OCR it; pages with a
                     text layer are read from it (mixed PDFs exist)
2. ``render``        pypdfium2 renders the page, grayscale, at ``DPI``; ``deskew`` turns it
                     straight (row profile of ink, within ``MAX_SKEW`` degrees)
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
import re
import statistics
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional

from kehoach.errors import IngestError
from kehoach.ingest.normalize import fold_lookalikes

# 300 dpi is what Tesseract is trained for (x-height ~ 20-30 px at 12-14 pt). Measured on the
# seed PDFs turned into scans (benchmarks/bench_ocr.py): clean renders give about the same
# character error rate at 200 and 300 dpi (0.80% vs 0.89%, typeset text is large enough at
# either), 200 dpi in about half the time; 300 is kept because real scans (thin strokes,
# small accents of bold capitals, stamps over the signature) lose detail first.
DPI = 300
# Page segmentation 3 (automatic, Tesseract's default) finds the two-column letterhead and
# the signature block as separate blocks; their lines keep their geometry, and the PDF
# reader splits them into columns as it does for a text layer.
PSM = 3
LANG = "vie"
WORKERS = 2
LOW_CONFIDENCE = 75.0            # mean word confidence under which a page is flagged
NOISE_CONF = 60.0                # short runs under this mean confidence are specks
NOISE_CHARS = 4                  # ... of at most this many letters and digits
BODY_RUN_WORDS = 6               # a run of this many words is a line of the body
SIZE_SNAP = 0.15                 # word-box heights within 15% of the page's median: body size
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
    tables: list = field(default_factory=list)   # pdf.PTable, from the scan's rulings

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
    """One page as a grayscale PIL image at ``dpi``, a red stamp's ink dropped (``drop_red``)."""
    dpi = dpi or DPI
    with _RENDER_LOCK:
        page = pdf[index]
        try:
            image = page.render(scale=dpi / 72).to_pil()
        finally:
            page.close()
    return drop_red(image)


# A stamp (con dấu) is red, printed text black, signatures and handwritten numbers blue or
# black: a pixel much redder than it is green or blue is a stamp's and becomes paper, so the
# stamp does not blot the post and name lines it is pressed over. A gray scan has no colour
# left to tell them apart (its stamp stays).
RED_MARGIN = 60                  # red minus max(green, blue), in levels of 255


def drop_red(image):
    """Gray image of an RGB page with red ink turned white."""
    import numpy as np
    from PIL import Image
    if image.mode not in ("RGB", "RGBA"):
        return image.convert("L")
    a = np.asarray(image.convert("RGB"), dtype=np.int16)
    gray = np.asarray(image.convert("L")).copy()
    red = (a[..., 0] - np.maximum(a[..., 1], a[..., 2])) > RED_MARGIN
    if red.any():
        gray[red] = 255
    return Image.fromarray(gray, "L")


MAX_SKEW = 2.0                   # degrees searched either way by ``deskew``
SKEW_STEP = 0.2


def skew_angle(image, max_skew: float = MAX_SKEW, step: float = SKEW_STEP, reduce: int = 4) -> float:
    """The rotation (degrees) that makes a page's lines horizontal: the angle whose
    row profile of ink is sharpest (highest variance), on a copy ``reduce`` times smaller,
    searched within ``max_skew`` either way (``ingest/image.py`` searches wider for photos)."""
    import numpy as np
    small = image.convert("L")
    if reduce > 1:
        small = small.reduce(reduce)
    best, best_v = 0.0, -1.0
    for k in range(-int(round(max_skew / step)), int(round(max_skew / step)) + 1):
        a = k * step
        prof = (np.asarray(small.rotate(a, fillcolor=255)) < DARK).sum(axis=1).astype(float)
        v = float(np.var(prof))
        if v > best_v + 1e-9:
            best, best_v = a, v
    return best


def deskew(image):
    """A scan turned straight (Tesseract reads tilted lines, but table rulings must be
    straight runs of ink to be found)."""
    from PIL import Image
    a = skew_angle(image)
    if abs(a) < SKEW_STEP / 2:
        return image
    return image.rotate(a, resample=Image.BICUBIC, fillcolor=255)


def ocr_image(image, psm: Optional[int] = None, lang: str = LANG) -> list[Word]:
    """Tesseract's words on an image, with boxes (pixels) and confidences."""
    import pytesseract
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")   # parallel pages, not threads inside one
    d = pytesseract.image_to_data(image, lang=lang, config=f"--psm {psm or PSM}",
                                  output_type=pytesseract.Output.DICT)
    out: list[Word] = []
    for i, t in enumerate(d["text"]):
        t = (t or "").strip().strip("|")      # a table border read as a bar
        if not t or not t.strip("_"):
            continue
        out.append(Word(t, d["left"][i], d["top"][i], d["width"][i], d["height"][i], float(d["conf"][i]),
                        (d["block_num"][i], d["par_num"][i], d["line_num"][i])))
    return out


def confidence(words: list[Word]) -> float:
    scored = [(w.conf, len(w.text)) for w in words if w.conf >= 0]
    n = sum(k for _, k in scored)
    return sum(c * k for c, k in scored) / n if n else 0.0


def word_segments(words: list[Word], dpi: Optional[int] = None, image=None) -> list:
    """Words -> ``pdf.Seg`` runs in points: one per Tesseract line, cut where the gap
    between two words is wider than 1.5 line heights (two columns on one baseline).

    Word boxes grow with accents (``Ấ`` is taller than ``a``), so a run's box is set from
    its baseline (the median word bottom) and a size snapped to the page's body size when
    within ``SIZE_SNAP``: the reader's paragraph rules compare sizes and line pitches."""
    from kehoach.ingest.pdf import Seg
    k = 72.0 / (dpi or DPI)
    runs = word_runs(words)
    if not runs:
        return []
    body = statistics.median(statistics.median(w.height for w in r) for r in runs)
    runs = [r for r in runs if not _noise(r) and not _fragment(r, body)]
    if not runs:
        return []
    sizes = [run_size(r) for r in runs]
    # the body size from the body's lines (runs of many words), not the short lines of the
    # letterhead and signature columns, whose sizes vary with the page's frame
    long = [z for z, r in zip(sizes, runs) if len(r) >= BODY_RUN_WORDS]
    body = statistics.median(long or sizes)
    bold = bold_runs(image, runs) if image is not None else [False] * len(runs)
    segs = []
    for r, size, b in zip(runs, sizes, bold):
        if abs(size - body) <= SIZE_SNAP * body:
            size = body
        base = statistics.median(w.top + w.height for w in r)
        x0 = min(w.left for w in r)
        x1 = max(w.left + w.width for w in r)
        segs.append(Seg(x0 * k, (base - size) * k, x1 * k, (base + 0.2 * size) * k,
                        fix_line(" ".join(w.text for w in r)), size * k, b))
    return segs


# Bold type has thicker strokes: the mean length of the horizontal runs of ink in a line's
# box (the stroke width) is about 1.3-1.7 times the body's for the bold letterhead, kind
# line, title and headings of a scan, 0.95-1.05 for regular lines.
BOLD_RATIO = 1.2


def stroke_width(dark, box: tuple[int, int, int, int]) -> float:
    """Mean horizontal run length of ink (pixels) in ``box`` of a boolean ink mask."""
    import numpy as np
    x0, y0, x1, y1 = box
    m = dark[max(0, y0):y1, max(0, x0):x1]
    if m.size == 0:
        return 0.0
    p = np.zeros((m.shape[0], m.shape[1] + 2), dtype=np.int8)
    p[:, 1:-1] = m
    d = np.diff(p, axis=1)
    n = int((d == 1).sum())
    return float(m.sum()) / n if n else 0.0


def bold_runs(image, runs: list[list[Word]]) -> list[bool]:
    """Which runs are set in bold: stroke width at least ``BOLD_RATIO`` times the median of
    the body's lines (runs of ``BODY_RUN_WORDS`` words or more)."""
    import numpy as np
    dark = np.asarray(image.convert("L")) < DARK
    widths = [stroke_width(dark, _box(r)) for r in runs]
    ref = [w for w, r in zip(widths, runs) if len(r) >= BODY_RUN_WORDS and w > 0]
    if not ref:
        return [False] * len(runs)
    body = statistics.median(ref)
    return [w >= BOLD_RATIO * body for w in widths]


_DESCENDS = set("gjpqyọụịỵựợộệặậẹạỹ,;()[]{}|/_ẠẶẬẸỆỊỌỘỢỤỰỴ")


def run_size(run: list[Word]) -> float:
    """A run's type size in pixels: the median height of its words that reach no lower
    than the baseline (no descender, no dot below, no comma or bracket) and are words (two
    letters or digits at least), which vary less than all words' boxes; all words when
    there are none such."""
    hs = [w.height for w in run if not (set(w.text) & _DESCENDS) and sum(c.isalnum() for c in w.text) >= 2]
    return statistics.median(hs or [w.height for w in run])


def word_runs(words: list[Word]) -> list[list[Word]]:
    """Words -> runs: one per Tesseract line, cut where the gap between two words is wider
    than 1.5 line heights (two columns on one baseline)."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    runs: list[list[Word]] = []
    for ws in lines.values():
        ws.sort(key=lambda w: w.left)
        h = statistics.median(w.height for w in ws)
        cur: list[Word] = [ws[0]]
        for w in ws[1:]:
            prev = cur[-1]
            if w.left - (prev.left + prev.width) > 1.5 * h:
                runs.append(cur)
                cur = [w]
            else:
                cur.append(w)
        runs.append(cur)
    return runs


def _fragment(run: list[Word], body: float) -> bool:
    """Accents Tesseract split off as a line of their own above the letters they belong to
    (bold capitals: "^ Ă `" over "PHO VĂN PHONG"): single marks or letters, far smaller
    than the page's body size."""
    return all(sum(c.isalnum() for c in w.text) <= 1 for w in run) \
        and statistics.median(w.height for w in run) < 0.45 * body


@lru_cache(maxsize=1)
def _fixes() -> dict[str, list[tuple[str, str]]]:
    """``data/ocr_fixes.tsv``: kind -> [(pattern, replacement)]."""
    from kehoach.extract.data import rows
    out: dict[str, list[tuple[str, str]]] = {}
    for r in rows("ocr_fixes.tsv"):
        out.setdefault(r[0], []).append((r[1], r[2] if len(r) > 2 else ""))
    return out


@lru_cache(maxsize=1)
def _line_fixes() -> list[tuple[re.Pattern, str]]:
    return [(re.compile(p), rep.replace(r"\s", " ")) for p, rep in _fixes().get("line", [])]


_DATE_FOLDED = re.compile(r"\bNGAY\b.*\bTHANG\b.*\bNAM\b")


def fix_date_line(text: str) -> str:
    """The "…, ngày 12 tháng 3 năm 2025" line with its fixed words and its numbers as the
    format prints them: a misread word of the line (``dateword``) respelt, a character read
    for a digit (``digit``: O for 0, l for 1 ...) inside the day, month or year put back."""
    words = dict(_fixes().get("dateword", []))
    text = re.sub(r"\b(ngày|tháng)(?=[^\s\w.…])", r"\1 ", text)     # "ngày/1}'": a hand-written day run on
    toks = [words.get(t, t) for t in text.split(" ")]
    if not _DATE_FOLDED.search(_fold(" ".join(toks))):
        return text
    digits = dict(_fixes().get("digit", []))
    years = [toks[j + 1].rstrip(",.;") for j in range(len(toks) - 1) if toks[j] == "năm"]
    if not any(len(y) == 4 and all(c.isdigit() or c in digits for c in y) for y in years):
        return text                  # "ngày 24 tháng Chạp năm Tân Sửu": a lunar date, no year number
    top = {"ngày": 31, "tháng": 12}
    out: list[str] = []
    for j, t in enumerate(toks):
        prev = out[-1] if out else ""
        nxt = toks[j + 1] if j + 1 < len(toks) else ""
        core = t.rstrip(",.;")
        if prev in ("ngày", "tháng", "năm") and core and not core.isdigit() and not re.fullmatch(r"[.…]+", core) \
                and core not in ("ngày", "tháng", "năm"):
            n = 4 if prev == "năm" else 2
            mapped = "".join(c if c.isdigit() else digits.get(c, "?") for c in core)
            if "?" not in mapped and len(core) <= n:
                t = mapped + t[len(core):]
            elif prev in top and nxt in ("tháng", "năm") and not core.isalpha():
                t = "…"                  # unreadable (a number filled in by hand): left blank
        if prev in top and t.isdigit() and not 1 <= int(t) <= top[prev]:
            t = "…"                      # no such day or month: a misread hand-written number
        out.append(t)
    return " ".join(out)


def fix_line(text: str) -> str:
    """One OCR'd line with the corrections the national format allows: the number line's
    slash, the signature block's post prefixes (``line`` rows of ``data/ocr_fixes.tsv``),
    the date line (``fix_date_line``), the accents of known all-caps frame phrases
    (``known_caps``); first the look-alikes of Đ/đ Tesseract emits ("QĐÐ-") as the letters."""
    text = fold_lookalikes(text)
    for pat, rep in _line_fixes():
        text = pat.sub(rep, text, count=1)
    return known_caps(fix_date_line(fix_number_line(text.strip())))


_NUMBER_SLOT = re.compile(r"^(Số\s*:\s*)([^\s/]+)(\s*/)")


def fix_number_line(text: str) -> str:
    """The number of the "Số: 12/KH-UBND" line as digits: characters read for digits put
    back (``digit`` rows); strokes of a hand-written number that are no digit trimmed after
    its digits ("04+"), the number left blank when they come first ("⁄‡6" for 16)."""
    m = _NUMBER_SLOT.match(text)
    if not m or m.group(2).isdigit():
        return text
    slot = m.group(2)
    digits = dict(_fixes().get("digit", []))
    mapped = "".join(c if c.isdigit() else digits.get(c, "?") for c in slot)
    if "?" not in mapped and any(c.isdigit() for c in slot):
        new = mapped
    elif slot[0].isdigit():
        new = re.match(r"\d+", slot).group(0)
    else:
        new = ""
    return m.group(1) + new + m.group(3) + text[m.end():]


def _noise(run: list[Word]) -> bool:
    """Specks and strokes of a signature or stamp read as marks or a few letters: no word
    of two letters or digits, or at most ``NOISE_CHARS`` of them; low confidence."""
    alnum = sum(c.isalnum() for w in run for c in w.text)
    if alnum > NOISE_CHARS:
        return False
    if all(w.text in "-+*•–" for w in run):
        return False            # a list dash
    return statistics.mean(max(w.conf, 0) for w in run) < NOISE_CONF


def _fold(s: str) -> str:
    import unicodedata
    d = unicodedata.normalize("NFD", s.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in d if not unicodedata.combining(c)).upper()


@lru_cache(maxsize=None)
def _caps_phrases_of(name: str) -> tuple[str, ...]:
    """The all-caps phrases (first column) of a data table."""
    from kehoach.extract.data import rows
    try:
        return tuple(r[0] for r in rows(name) if r and r[0] and r[0].upper() == r[0])
    except FileNotFoundError:
        return ()


@lru_cache(maxsize=1)
def _caps_phrases() -> dict[str, str]:
    """Folded -> printed form of the all-caps lines of a plan's frame: signer posts
    (``data/signer_posts.tsv``) and document kinds (``data/doc_kinds.tsv``)."""
    out: dict[str, str] = {}
    for name in ("signer_posts.tsv", "doc_kinds.tsv"):
        for phrase in _caps_phrases_of(name):
            out.setdefault(_fold(phrase), phrase)
    return out


def known_caps(text: str) -> str:
    """An all-caps OCR line that is a known frame phrase but for its accents (``PHO CHỦ
    TỊCH``, accents of bold capitals are often missed) takes the phrase's spelling; a
    ``KT.``/``TM.``/``Q.`` prefix is kept."""
    if text.upper() != text or len(text) < 4:
        return text
    m = re.match(r"^((?:KT|TM|TL|TUQ|Q|Q\.)\.?\s+)?(.*)$", text)
    head, body = m.group(1) or "", m.group(2)
    phrase = _caps_phrases().get(_fold(body))
    if phrase:
        return head + phrase
    words = _caps_words()
    parts = body.split()
    if parts and all(_fold(w) in words for w in parts):
        return head + " ".join(words[_fold(w)] for w in parts)
    return text


@lru_cache(maxsize=1)
def _caps_words() -> dict[str, str]:
    """Folded -> accented form of the words of the frame phrases, where unambiguous."""
    seen: dict[str, set[str]] = {}
    for phrase in _caps_phrases().values():
        for w in phrase.split():
            seen.setdefault(_fold(w), set()).add(w)
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


# A ruling in a scan: a straight run of dark pixels at least this long (points). Cell
# borders span a cell (>= ~20 pt); letters' strokes are shorter (a 13 pt capital ~ 9 pt).
MIN_H_RUN, MIN_V_RUN = 20.0, 12.0
DARK = 160                      # gray level under which a pixel is ink


def _runs(mask, min_len: int) -> list[tuple[int, int, int]]:
    """(row, start, end) of each run of True along the rows of ``mask`` at least ``min_len`` long."""
    import numpy as np
    m = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    m[:, 1:-1] = mask
    d = np.diff(m, axis=1)
    rs, starts = np.nonzero(d == 1)
    re_, ends = np.nonzero(d == -1)
    keep = (ends - starts) >= min_len
    return list(zip(rs[keep].tolist(), starts[keep].tolist(), ends[keep].tolist()))


def image_rulings(image, dpi: Optional[int] = None) -> list:
    """Table borders drawn in a scan as ``pdf.Ruling`` records (points): long runs of ink
    along rows (horizontal) and columns (vertical); a one-pixel break (noise) is bridged."""
    import numpy as np
    from kehoach.ingest.pdf import Ruling
    k = 72.0 / (dpi or DPI)
    dark = np.asarray(image.convert("L")) < DARK
    h = dark.copy()
    h[:, 1:-1] |= dark[:, :-2] & dark[:, 2:]
    v = dark.copy()
    v[1:-1, :] |= dark[:-2, :] & dark[2:, :]
    out = [Ruling("h", y * k, x0 * k, x1 * k) for y, x0, x1 in _runs(h, int(MIN_H_RUN / k))]
    out += [Ruling("v", x * k, y0 * k, y1 * k) for x, y0, y1 in _runs(v.T, int(MIN_V_RUN / k))]
    return out


def word_chars(words: list[Word], dpi: Optional[int] = None) -> list:
    """Words as ``pdf.Char`` boxes for the grid reader: one box a word, its line's top and
    bottom (accents do not split lines), a space between words."""
    from kehoach.ingest.pdf import Char
    k = 72.0 / (dpi or DPI)
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    out = []
    for ws in lines.values():
        ws.sort(key=lambda w: w.left)
        top = min(w.top for w in ws) * k
        bottom = max(w.top + w.height for w in ws) * k
        for j, w in enumerate(ws):
            if j:
                p = ws[j - 1]
                out.append(Char(" ", (p.left + p.width) * k, top, w.left * k, bottom))
            out.append(Char(w.text, w.left * k, top, (w.left + w.width) * k, bottom))
    return out


def image_tables(image, words: list[Word], number: int, dpi: Optional[int] = None) -> list:
    """Ruled tables of a scanned page: its rulings through the PDF reader's grid stages
    (snap, cells, grid, fill), filled with the OCR'd words."""
    from kehoach.ingest import pdf as P
    rulings = image_rulings(image, dpi)
    if not any(r.orient == "v" for r in rulings):
        return []
    chars = word_chars(words, dpi)
    found = []
    for cells in P.grid_cells(P.snap_rulings(rulings)):
        grid = P.table_grid(cells)
        bbox = (min(c[0] for c in cells), min(c[1] for c in cells),
                max(c[2] for c in cells), max(c[3] for c in cells))
        found.append((bbox, P.fill_grid(grid, chars), grid))
    return P._keep_tables(found, number)


# ---------------------------------------------------------------- frame blocks, read again
#
# The letterhead (issuer | motto, "Số:" | "…, ngày … tháng … năm …") and the signature block
# ("Nơi nhận:" list | post, signer) are two columns of short lines in different sizes and
# styles. Tesseract's automatic layout (psm 3) sometimes runs the two columns into one
# line, splits the accents of bold capitals into a line of their own, or misreads the
# italic digits of the date. Each such band is cut at its column gap and each column read
# again as one block of text (``FRAME_PSM``); the read with more confident characters of a
# column is kept.
FRAME_PSM = 6
FRAMES = os.environ.get("KEHOACH_OCR_FRAMES", "1") != "0"   # off: one read of each page (benchmarks)
BAND_ROWS = 3                    # rows (in body line pitches) that show a band's column gap
MAX_BAND = 0.45                  # a band is at most this fraction of the page height
MIN_GUTTER = 2.0                 # a column gap is at least this many body heights wide


@lru_cache(maxsize=1)
def _band_starts() -> re.Pattern:
    pats = [p for p, _ in _fixes().get("band", [])]
    posts = sorted(_caps_phrases_of("signer_posts.tsv"), key=len, reverse=True)
    pats.append("(?:" + "|".join(re.escape(p) for p in posts) + r")\b")
    return re.compile("^(?:" + "|".join(pats) + ")")


def _box(run: list[Word]) -> tuple[int, int, int, int]:
    return (min(w.left for w in run), min(w.top for w in run),
            max(w.left + w.width for w in run), max(w.top + w.height for w in run))


def _text(run: list[Word]) -> str:
    return " ".join(w.text for w in run)


def _gutter(boxes: list[tuple[int, int, int, int]], lo: int, hi: int, min_width: float) -> Optional[float]:
    """The centre of the widest x-interval in [lo, hi] that no box covers, if wide enough."""
    spans = sorted((b[0], b[2]) for b in boxes if b[2] > lo and b[0] < hi)
    best, best_w, x = None, 0.0, lo
    for a, b in spans + [(hi, hi)]:
        if a - x > best_w:
            best, best_w = (x + a) / 2, a - x
        x = max(x, b)
    return best if best_w >= min_width else None


def frame_bands(words: list[Word], width: int, height: int, first: bool) -> list[tuple[int, int, float]]:
    """(top, bottom, gutter x) of each two-column frame block of a page, in pixels: the
    letterhead from the top of the document's first page, the signature block from its
    opening line (``band`` rows of ``data/ocr_fixes.tsv``, a signer post); each runs down
    while no line crosses its column gap."""
    runs = [r for r in word_runs(words) if any(sum(c.isalnum() for c in w.text) >= 2 for w in r)]
    if not runs:
        return []
    runs.sort(key=lambda r: _box(r)[1])
    body = statistics.median(statistics.median(w.height for w in r) for r in runs)
    x_lo = min(_box(r)[0] for r in runs)
    x_hi = max(_box(r)[2] for r in runs)
    lo, hi = int(x_lo + 0.25 * (x_hi - x_lo)), int(x_lo + 0.75 * (x_hi - x_lo))
    starts = []
    if first:
        starts.append(0)
    starts += [j for j, r in enumerate(runs) if _band_starts().match(fix_line(_text(r)))][:1]
    out: list[tuple[int, int, float]] = []
    for j in starts:
        y0 = _box(runs[j])[1]
        if out and y0 < out[-1][1]:
            continue
        head = [_box(r) for r in runs[j:] if _box(r)[1] < y0 + BAND_ROWS * 1.6 * body]
        g = _gutter(head, lo, hi, MIN_GUTTER * body)
        if g is None:
            continue
        y1 = min(height, int(y0 + MAX_BAND * height))
        for r in runs[j:]:
            b = _box(r)
            if b[1] >= y1:
                break
            if b[0] < g < b[2]:
                y1 = b[1]
                break
        else:
            y1 = min(y1, max(_box(r)[3] for r in runs[j:]) + int(body))
        out.append((max(0, int(y0 - 0.6 * body)), y1, g))
    return out


def _confident_chars(words: list[Word]) -> float:
    """Letters and digits read, each weighted by its word's confidence (marks and specks
    read as ``=``, ``~``, ``|`` count nothing)."""
    return sum(sum(c.isalnum() for c in w.text) * max(w.conf, 0) / 100 for w in words)


def reread_frames(image, words: list[Word], first: bool) -> list[Word]:
    """``words`` with each column of the page's frame blocks (``frame_bands``) read again as
    a block (``FRAME_PSM``) where that read has more confident characters."""
    bands = frame_bands(words, image.width, image.height, first)
    for n, (y0, y1, g) in enumerate(bands):
        for side, (x0, x1) in enumerate(((0, int(g)), (int(g), image.width))):
            def inside(w: Word) -> bool:
                cx, cy = w.left + w.width / 2, w.top + w.height / 2
                return x0 <= cx < x1 and y0 <= cy < y1
            old = [w for w in words if inside(w)]
            if not old:
                continue
            new = [Word(w.text, w.left + x0, w.top + y0, w.width, w.height, w.conf,
                        (1000 + 2 * n + side,) + w.line[1:])
                   for w in ocr_image(image.crop((x0, y0, x1, y1)), FRAME_PSM)]
            if new and _confident_chars(new) >= _confident_chars(old):
                words = [w for w in words if not inside(w)] + new
    return words


def ocr_page(pdf, index: int, dpi: Optional[int] = None, psm: Optional[int] = None) -> PageOcr:
    import time
    t0 = time.perf_counter()
    image = deskew(render(pdf, index, dpi))
    words = ocr_image(image, psm)
    if FRAMES:
        words = reread_frames(image, words, index == 0)
    try:
        tables = image_tables(image, words, index + 1, dpi)
    except Exception:           # an irregular grid: the table's text stays as lines
        tables = []
    return PageOcr(index + 1, word_segments(words, dpi, image), confidence(words), len(words),
                   time.perf_counter() - t0, tables)


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
        info.tables = p.tables
        info.ocr = p.record()
        if not p.segs:
            warnings.append(f"page {info.number}: OCR found no text")
        elif p.confidence < LOW_CONFIDENCE:
            warnings.append(f"page {info.number}: OCR confidence {p.confidence:.0f}/100 is low; "
                            f"check its text against the scan")
