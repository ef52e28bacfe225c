"""Run the shared search queries against a corpus home and score them.

    .venv/bin/python benchmarks/eval_search.py --home HOME [--out HITS.json]

HITS.json is {query id: hits} exactly as ``kehoach search --format json --limit 10``
prints them; then ``/work/shared/eval/score.py search`` is run on it.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from kehoach.search.service import open_index

EVAL = Path("/work/shared/eval")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--queries", default=str(EVAL / "queries.json"))
    ap.add_argument("--gold", default=str(EVAL / "gold"))
    ap.add_argument("--out", default="/tmp/kehoach_hits.json")
    ap.add_argument("--mode", default="hybrid")
    args = ap.parse_args()
    t0 = time.perf_counter()
    idx = open_index(args.home, dense=args.mode != "lexical")
    print(f"index ready in {time.perf_counter() - t0:.2f}s ({len(idx.docs)} tasks)")
    hits = {}
    for q in json.loads(Path(args.queries).read_text("utf-8")):
        hits[q["id"]] = idx.search(q["q"], limit=10, mode=args.mode).to_dict()["hits"]
    Path(args.out).write_text(json.dumps(hits, ensure_ascii=False), "utf-8")
    return subprocess.call([sys.executable, str(EVAL / "score.py"), "search", args.queries, args.gold, args.out])


if __name__ == "__main__":
    sys.exit(main())
