"""Deadline and target parsing: gold agreement and speed on the seeds.

    .venv/bin/python benchmarks/bench_deadlines.py [--shared DIR]

Prints the agreement with the gold deadlines (table rows through their time cell or value
header, body tasks through their text with citation spans excluded), the false positives on
gold tasks without a deadline, and the time per call over every paragraph/cell of the seeds.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from kehoach.eval.data import add_shared_argument  # noqa: E402

_ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
add_shared_argument(_ap)
SHARED = _ap.parse_args().shared
os.environ["KEHOACH_SHARED"] = str(SHARED)   # the gold agreement of tests/test_deadlines.py reads it

from kehoach.extract.deadlines import parse_deadline  # noqa: E402
from kehoach.extract.targets import parse_target, target_from_text  # noqa: E402
from test_deadlines import gold_agreement  # noqa: E402

SEEDS = SHARED / "seeds"


def main() -> None:
    hits, total, fp, nulls = gold_agreement()
    print(f"gold deadlines: {hits}/{total} agree ({hits / total:.3f}); "
          f"false positives on tasks without deadline: {fp}/{nulls}")
    pieces = [p for f in sorted(SEEDS.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()
              for p in line.split("\t") if p.strip()]
    chars = sum(map(len, pieces))
    parse_deadline("khởi động", 2025)  # load tables
    for label, fn in (("parse_deadline(text)", lambda p: parse_deadline(p, 2024)),
                      ("parse_deadline(cell)", lambda p: parse_deadline(p, 2024, cell=True)),
                      ("parse_target", lambda p: parse_target("m", p, None, 2024)),
                      ("target_from_text", lambda p: target_from_text(p, 2024))):
        t0 = time.perf_counter()
        rounds = 5
        for _ in range(rounds):
            for p in pieces:
                fn(p)
        dt = (time.perf_counter() - t0) / rounds
        print(f"{label:22s} {len(pieces)} pieces, {chars / 1e3:.0f}k chars: {dt * 1e3:.1f} ms "
              f"({dt / len(pieces) * 1e6:.0f} µs/piece)")


if __name__ == "__main__":
    main()
