"""``kehoach extract FILE... [--format jsonl|json|text]``: records per SPEC.md, one line per document."""
from __future__ import annotations

import json
import sys
import time

from kehoach.errors import KehoachError


def register(sub) -> None:
    p = sub.add_parser("extract", help="extract records from plan files (TXT, DOCX, PDF, HTML/MHTML, .doc/.rtf/.odt, scans and photos)",
                       description="Print one record per input document, in the shape of SPEC.md.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=["jsonl", "json", "text"], default="jsonl")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _text(rec: dict) -> str:
    d = rec["document"]
    lines = [f"# {rec['source']}", f"{d.get('type')} {d.get('number') or '(no number)'} — {d.get('issuer')} — {d.get('date')}",
             f"  {d.get('title')}"]
    for t in rec["tasks"]:
        dl = (t.get("deadline") or {}).get("text")
        lines.append(f"  [{t['id']} {t['section']}] {t['text'][:160]}")
        lines.append(f"      lead: {', '.join(t['lead']) or '-'}; support: {', '.join(t['support']) or '-'}"
                     + (f"; deadline: {dl}" if dl else ""))
    for r in rec["legal_refs"]:
        lines.append(f"  ({r['id']}) {r.get('type')} {r.get('symbol')} {r.get('date') or ''} {r.get('issuer') or ''}")
    return "\n".join(lines)


def run(args) -> int:
    from kehoach.extract import extract
    from kehoach.ingest import read

    failed = 0
    records = []
    show = not args.quiet and sys.stderr.isatty() and len(args.files) > 1
    t0 = time.time()
    for k, path in enumerate(args.files, 1):
        try:
            rec = extract(read(path)).to_dict()
        except KehoachError as e:
            failed += 1
            print(f"kehoach: error: {e}", file=sys.stderr)
            if args.debug:
                raise
            continue
        except Exception as e:  # one bad file never stops the batch
            failed += 1
            if args.debug:
                raise
            print(f"kehoach: error: {path}: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        if args.format == "jsonl":
            print(json.dumps(rec, ensure_ascii=False), flush=True)
        elif args.format == "text":
            print(_text(rec), flush=True)
        else:
            records.append(rec)
        if show:
            print(f"\r[{k}/{len(args.files)}] {time.time() - t0:.1f}s", end="", file=sys.stderr)
    if show:
        print(file=sys.stderr)
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False, indent=1))
    if failed:
        print(f"kehoach: {failed} of {len(args.files)} file(s) failed", file=sys.stderr)
    return 1 if failed else 0
