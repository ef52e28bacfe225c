"""``kehoach eval extract|search|links ...``: the project's scores, printed as ``score.py`` prints them."""
from __future__ import annotations

import argparse
import json

from kehoach.eval import extract_report, links_report, search_report


def register(sub) -> None:
    p = sub.add_parser("eval", help="score predictions against gold records (extract, search, links)",
                       description=__doc__.splitlines()[0])
    kinds = p.add_subparsers(dest="eval_kind", metavar="KIND", required=True)
    e = kinds.add_parser("extract", help="records of `kehoach extract --format jsonl` against a gold folder")
    e.add_argument("gold", help="folder of gold records (*.json)")
    e.add_argument("pred", help="predictions, one JSON record a line")
    s = kinds.add_parser("search", help="ranked hits per query against the queries' gold tasks")
    s.add_argument("queries", help="queries.json")
    s.add_argument("gold", help="folder of gold records")
    s.add_argument("pred", help='{"<query id>": [{"source", "text", "lead"?}, ...]}')
    s.add_argument("-k", type=int, default=10, help="hits scored per query (default 10)")
    l_ = kinds.add_parser("links", help="predicted task clusters against gold clusters")
    l_.add_argument("links", help="links.json")
    l_.add_argument("gold", help="folder of gold records")
    l_.add_argument("pred", help='[[{"source", "text"}, ...], ...]')
    for q in (e, s, l_):
        q.add_argument("--json", action="store_true", help='one JSON object {"summary", "detail"}')
        q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.eval_kind == "extract":
        summary, detail = extract_report(args.gold, args.pred)
    elif args.eval_kind == "search":
        summary, detail = search_report(args.queries, args.gold, args.pred, k=args.k)
    else:
        summary, detail = links_report(args.links, args.gold, args.pred)
    if args.json:
        print(json.dumps({"summary": summary, "detail": detail}, ensure_ascii=False, indent=1))
    else:
        for name, row in detail.items():
            print(name, json.dumps(row, ensure_ascii=False))
        print(json.dumps(summary, ensure_ascii=False))
    return 0
