"""Run the shared search queries against a corpus home and score them.

    .venv/bin/python benchmarks/eval_search.py --home HOME [--shared DIR] [--out HITS.json]

HITS.json is {query id: hits} exactly as ``kehoach search --format json --limit 10``
prints them; then it is scored as ``kehoach eval search QUERIES GOLD HITS.json`` scores it
(the same figures as the shared ``eval/score.py search``). The queries and gold come from
``--shared DIR`` (default: ``$KEHOACH_SHARED``, ``../shared`` beside the project, else the
vendored ``tests/data/shared``) unless ``--queries``/``--gold`` name them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kehoach.eval import search_report
from kehoach.eval.data import add_shared_argument
from kehoach.search.service import open_index


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    add_shared_argument(ap)
    ap.add_argument("--queries", help="queries.json (default: SHARED/eval/queries.json)")
    ap.add_argument("--gold", help="gold folder (default: SHARED/eval/gold)")
    ap.add_argument("--out", default="kehoach_hits.json")
    ap.add_argument("--mode", default="hybrid")
    args = ap.parse_args()
    queries = Path(args.queries or args.shared / "eval" / "queries.json")
    gold = Path(args.gold or args.shared / "eval" / "gold")
    t0 = time.perf_counter()
    idx = open_index(args.home, dense=args.mode != "lexical")
    print(f"index ready in {time.perf_counter() - t0:.2f}s ({len(idx.docs)} tasks)")
    hits = {}
    for q in json.loads(queries.read_text("utf-8")):
        hits[q["id"]] = idx.search(q["q"], limit=10, mode=args.mode).to_dict()["hits"]
    Path(args.out).write_text(json.dumps(hits, ensure_ascii=False), "utf-8")
    summary, rows = search_report(queries, gold, args.out)
    for name, row in rows.items():
        print(name, json.dumps(row, ensure_ascii=False))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
