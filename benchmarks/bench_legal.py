"""Legal check over many plans: import both real tables, then check N plans built from the
seeds' gold records and texts (each copy a distinct plan), and print figures.

    .venv/bin/python benchmarks/bench_legal.py [N] [--shared DIR]   (default 1000)

The tables, gold and seeds come from DIR (default: $KEHOACH_SHARED, ../shared beside the
project, else the vendored tests/data/shared).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import time
import resource
from dataclasses import replace
from pathlib import Path

from kehoach.corpus.legal import PlanInput, Registry, check, import_file
from kehoach.corpus.legal.check import corpus_facts
from kehoach.eval.data import add_shared_argument
from kehoach.ingest import read
from kehoach.models import Extraction

def main(n: int, shared: Path) -> None:
    t0 = time.perf_counter()
    reg = Registry()
    reports = [import_file(reg, f) for f in sorted((shared / "data" / "legal-status").glob("*.csv"))]
    t_import = time.perf_counter() - t0
    seeds = []
    for g in sorted((shared / "eval" / "gold").glob("*.json")):
        ex = Extraction.from_dict(json.loads(g.read_text(encoding="utf-8")))
        seeds.append((ex, read(shared / "seeds" / (g.stem + ".txt")).text))
    plans = [PlanInput(replace(ex, source=f"{ex.source}#{i}"), text)
             for i in range(n) for ex, text in [seeds[i % len(seeds)]]]
    t1 = time.perf_counter()
    rep = check(plans, reg, dt.date(2026, 1, 1))
    t_check = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    s = rep["summary"]
    print(f"registry: {len(reg)} documents from the two real tables, imported in {t_import:.2f} s")
    for r in reports:
        print(f"  {Path(r.path).name} ({r.format}): {r.imported}/{r.rows} rows imported, {len(r.errors)} refused")
    print(f"check: {s['plans']} plans, {s['refs']} cited documents in {t_check:.2f} s "
          f"({1000 * t_check / max(1, s['plans']):.2f} ms/plan), process peak RSS {peak / 2**20:.0f} MiB")
    print(f"statuses: {s['statuses']}; bodies that no longer exist: {s['bodies']}")
    # one plan's report (the web page): the corpus read every time, against its facts kept (plan_report)
    day = dt.date(2026, 1, 1)
    t2 = time.perf_counter()
    full = check(plans[:1], reg, day, corpus=plans)
    t_full = time.perf_counter() - t2
    t3 = time.perf_counter()
    known = corpus_facts(plans)
    t_known = time.perf_counter() - t3
    t4 = time.perf_counter()
    kept = check(plans[:1], reg, day, known=known)
    t_one = time.perf_counter() - t4
    assert kept == full
    print(f"one plan's report in a {len(plans)}-plan corpus: {1000 * t_full:.0f} ms reading the corpus, "
          f"{1000 * t_one:.1f} ms with its facts kept ({len(known.facts)} plans state facts; "
          f"reading them once: {1000 * t_known:.0f} ms)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=1000, help="plans checked")
    add_shared_argument(ap)
    a = ap.parse_args()
    main(a.n, a.shared)
