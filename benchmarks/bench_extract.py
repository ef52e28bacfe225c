"""Extract benchmark: ingest + extract, end to end, one core, on generated plans.

    python benchmarks/bench_extract.py [-n 200] [--formats txt,docx,pdf] [--dir DIR]

Prints pages/s (PDF) and documents/s per format, and peak memory. Targets (issue):
≥ 20 pages/s for text PDFs, ≥ 100 documents/s for TXT. Also times the five seeds
(TXT, DOCX, PDF) so the figures can be compared with real files.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from kehoach.eval.data import add_shared_argument  # noqa: E402
from kehoach.extract import extract  # noqa: E402
from kehoach.ingest import read  # noqa: E402


def run(paths: list[Path]) -> tuple[float, float, int, int]:
    """(cpu seconds, wall seconds, pages, tasks)"""
    pages = tasks = 0
    c0, w0 = time.process_time(), time.perf_counter()
    for p in paths:
        doc = read(p)
        ex = extract(doc)
        pages += doc.pages or 1
        tasks += len(ex.tasks)
    return time.process_time() - c0, time.perf_counter() - w0, pages, tasks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--formats", default="txt,docx,pdf")
    ap.add_argument("--dir")
    add_shared_argument(ap)
    a = ap.parse_args()
    from make_corpus import make_corpus
    out = Path(a.dir or tempfile.mkdtemp(prefix="kehoach-bench-"))
    fmts = tuple(a.formats.split(","))
    t0 = time.perf_counter()
    paths = make_corpus(out, a.n, formats=fmts)
    print(f"generated {len(paths)} plans in {time.perf_counter() - t0:.1f} s ({out})")
    extract(read(ROOT / "kehoach" / "samples" / "001_4224283dfe2b5ee5.txt"))   # warm tables and imports
    from kehoach.extract.nlp import pipeline, verb_offset
    # loaded lazily in normal use: spaCy on the first standard body name that holds a verb,
    # underthesea on the first owner phrase that no known verb ends (import ~3-6 s each)
    t0 = time.perf_counter()
    pipeline()
    verb_offset("Sở Y tế nâng cấp hệ thống")
    print(f"lazy NLP models loaded in {time.perf_counter() - t0:.1f} s (spaCy pipeline, underthesea POS)")
    for fmt in fmts:
        ps = [p for p in paths if p.suffix == "." + fmt]
        if not ps:
            continue
        cpu, wall, pages, tasks = run(ps)
        line = f"{fmt:5s} {len(ps):4d} docs  {len(ps) / cpu:8.1f} docs/s (cpu)  {len(ps) / wall:8.1f} docs/s (wall)  {tasks / cpu:8.0f} tasks/s"
        if fmt == "pdf":
            line += f"  {pages / cpu:6.1f} pages/s (cpu)  {pages / wall:6.1f} pages/s (wall)  [{pages} pages]"
        print(line)
    # peak Python heap of one document at a time, measured apart (tracemalloc slows Python 2-4x)
    tracemalloc.start()
    for fmt in fmts:
        for p in [p for p in paths if p.suffix == "." + fmt][:20]:
            extract(read(p))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    shared = a.shared
    for kind, pattern in (("seeds txt", "seeds/*.txt"), ("seeds docx", "corpus/docx/*.docx"), ("seeds pdf", "corpus/pdf/*.pdf")):
        ps = sorted(shared.glob(pattern))
        if ps:
            cpu, wall, pages, tasks = run(ps)
            print(f"{kind:10s} {len(ps)} docs {len(ps) / cpu:7.1f} docs/s  {pages / cpu:6.1f} pages/s (cpu)")
    print(f"peak Python heap {peak / 2**20:.1f} MiB; max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
