"""OCR accuracy and speed on the seed PDFs turned into scans.

Each seed PDF (``corpus/pdf``) is rendered to page images at 200 and 300 dpi, clean and
with mild scan damage (skew of 0.8 degrees, Gaussian noise sigma 12 gray levels, 0.2% salt
and pepper), saved as an image-only PDF and read back through ``kehoach.ingest.read``
(which OCRs it, rendering at the scan's resolution). Reported per condition:

- CER: Levenshtein distance between the OCR'd document text and the text-layer document
  text (both through the same layout reader; NFC, whitespace collapsed), over the
  text-layer length;
- speed: wall pages/s with ``ocr.WORKERS`` parallel pages (depends on the machine's load,
  printed with it), and CPU seconds a page, this process and its ``tesseract`` children
  (``resource.getrusage``), which does not;
- with ``--score``: the extraction ``overall`` of the OCR'd seeds (``kehoach extract`` +
  the shared scorer) next to the text-layer one.

    nice .venv/bin/python benchmarks/bench_ocr.py [--shared DIR] [--dpi 200 300] [--score]
        [--noise clean|noisy|both] [--no-frames] [--workers N] [--limit N] [--max-pages N] [--as pdf|tiff]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from kehoach.ingest import ocr, read

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent / "tests" / "data" / "shared"


def damage(img: Image.Image, rng: random.Random) -> Image.Image:
    """Mild scan damage: a small rotation, sensor noise and a few specks."""
    img = img.rotate(rng.choice((-0.8, 0.8)), resample=Image.BICUBIC, expand=False, fillcolor=255)
    a = np.asarray(img, dtype=np.float32)
    nr = np.random.default_rng(rng.randrange(1 << 30))
    a = a + nr.normal(0, 12, a.shape)
    specks = nr.random(a.shape)
    a[specks < 0.001] = 0
    a[specks > 0.999] = 255
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")


def scan(pdf_path: Path, out: Path, dpi: int, noisy: bool, seed: int = 0, as_: str = "pdf") -> int:
    """The PDF as an image-only PDF at ``dpi`` (``as_="tiff"``: a multi-page TIFF at ``dpi``, read
    by ``ingest/image.py``); number of pages."""
    rng = random.Random(seed)
    pdf = pdfium.PdfDocument(str(pdf_path))
    images = []
    for i in range(len(pdf)):
        img = pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        images.append(damage(img, rng) if noisy else img)
    if as_ == "tiff":
        images[0].save(out, "TIFF", dpi=(dpi, dpi), compression="tiff_lzw", save_all=True, append_images=images[1:])
    else:
        images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return len(images)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def cer(ocr_text: str, ref: str) -> float:
    from rapidfuzz.distance import Levenshtein
    a, b = norm(ocr_text), norm(ref)
    return Levenshtein.distance(a, b) / max(1, len(b))


def cpu_seconds() -> float:
    """User + system CPU of this process and of its waited-for children (tesseract)."""
    t = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        t += r.ru_utime + r.ru_stime
    return t


def load() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3]) + f" on {os.cpu_count()} cores"
    except OSError:
        return f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"


def score(gold: Path, docs: list, scorer: Path) -> dict:
    """The shared scorer's summary of ``kehoach extract`` records of read documents."""
    from kehoach.extract import extract
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(extract(doc).to_dict(), ensure_ascii=False) + "\n")
    res = subprocess.run([sys.executable, str(scorer), "extract", str(gold), f.name],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(res.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("KEHOACH_SHARED") or DEFAULT_SHARED))
    ap.add_argument("--dpi", type=int, nargs="+", default=[300, 200])
    ap.add_argument("--noise", choices=("both", "clean", "noisy"), default="both")
    ap.add_argument("--limit", type=int, default=0, help="only the first N seed PDFs")
    ap.add_argument("--max-pages", type=int, default=0, help="only the seed PDFs of at most N pages (a quick run)")
    ap.add_argument("--score", action="store_true", help="also score extraction on the clean 300 dpi scans")
    ap.add_argument("--no-frames", action="store_true",
                    help="read each page once: not the letterhead and signature columns again (ocr.FRAMES off)")
    ap.add_argument("--workers", type=int, default=0, help=f"parallel pages (default ocr.WORKERS = {ocr.WORKERS})")
    ap.add_argument("--as", dest="as_", choices=("pdf", "tiff"), default="pdf",
                    help="the scans as image-only PDFs (default) or as multi-page TIFFs (the image reader)")
    args = ap.parse_args()
    if args.no_frames:
        ocr.FRAMES = False
    if args.workers:
        ocr.WORKERS = args.workers
    seeds = sorted((args.shared / "corpus" / "pdf").glob("*.pdf"))
    if args.max_pages:
        seeds = [p for p in seeds if len(pdfium.PdfDocument(str(p))) <= args.max_pages]
    if args.limit:
        seeds = seeds[:args.limit]
    refs = {p.stem: read(p).text for p in seeds}
    noises = {"both": (False, True), "clean": (False,), "noisy": (True,)}[args.noise]
    tmp = Path(tempfile.mkdtemp(prefix="bench_ocr_"))
    print(f"{len(seeds)} seed PDFs, {ocr.WORKERS} parallel pages, psm {ocr.PSM}, "
          f"frames {'psm %d' % ocr.FRAME_PSM if ocr.FRAMES else 'off'}, Tesseract {ocr.LANG}, scans as {args.as_}; "
          f"{load()}", flush=True)
    for dpi in args.dpi:
        for noisy in noises:
            d = tmp / f"{dpi}{'n' if noisy else ''}"
            d.mkdir()
            ocr.DPI = dpi
            pages, chars, errs, t, cpu = 0, 0, 0.0, 0.0, 0.0
            per = []
            confs = []
            docs = []
            for p in seeds:
                out = d / (p.stem + (".tif" if args.as_ == "tiff" else ".pdf"))
                pages += scan(p, out, dpi, noisy, as_=args.as_)
                t0, c0 = time.perf_counter(), cpu_seconds()
                doc = read(out)
                t += time.perf_counter() - t0
                cpu += cpu_seconds() - c0
                docs.append(doc)
                c = cer(doc.text, refs[p.stem])
                n = len(norm(refs[p.stem]))
                chars += n
                errs += c * n
                per.append(f"{p.stem[:3]} {c:.2%}")
                confs += [r["confidence"] for r in doc.meta.get("ocr", [])]
            print(f"{dpi} dpi {'noisy' if noisy else 'clean'}: CER {errs / chars:.2%} ({', '.join(per)}); "
                  f"mean confidence {sum(confs) / max(1, len(confs)):.1f}; "
                  f"{pages} pages in {t:.0f} s = {pages / t:.2f} pages/s wall, "
                  f"{cpu / pages:.2f} CPU s/page; {load()}", flush=True)
            if args.score and dpi == 300 and not noisy:
                gold, scorer = args.shared / "eval" / "gold", args.shared / "eval" / "score.py"
                s_ocr = score(gold, docs, scorer)
                s_txt = score(gold, [read(p) for p in seeds], scorer)
                print(f"  extraction overall: OCR'd {s_ocr['overall']:.3f} vs text layer {s_txt['overall']:.3f}; "
                      f"task_f1 {s_ocr['task_f1']:.3f} vs {s_txt['task_f1']:.3f}; "
                      f"doc fields {json.dumps(s_ocr['doc_field_acc'])}", flush=True)
    ocr.DPI = 300


if __name__ == "__main__":
    main()
