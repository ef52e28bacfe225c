"""``kehoach legal import FILE... [--format NAME]`` and
``kehoach legal check [--as-of DAY] [--plan NUMBER | --source FILE] [--problems-only] [--format text|json]``.

The edge: opens the corpus, loads/saves the registry, reads plans (or ingests a file on the fly),
then calls the pure ``import_file`` / ``check``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

from kehoach.corpus.legal.adapters import FORMATS, import_file
from kehoach.corpus.legal.check import PlanInput, check, format_text
from kehoach.corpus.legal.registry import Registry, ensure_schema
from kehoach.errors import KehoachError


class LegalCliError(KehoachError):
    pass


def _open(args):
    from kehoach.corpus.home import resolve_home
    from kehoach.corpus.store import Corpus
    corpus = Corpus(resolve_home(getattr(args, "home", None)))
    ensure_schema(corpus.conn, corpus.ensure_schema)
    return corpus


def cmd_import(args) -> int:
    corpus = _open(args)
    conn = corpus.conn
    try:
        for path in args.files:
            conn.execute("BEGIN IMMEDIATE")          # load + import + save as one writer transaction
            try:
                reg = Registry.load(conn)
                report = import_file(reg, path, args.format)
                reg.save(conn)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            if args.json:
                print(json.dumps(report.to_dict(), ensure_ascii=False))
                continue
            c = report.change
            print(f"{path} ({report.format}): {report.imported}/{report.rows} rows imported; "
                  f"{c.docs_added} documents added, {c.docs_updated} completed, {c.facts_added} statuses, "
                  f"{c.relations_added} relations added")
            for line, reason in report.errors:
                print(f"  {path}:{line}: skipped: {reason}", file=sys.stderr)
            if args.verbose:
                for line, msg in report.warnings:
                    print(f"  {path}:{line}: note: {msg}", file=sys.stderr)
            elif report.warnings:
                print(f"  {len(report.warnings)} notes (use -v to see them)", file=sys.stderr)
    finally:
        corpus.close()
    return 0


def _as_of(s: str | None) -> _dt.date:
    if not s:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(s)
    except ValueError:
        raise LegalCliError(f"--as-of {s!r}: expected a day as YYYY-MM-DD") from None


def _open_read(args):
    """The corpus opened read-only (a check writes nothing), or None when the home has no corpus yet."""
    from kehoach.corpus.home import resolve_home
    from kehoach.corpus.store import Corpus, corpus_exists
    home = resolve_home(getattr(args, "home", None))
    return Corpus(home, readonly=True) if corpus_exists(home) else None


def cmd_check(args) -> int:
    from kehoach.corpus.legal.check import has_tables
    as_of = _as_of(args.as_of)
    corpus = _open_read(args)
    try:
        reg = Registry.load(corpus.conn) if corpus is not None and has_tables(corpus.conn) else Registry()
        infos = corpus.plans() if corpus is not None else []
        everything = [PlanInput(corpus.extraction(p.id), corpus.text(p.id)) for p in infos]
        if args.plan:
            info = corpus.plan(args.plan) if corpus is not None else None
            if info is None:
                raise LegalCliError(f"{args.plan}: no such plan in the corpus")
            targets = [everything[[p.id for p in infos].index(info.id)]]
        elif args.source:
            info = corpus.plan(args.source) if corpus is not None else None
            if info is not None:
                targets = [everything[[p.id for p in infos].index(info.id)]]
            else:
                from kehoach.corpus.store import ingest_and_extract
                path = Path(args.source)
                doc, ext = ingest_and_extract(path, args.source)
                targets = [PlanInput(ext, doc.text)]
                everything = everything + targets
        else:
            targets = everything
        report = check(targets, reg, as_of, corpus=everything)
    finally:
        if corpus is not None:
            corpus.close()
    if args.format == "json":
        if args.problems_only:
            for p in report["plans"]:
                p["refs"] = [r for r in p["refs"] if r["problem"]]
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_text(report, problems_only=args.problems_only))
    return 0


def register(sub) -> None:
    p = sub.add_parser("legal", help="legal bases: import status tables, check the documents plans rely on")
    lsub = p.add_subparsers(dest="legal_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    imp = lsub.add_parser("import", help="import a table of legal documents' status (CSV/JSON)")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--format", choices=FORMATS, help="table format (default: detected from the header row)")
    imp.add_argument("--json", action="store_true", help="print the import report as JSON lines")
    imp.add_argument("-v", "--verbose", action="store_true", help="show notes (sentence vs parsed column)")
    imp.set_defaults(func=cmd_import)

    chk = lsub.add_parser("check", help="status of the documents each plan cites, on a day")
    chk.add_argument("--as-of", help="the day (YYYY-MM-DD; default today)")
    which = chk.add_mutually_exclusive_group()
    which.add_argument("--plan", help="one plan of the corpus (number, id or file stem)")
    which.add_argument("--source", help="a file (in the corpus or not: then read and extracted on the fly)")
    chk.add_argument("--problems-only", action="store_true",
                     help="show only the summary and the documents with a problem (expired, replaced, abolished, ...)")
    chk.add_argument("--format", choices=("text", "json"), default="text")
    chk.set_defaults(func=cmd_check)


def main(argv=None) -> int:      # for ``python -m kehoach.corpus.legal.cli`` while cli.py is not wired
    ap = argparse.ArgumentParser(prog="kehoach")
    ap.add_argument("--home")
    ap.add_argument("--debug", action="store_true")
    register(ap.add_subparsers(dest="command"))
    args = ap.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KehoachError as e:
        print(f"kehoach: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
