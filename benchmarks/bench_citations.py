"""Speed of the citation finder (kehoach.extract.citations) on the seed plans.

    .venv/bin/python benchmarks/bench_citations.py [SEEDS_DIR] [--shared DIR]

SEEDS_DIR defaults to the seeds of the shared data (--shared, $KEHOACH_SHARED, ../shared
beside the project, else the vendored tests/data/shared).

Prints the one-time cost of loading/compiling the data tables, then per-document
time and throughput (KB/s, documents/s) over the seeds, each run many times.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kehoach.eval.data import add_shared_argument  # noqa: E402
from kehoach.ingest.builder import DocBuilder  # noqa: E402


def seed_text(path: Path) -> str:
    b = DocBuilder()
    for line in path.read_text("utf-8").splitlines():
        b.para(re.sub(r"\*+(?=\S)|(?<=\S)\*+", "", line))
    return b.build(path.stem, "", "txt").text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("seeds", nargs="?")
    add_shared_argument(ap)
    a = ap.parse_args()
    seeds = Path(a.seeds) if a.seeds else a.shared / "seeds"
    texts = [(p.stem, seed_text(p)) for p in sorted(seeds.glob("*.txt"))]
    t0 = time.perf_counter()
    from kehoach.extract import citations as C
    C.tables()
    print(f"tables load+compile: {1000 * (time.perf_counter() - t0):.1f} ms (once per process)")
    ctx = C.CitationContext("Ủy ban nhân dân tỉnh Quảng Trị", "Quảng Trị", "ubnd_tinh", None)
    total_chars, total_time, runs = 0, 0.0, 50
    for stem, text in texts:
        C.find_citations(text, ctx)  # warm
        t = time.perf_counter()
        for _ in range(runs):
            n = len(C.find_citations(text, ctx))
        dt = (time.perf_counter() - t) / runs
        total_chars += len(text)
        total_time += dt
        print(f"{stem}: {len(text) / 1000:6.1f} K chars  {n:3d} refs  {1000 * dt:6.2f} ms")
    print(f"throughput: {total_chars / total_time / 1000:.0f} K chars/s, "
          f"{len(texts) / total_time:.0f} documents/s (mean {1000 * total_time / len(texts):.2f} ms/document)")


if __name__ == "__main__":
    main()
