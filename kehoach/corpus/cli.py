"""``kehoach add PATH...``, ``kehoach list``, ``kehoach show PLAN`` (and, when present, the
linking engineer's ``registry``/``link`` via ``kehoach.corpus.registry.register``)."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Optional

from kehoach.corpus.home import resolve_home
from kehoach.corpus.store import Corpus, CorpusError
from kehoach.errors import printable

# modules whose ``update(corpus, added_plan_ids, removed_plan_ids)`` keeps an index in step with
# the store; each is called after ``add`` when importable and defining ``update``, in this order:
# the links (which embed the new tasks into the shared cache), then the search index (which finds
# those vectors there), so that no search ever builds its index
CHANGE_HOOKS = ["kehoach.corpus.link", "kehoach.search.service"]


def open_corpus(args, *, readonly: bool = False) -> Corpus:
    return Corpus(resolve_home(getattr(args, "home", None)), readonly=readonly)


def attach_hooks(corpus: Corpus, modules: Optional[list[str]] = None) -> list[str]:
    """Register the index hooks that exist; returns their module names."""
    attached = []
    for name in CHANGE_HOOKS if modules is None else modules:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue
            raise
        update = getattr(mod, "update", None)
        if callable(update):
            corpus.on_change(update)
            attached.append(name)
    if "kehoach.corpus.link" in attached:
        from kehoach.corpus.embed import prefetch_warm
        corpus.on_extracting(prefetch_warm)       # the model loads while the first new file is extracted
        corpus.on_stored(prefetch_plan)
    return attached


def prefetch_plan(corpus: Corpus, plan_id: int) -> None:
    """``Corpus.on_stored``: the passages the hooks will embed for this plan (``link_index.passages_of``)
    are embedded ahead on a thread (``embed.prefetch``), while the next file is read and extracted
    and while the link hook loads its state; the hooks then find them ready."""
    from kehoach.corpus.embed import prefetch, uncached_passages
    from kehoach.corpus.link_index import import_spacy_ahead, passages_of
    todo = uncached_passages(corpus.conn, passages_of(corpus.tasks([plan_id])))
    if todo:                     # new texts: their actions are new too, and need spaCy
        prefetch(todo, after_load=import_spacy_ahead)


# --------------------------------------------------------------------------- add

def log(line: str) -> None:
    """A one-line message of ``add`` / ``watch`` on stderr."""
    print(f"kehoach: {line}", file=sys.stderr, flush=True)


def cmd_add(args) -> int:
    quiet = args.quiet or args.format == "json"
    corpus = open_corpus(args)
    try:
        if not args.no_index:
            attach_hooks(corpus)

        engine = args.engine or ("dask" if args.workers or args.scheduler else None)
        if engine:                              # reading and extraction on a cluster (kehoach/corpus/bulk.py)
            from kehoach.corpus.bulk import bulk_add
            report = bulk_add(corpus, args.paths, engine=engine, workers=args.workers, scheduler=args.scheduler,
                              progress=not quiet, debug=bool(getattr(args, "debug", False)), log=log,
                              accept_any=bool(getattr(args, "accept_any", False)))
        else:
            report = corpus.add(args.paths, progress=not quiet, debug=bool(getattr(args, "debug", False)), log=log,
                                accept_any=bool(getattr(args, "accept_any", False)))
        outcome = add_outcome(corpus, report)
    finally:
        corpus.close()
    print_report(args, report, outcome)
    return report.exit_code


def print_report(args, report, outcome: dict) -> None:
    """What ``add`` (and each batch of ``watch``) prints: a line per added or replaced file on stdout,
    the summary and the corpus outcome on stderr; ``--format json`` one JSON object instead."""
    for msg in report.hook_errors:
        print(f"kehoach: {msg}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps({**report.to_dict(), "corpus": outcome}, ensure_ascii=False, indent=2))
    elif not args.quiet:
        for path, pid in report.added:
            print(f"added     {pid:>5}  {printable(path)}")
        for path, pid in report.replaced:
            print(f"replaced  {pid:>5}  {printable(path)}")
        if args.verbose:
            for path in report.unchanged:
                print(f"unchanged        {printable(path)}")
        print(report.summary(), file=sys.stderr)
        for line in outcome_lines(outcome):
            print(line, file=sys.stderr)


def add_outcome(corpus: Corpus, report) -> dict:
    """What an ``add`` left in the corpus: plans, tasks, and each new plan's warnings
    ("0 tasks found", the extractor's ``Extraction.warnings``)."""
    plans = corpus.plans()
    new = [pid for _, pid in list(report.added) + list(report.replaced)]
    by_id = {p.id: p for p in plans}
    warnings = []
    for path, pid in list(report.added) + list(report.replaced):
        p = by_id.get(pid)
        if p is None:
            continue
        if not p.task_count:
            warnings.append(f"0 tasks found in {path}")
        try:
            for w in getattr(corpus.extraction(pid), "warnings", None) or []:
                if not (p.task_count == 0 and "0 task" in str(w)):
                    warnings.append(str(w) if path in str(w) else f"{path}: {w}")
        except Exception:            # an unreadable record is reported by 'kehoach check'
            pass
    for path, why in report.not_plans:
        warnings.append(f"{path}: {why}")
    return {"plans": len(plans), "tasks": sum(p.task_count for p in plans),
            "new_plans": len(new), "new_tasks": sum(by_id[i].task_count for i in new if i in by_id),
            "warnings": warnings}


def outcome_lines(o: dict) -> list[str]:
    lines = [f"corpus: {o['plans']} plans, {o['tasks']} tasks"
             + (f" ({o['new_plans']} plans, {o['new_tasks']} tasks new)" if o["new_plans"] else "")
             + (f"; {len(o['warnings'])} warnings" if o["warnings"] else "")]
    lines += [f"  warning: {printable(w)}" for w in o["warnings"][:50]]
    if len(o["warnings"]) > 50:
        lines.append(f"  ... and {len(o['warnings']) - 50} more (--format json lists them all)")
    return lines


# --------------------------------------------------------------------------- watch

def cmd_watch(args) -> int:
    from kehoach.corpus.watch import watch
    quiet = args.quiet or args.format == "json"
    corpus = open_corpus(args)

    def added(report) -> None:
        outcome = add_outcome(corpus, report)
        if args.format == "json":
            print(json.dumps({**report.to_dict(), "corpus": outcome}, ensure_ascii=False), flush=True)
        else:
            print_report(args, report, outcome)
            sys.stdout.flush()

    try:
        if not args.no_index:
            attach_hooks(corpus)
        watch(corpus, args.paths, on_batch=added, log=log, settle=args.settle, poll=args.poll,
              progress=not quiet, debug=bool(getattr(args, "debug", False)),
              accept_any=bool(getattr(args, "accept_any", False)))
    except KeyboardInterrupt:
        log("watch stopped")
    finally:
        corpus.close()
    return 0


# --------------------------------------------------------------------------- list

def _cut(s: Optional[str], n: int) -> str:
    s = s or "-"
    return s if len(s) <= n else s[:n - 1] + "…"


def cmd_list(args) -> int:
    corpus = open_corpus(args)
    try:
        plans = corpus.plans()
        if args.province:
            plans = [p for p in plans if (p.province or "").lower() == args.province.lower()]
    finally:
        corpus.close()
    if args.format == "json":
        print(json.dumps([p.to_dict() for p in plans], ensure_ascii=False, indent=2))
        return 0
    if not plans:
        print("no plans yet: add some with 'kehoach add PATH...'", file=sys.stderr)
        return 0
    print(f"{'id':>4}  {'number':<16} {'date':<10} {'tasks':>5}  {'issuer':<40} title")
    for p in plans:
        print(f"{p.id:>4}  {_cut(p.number, 16):<16} {_cut(p.date, 10):<10} {p.task_count:>5}  "
              f"{_cut(p.issuer, 40):<40} {_cut(p.title, 70)}")
    return 0


# --------------------------------------------------------------------------- show

def plan_view(corpus: Corpus, ref: str) -> dict:
    """Everything ``show`` prints, as one JSON-able dict."""
    info = corpus.plan(ref)
    if info is None:
        raise CorpusError(f"{ref}: no such plan in {corpus.home} (see 'kehoach list')")
    ext = corpus.extraction(info.id)
    names: dict[int, str] = {}

    def label(bid: int) -> str:
        if bid not in names:
            b = corpus.body(bid)
            names[bid] = b.label if b else str(bid)
        return names[bid]

    tasks = []
    for t in corpus.tasks([info.id]):
        d = t.to_dict()
        d["lead_bodies"] = [{"id": b, "label": label(b)} for b in t.lead_bodies]
        d["support_bodies"] = [{"id": b, "label": label(b)} for b in t.support_bodies]
        tasks.append(d)
    doc = ext.document
    return {"plan": info.to_dict(),
            "document": {"number": doc.number, "type": doc.type, "issuer": doc.issuer, "place": doc.place,
                         "date": doc.date, "title": doc.title,
                         "signer": {"name": doc.signer.name, "title": doc.signer.title}},
            "tasks": tasks, "legal_refs": corpus.refs(info.id)}


def cmd_show(args) -> int:
    corpus = open_corpus(args)
    try:
        view = plan_view(corpus, args.plan)
    finally:
        corpus.close()
    if args.format == "json":
        print(json.dumps(view, ensure_ascii=False, indent=2))
        return 0
    p, d = view["plan"], view["document"]
    print(f"Plan {p['id']}: {d['type'] or 'document'} {d['number'] or '(no number)'}, {d['date'] or 'undated'}")
    print(f"Issuer: {d['issuer'] or '-'}" + (f"  [province: {p['province']}]" if p.get("province") else ""))
    print(f"Title: {d['title'] or '-'}")
    if d["signer"]["name"] or d["signer"]["title"]:
        print(f"Signed: {d['signer']['title'] or ''} {d['signer']['name'] or ''}".rstrip())
    print(f"Source: {p['source']}")
    refs = {r["id"]: r for r in view["legal_refs"]}
    print(f"{len(view['tasks'])} tasks, {len(refs)} legal references")
    for t in view["tasks"]:
        print()
        kind = " (indicator)" if t["kind"] == "indicator" else ""
        print(f"{t['task_id']} [{t['section'] or '-'}]{kind} {t['text']}")
        if t["lead_bodies"]:
            print("    lead:     " + "; ".join(b["label"] for b in t["lead_bodies"]))
        if t["support_bodies"]:
            print("    support:  " + "; ".join(b["label"] for b in t["support_bodies"]))
        dl = t.get("deadline")
        if dl:
            extra = ", ".join(x for x in (dl.get("date"), dl.get("recurrence")) if x)
            print(f"    deadline: {dl.get('text')}" + (f" ({extra})" if extra else ""))
        for tg in t.get("targets") or []:
            print(f"    target:   {tg.get('metric')} {tg.get('comparator') or ''} {tg.get('value')}"
                  f"{tg.get('unit') or ''}".rstrip())
        cited = [refs[r].get("symbol") or refs[r].get("text") for r in t.get("legal_refs") or [] if r in refs]
        if cited:
            print("    refs:     " + "; ".join(cited))
    if refs and args.refs:
        print("\nLegal references:")
        for r in refs.values():
            status = f"  [{r['status_in_text']}]" if r.get("status_in_text") else ""
            print(f"  {r['id']:>4}  {r.get('symbol') or '-':<22} {r.get('date') or '-':<10} {r.get('text')}{status}")
    return 0


# --------------------------------------------------------------------------- check, backup

def cmd_check(args) -> int:
    corpus = open_corpus(args, readonly=True)
    try:
        problems = corpus.verify()
        n = len(corpus.plans())
    finally:
        corpus.close()
    for pid, source, why in problems:
        print(f"plan {pid:>5}  {source}: {why}" if pid else f"{source}: {why}")
    print(f"{n} plans checked, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_backup(args) -> int:
    corpus = open_corpus(args, readonly=True)
    try:
        dest = corpus.backup(args.dest)
    finally:
        corpus.close()
    print(dest)
    return 0


# --------------------------------------------------------------------------- registration

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("add", help="ingest, extract and store plans (files, folders, globs)",
                       description="Add plans to the corpus. Unchanged files are skipped by content hash; a "
                                   "changed file replaces its plan (same id). A file that fails is reported and "
                                   "the others go on; exit status 1 when any failed.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders (recursive) or globs")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no per-file lines")
    p.add_argument("--verbose", "-v", action="store_true", help="also list unchanged files")
    p.add_argument("--no-index", action="store_true", help="store only; do not update the link/search indices")
    p.add_argument("--accept-any", action="store_true",
                   help="also store files that read as no administrative document (exit status 3 otherwise)")
    p.add_argument("--engine", choices=("dask",),
                   help="read and extract on a Dask cluster, the store written here (needs kehoach[bulk]; docs/bulk.md)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="with --engine: worker processes of a local cluster (default: the CPU count)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --engine: the scheduler of an existing Dask cluster (tcp://host:8786)")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("watch", help="add what is in folders, then each file dropped or changed there, until Ctrl-C",
                       description="Adds the files in FOLDER (as 'add' does), then stays: each file that appears or "
                                   "changes there is added once its size and time have held for --settle seconds. "
                                   "The model, the link and search state stay loaded, so an add costs only its own "
                                   "plan. A file that fails is reported in one line and watching goes on; files "
                                   "removed from the folder stay in the corpus. Ctrl-C stops (exit status 0).")
    p.add_argument("paths", nargs="+", metavar="FOLDER", help="folders to watch (recursive)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="json: one object per line per batch")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no per-file lines")
    p.add_argument("--verbose", "-v", action="store_true", help="also list unchanged files")
    p.add_argument("--accept-any", action="store_true", help="also store files that read as no administrative document")
    p.add_argument("--settle", type=float, default=1.0, metavar="S",
                   help="seconds a file's size and time must hold before it is read (default 1)")
    p.add_argument("--poll", action="store_true",
                   help="poll the folders instead of kernel events (network shares, some containers)")
    p.add_argument("--no-index", action="store_true", help="store only; do not update the link/search indices")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("list", help="list the stored plans (number, issuer, date, task count)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--province", help="only plans of this province")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show a plan's tasks with owners, deadlines and references",
                       description="PLAN is an id, a number (116/KH-UBND), a path or a file stem.")
    p.add_argument("plan", metavar="PLAN")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--refs", action="store_true", help="also list the legal references")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("check", help="verify every stored plan against its checksums and its source file")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("backup", help="write an online copy of the corpus database")
    p.add_argument("dest", metavar="DEST", help="a new file, or a folder to put a dated copy in")
    p.set_defaults(func=cmd_backup)

    try:
        registry = importlib.import_module("kehoach.corpus.registry")
    except ModuleNotFoundError as e:
        if not (e.name and "kehoach.corpus.registry".startswith(e.name)):
            raise
    else:
        if hasattr(registry, "register"):
            registry.register(sub)
