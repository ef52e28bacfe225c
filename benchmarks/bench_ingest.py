"""Ingest speed and memory: PDF pages/s and DOCX docs/s over generated plans, plus the
real corpus files, and the two PDF table readers side by side on the ruled pages (the
pypdfium2 grid reader and pdfplumber: CPU ms a page, pages the grid reader hands over to
pdfplumber, pages where both give the same rows). Prints figures; asserts nothing.

    python benchmarks/bench_ingest.py [-n 200] [--dir DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus  # noqa: E402
from kehoach.eval.data import add_shared_argument  # noqa: E402
from kehoach.ingest.docx import read_docx  # noqa: E402
from kehoach.ingest.pdf import Unsure, fast_page_tables, page_tables, read_pdf, ruled_page  # noqa: E402


def bench(paths: list[Path], reader, label: str) -> None:
    datas = [(p, p.read_bytes()) for p in paths]
    t0, c0 = time.perf_counter(), time.process_time()
    pages = tables = 0
    table_pages = 0
    for p, d in datas:
        doc = reader(d, str(p), hashlib.sha256(d).hexdigest())
        pages += doc.pages or 0
        tables += len(doc.tables)
        table_pages += len(doc.meta.get("table_pages", []))
    wall = time.perf_counter() - t0
    dt = time.process_time() - c0      # CPU time of this process: the machine may be shared
    n = len(datas)
    line = f"{label:<22} {n:4d} docs  cpu {dt:6.2f} s (wall {wall:6.2f} s)  {n / dt:7.1f} docs/s"
    if pages:
        line += f"  {pages:5d} pages  {pages / dt:7.1f} pages/s  ({table_pages} pages with tables)"
    print(line + f"  {tables} tables")


def table_readers(paths: list[Path], label: str) -> None:
    """Both table readers on every ruled page: CPU time a page and agreement."""
    import io

    import pdfplumber
    import pypdfium2 as pdfium
    n = unsure = same = 0
    fast_s = slow_s = 0.0
    for p in paths:
        data = p.read_bytes()
        pdf = pdfium.PdfDocument(data)
        with pdfplumber.open(io.BytesIO(data)) as doc:
            for i in range(len(pdf)):
                page = pdf[i]
                if not ruled_page(page):
                    continue
                n += 1
                c0 = time.process_time()
                try:
                    fast = fast_page_tables(page, i + 1)
                except Unsure:
                    fast = None
                c1 = time.process_time()
                slow = page_tables(doc.pages[i], i + 1)
                c2 = time.process_time()
                fast_s, slow_s = fast_s + c1 - c0, slow_s + c2 - c1
                if fast is None:
                    unsure += 1
                elif [t.rows for t in fast] == [t.rows for t in slow]:
                    same += 1
        pdf.close()
    if n:
        print(f"{label:<22} {n:4d} ruled pages  grid reader {1000 * fast_s / n:6.1f} ms/page (incl. its text pass)"
              f"  pdfplumber {1000 * slow_s / n:6.1f} ms/page  unsure -> pdfplumber: {unsure}"
              f"  same rows: {same}/{n - unsure}")


def peak(paths: list[Path], reader, label: str) -> None:
    big = max(paths, key=lambda p: p.stat().st_size)
    d = big.read_bytes()
    tracemalloc.start()
    reader(d, str(big), "x")
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<22} python heap peak on the largest file ({big.stat().st_size // 1024} KiB): {top / 2**20:.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--dir")
    add_shared_argument(ap)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.dir or tmp)
        t0 = time.perf_counter()
        paths = make_corpus(out, a.n, ("docx", "pdf"))
        print(f"generated {len(paths)} files in {time.perf_counter() - t0:.1f} s")
        pdfs = sorted(p for p in paths if p.suffix == ".pdf")
        docxs = sorted(p for p in paths if p.suffix == ".docx")
        bench(pdfs, read_pdf, "generated PDF")
        bench(docxs, read_docx, "generated DOCX")
        corpus = a.shared / "corpus"
        if corpus.exists():
            bench(sorted((corpus / "pdf").glob("*.pdf")) * 10, read_pdf, "corpus PDF x10")
            bench(sorted((corpus / "docx").glob("*.docx")) * 10, read_docx, "corpus DOCX x10")
        table_readers(pdfs, "tables, generated")
        if corpus.exists():
            table_readers(sorted((corpus / "pdf").glob("*.pdf")), "tables, corpus")
        peak(pdfs, read_pdf, "PDF")
        peak(docxs, read_docx, "DOCX")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
