"""``check``: for each plan, each cited document with its status on a day, what replaced it,
the evidence (registry row, corpus span or rule) and the plan's tasks that rely on it; and the
owners of its open tasks that no longer exist after the 2025 reorganisation.

Pure: extractions (+ their normalized texts) and a Registry in, a JSON-ready dict out.
A status nothing supports is "unknown"; a registry document is only used for a citation when
nothing conflicts (symbol, date, province) and, for a local or yearless symbol, something agrees.
"""
from __future__ import annotations

import datetime as _dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from kehoach.corpus.legal.derive import PlanFacts, apply_plan_facts, locate_refs, plan_facts, trim_refs, where
from kehoach.corpus.legal.registry import LegalDoc, Registry, Resolution, _day_of
from kehoach.corpus.legal.rules import body_fate, unit_fate, is_period_type, period_end, title_after
from kehoach.corpus.legal.symbols import (date_prefix_agrees, doc_type, load_tsv, merger_of,
                                          place_relation, province_in, symbol_key, symbol_year, to_date)
from kehoach.models import DocumentInfo, Extraction, LegalRef, Task

TASK_TEXT = 160


@dataclass
class PlanInput:
    extraction: Extraction
    text: Optional[str] = None          # normalized text the spans index into


def _place_of(d: LegalDoc, prov: Optional[str], date: Optional[str]) -> Optional[str]:
    return place_relation(d.province, prov, d.date_issued or date)


def _candidates(reg: Registry, ref: LegalRef) -> list[tuple[LegalDoc, Optional[str]]]:
    """The registry documents this citation may be, each with how its province relates to the citation's
    ("same", "merged": one province merged into the other in 2025, either way; None: one is unknown).
    A document is dropped when its date or province conflicts, and for a local or yearless symbol when
    nothing agrees; of several, the ones that agree on the most (date, then same over merged province)."""
    prov = province_in(ref.issuer)
    scored = []
    for d in reg.find(ref.symbol, ref.date):
        place = _place_of(d, prov, ref.date)
        if place == "conflict":
            continue
        dated = bool(date_prefix_agrees(d.date_issued, ref.date))
        if not dated and place is None and (d.province or symbol_year(ref.symbol) is None):
            continue            # a local or yearless symbol needs a date or province that agrees
        scored.append(((2 if dated else 0) + {"same": 2, "merged": 1}.get(place, 0), d, place))
    if len(scored) > 1:
        best = max(x[0] for x in scored)
        top = [x for x in scored if x[0] == best]
        if len(top) == 1 and best > 0:
            scored = top
    return [(d, place) for _, d, place in scored]


def _merger_evidence(d: LegalDoc, prov: Optional[str]) -> dict:
    m = merger_of(d.province) or merger_of(prov)
    return {"kind": "rule", "where": "kehoach/data/reorg_2025.tsv",
            "text": f"{d.symbol}: the citation names {prov}, the registry {d.province}; "
                    f"{m.old} merged into {m.new} from {m.since} ({m.source})"}


@dataclass(frozen=True)
class CorpusFacts:
    """What ``check`` reads from the whole corpus, small enough to keep per corpus generation: the facts its
    plans state (``derive.plan_facts``) and, by ký hiệu, the plans' own documents (the cited-plan titles)."""
    facts: tuple[PlanFacts, ...]
    documents: dict[str, tuple[tuple[DocumentInfo, str], ...]]     # symbol key -> ((document, source), ...)


def corpus_facts(corpus: Iterable[PlanInput]) -> CorpusFacts:
    facts, docs = [], {}
    for p in corpus:
        p = _prepared(p)
        f = plan_facts(p.extraction, p.text)
        if f is not None:
            facts.append(f)
        d = p.extraction.document
        if d.number:
            docs.setdefault(symbol_key(d.number), []).append((d, p.extraction.source))
    return CorpusFacts(tuple(facts), {k: tuple(v) for k, v in docs.items()})


def _period_scope(ref: LegalRef, text: Optional[str], docs: dict[str, tuple[tuple[DocumentInfo, str], ...]], source: str):
    """(end, title, where) of the cited plan's time scope: its own title when it is in the corpus, else
    the citation's titles (the extraction's and the words after the citation: the latest end wins,
    so a title cut short can never end the scope early). (None, None, None) when no title names one."""
    for d, src in docs.get(symbol_key(ref.symbol), ()):
        if compatible_doc(d.date, d.issuer, ref):
            title = (d.issued_plan or {}).get("title") or d.title
            if title:
                return period_end(title), title, f"{src} (title)"
    found = []
    sp = ref.span
    if ref.title:
        found.append((ref.title, where(source, sp.start, sp.end, sp.page) if sp else source))
    if text is not None and sp is not None:
        t = title_after(text, sp.end)
        if t:
            found.append((t, where(source, sp.start, sp.end + len(t) + 1, sp.page)))
    best = (None, None, None)
    for title, at in found:
        end = period_end(title)
        if end is None and _open_scope(title):
            return None, None, None
        if end is not None and (best[0] is None or end > best[0]):
            best = (end, title, at)
    return best


def _open_scope(title: str) -> bool:
    return period_end(title) is None and period_end(title + " năm 2000") is None


def compatible_doc(date: Optional[str], issuer: Optional[str], ref: LegalRef) -> bool:
    if date and ref.date and date[:min(len(date), len(ref.date))] != ref.date[:min(len(date), len(ref.date))]:
        return False
    place = place_relation(province_in(issuer), province_in(ref.issuer), date or ref.date)
    if place == "conflict":
        return False
    return bool((date and ref.date) or place)


def _open(task: Task, as_of: _dt.date) -> bool:
    dl = task.deadline
    if dl is None or dl.recurrence or not dl.date:
        return True
    day = to_date(dl.date)
    return day is None or day >= as_of


def _task_brief(t: Task) -> dict:
    text = t.text if len(t.text) <= TASK_TEXT else t.text[:TASK_TEXT - 1] + "…"
    return {"id": t.id, "lead": list(t.lead), "text": text}


def check_plan(p: PlanInput, reg: Registry, as_of: _dt.date, docs: dict[str, tuple[tuple[DocumentInfo, str], ...]]) -> dict:
    ex = p.extraction
    groups: dict[tuple, list[LegalRef]] = {}
    for r in ex.legal_refs:
        if r.symbol:
            groups.setdefault((symbol_key(r.symbol), r.date or ""), []).append(r)
    tasks_of: dict[str, list[Task]] = {}
    for t in ex.tasks:
        for rid in t.legal_refs:
            tasks_of.setdefault(rid, []).append(t)
    refs_out = []
    for refs in groups.values():
        ref = next((r for r in refs if r.issuer), refs[0])
        ids = {r.id for r in refs}
        typ = doc_type(ref.symbol, ref.type, ref.text)
        entry = {"symbol": ref.symbol, "type": typ, "date": ref.date, "issuer": ref.issuer,
                 "text": ref.text, "status": "unknown", "since": None,
                 "replaced_by": None, "evidence": []}
        start = _day_of(ref.date)
        if start and as_of < start:
            entry.update(status="not_yet_in_force", evidence=[
                {"kind": "rule", "where": "citation date", "text": f"{ref.symbol} is dated {ref.date}, after {as_of}"}])
        else:
            cands = _candidates(reg, ref)
            res: Optional[Resolution] = None
            if len(cands) == 1:
                doc, place = cands[0]
                res = reg.resolve(doc, as_of)
                if place == "merged":
                    res.evidence = [_merger_evidence(doc, province_in(ref.issuer))] + res.evidence
            elif len(cands) > 1:
                entry["evidence"].append({"kind": "registry", "where": "; ".join(d.source for d, _ in cands),
                                          "text": "several documents share this symbol: "
                                                  + "; ".join(d.label() for d, _ in cands)})
            if res is not None:
                entry.update(status=res.status, since=res.since, evidence=res.evidence)
                if res.replaced_by is not None:
                    entry["replaced_by"] = res.replaced_by.symbol
                    entry["replaced_by_doc"] = {"symbol": res.replaced_by.symbol, "date": res.replaced_by.date_issued,
                                                "issuer": res.replaced_by.issuer}
                if res.last_known:
                    entry["last_known"] = res.last_known
            if entry["status"] in ("unknown", "in_force", "amended", "partly_expired") and is_period_type(typ):
                end, title, at = _period_scope(ref, p.text, docs, ex.source)
                if end is not None and as_of > end:
                    entry.update(status="period_ended", since=(end + _dt.timedelta(days=1)).isoformat())
                    entry["evidence"] = entry["evidence"] + [{"kind": "rule", "where": at,
                                                              "text": f"{title} (period ended {end.isoformat()})"}]
        entry["status_vi"] = status_label(entry["status"])
        entry["problem"] = is_problem(entry["status"])
        relying = {id(t): t for rid in ids for t in tasks_of.get(rid, ())}
        entry["tasks"] = [_task_brief(t) for t in ex.tasks if id(t) in relying]
        refs_out.append(entry)
    return {"source": ex.source, "number": ex.document.number, "type": ex.document.type,
            "date": ex.document.date, "title": ex.document.title, "refs": refs_out,
            "bodies": check_bodies(ex, as_of), "summary": summarize([refs_out])}


def check_bodies(ex: Extraction, as_of: _dt.date) -> list[dict]:
    """Bodies named as owners of the plan's open tasks (and the plan's issuer) that no longer exist."""
    out: dict[str, dict] = {}

    def note(name: str, role: str, task: Optional[Task]):
        fate = body_fate(name, as_of) or (unit_fate(name, ex.document.issuer, as_of) if role != "issuer" else None)
        if fate is None:
            return
        e = out.setdefault(name, {"name": name, "successor": fate.successor, "since": fate.since,
                                  "source": fate.source, "note": fate.note, "roles": [], "tasks": []})
        if role not in e["roles"]:
            e["roles"].append(role)
        if task is not None and task.id not in e["tasks"]:
            e["tasks"].append(task.id)

    if ex.document.issuer:
        note(ex.document.issuer, "issuer", None)
    for t in ex.tasks:
        if not _open(t, as_of):
            continue
        for name in t.lead:
            note(name, "lead", t)
        for name in t.support:
            note(name, "support", t)
    return list(out.values())


def _prepared(p: PlanInput) -> PlanInput:
    return PlanInput(trim_refs(locate_refs(p.extraction, p.text)), p.text)


def check(plans: list[PlanInput], registry: Registry, as_of: _dt.date,
          corpus: Optional[list[PlanInput]] = None, *, known: Optional[CorpusFacts] = None) -> dict:
    """The legal-basis report for ``plans`` on ``as_of``. ``corpus`` (default: the plans) is what the
    corpus-derived facts and the cited-plan titles are read from, or ``known``, its ``corpus_facts``
    read before; the registry is not modified."""
    plans = [_prepared(p) for p in plans]
    if known is None:
        known = corpus_facts(plans if corpus is None else corpus)
    reg = registry.copy()
    apply_plan_facts(reg, known.facts)
    out = [check_plan(p, reg, as_of, known.documents) for p in plans]
    summary = summarize([p["refs"] for p in out], [(p["source"], p["number"]) for p in out])
    summary.update(plans=len(out), bodies=sum(len(p["bodies"]) for p in out))
    return {"as_of": as_of.isoformat(), "plans": out, "summary": summary}


# ------------------------------------------------------------------ labels and summary

@lru_cache(maxsize=None)
def _labels() -> dict[str, tuple[str, bool, bool]]:
    """status -> (Vietnamese label, problem, headline), in the table's order (kehoach/data/legal_status_labels.tsv)."""
    return {st: (label, problem == "yes", head == "yes") for st, label, problem, head in load_tsv("legal_status_labels.tsv")}


def status_label(status: str) -> str:
    """"expired" -> "Hết hiệu lực" (the code itself for a status the table does not know)."""
    return _labels().get(status, (status,))[0]


def is_problem(status: str) -> bool:
    """A status a plan should not rely on: expired, replaced, abolished, partly expired, period ended."""
    return _labels().get(status, ("", False))[1]


def _order(status: str) -> int:
    keys = list(_labels())
    return keys.index(status) if status in keys else len(keys)


def problems_first(refs: list[dict]) -> list[dict]:
    """The refs with the problems first (in the labels table's order), the rest in citation order."""
    return sorted(refs, key=lambda r: (0, _order(r["status"])) if r["problem"] else (1, 0))


def summarize(groups: list[list[dict]], plans: Optional[list[tuple[str, Optional[str]]]] = None) -> dict:
    """Counts of the refs by status (codes and Vietnamese labels) and the tasks that rely on a problem
    document (``plans``: (source, number) of each group's plan, named on each task when several plans are checked)."""
    counts: dict[str, int] = {}
    relying: dict[tuple, dict] = {}
    for g, refs in enumerate(groups):
        for r in refs:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
            if not r["problem"]:
                continue
            for t in r["tasks"]:
                key = (g, t["id"])
                e = relying.get(key)
                if e is None:
                    e = relying[key] = dict(t, refs=[])
                    if plans is not None:
                        e = relying[key] = dict(plan=plans[g][0], plan_number=plans[g][1], **e)
                e["refs"].append({"symbol": r["symbol"], "status": r["status"], "status_vi": r["status_vi"]})
    shown = [st for st, (_, _, head) in _labels().items() if head or counts.get(st)]
    shown += sorted(st for st in counts if st not in _labels())
    rows = [{"status": st, "label": status_label(st), "problem": is_problem(st), "count": counts.get(st, 0)}
            for st in shown]
    n = sum(counts.values())
    problems = sum(c for st, c in counts.items() if is_problem(st))
    text = f"{n} văn bản được trích dẫn: " + ", ".join(f"{r['count']} {r['label'].lower()}" for r in rows)
    tasks = list(relying.values())
    if tasks:
        text += f"; {len(tasks)} nhiệm vụ dựa trên văn bản có vấn đề: " + ", ".join(
            _plan_label(t) + t["id"] + " (" + ", ".join(x["symbol"] for x in t["refs"]) + ")" for t in tasks)
    else:
        text += "; không có nhiệm vụ nào dựa trên văn bản có vấn đề"
    return {"refs": n, "problems": problems, "statuses": dict(sorted(counts.items())), "counts": rows,
            "relying_tasks": tasks, "text": text}


def _plan_label(t: dict) -> str:
    if "plan" not in t:
        return ""
    from pathlib import PurePath
    return (t["plan_number"] or PurePath(t["plan"]).name) + " "


# ------------------------------------------------------------------ one plan, read-only (the web page)

LEGAL_TABLES = ("legal_docs", "legal_facts", "legal_relations")


def has_tables(conn) -> bool:
    """Whether the registry tables exist (a corpus where ``kehoach legal import`` never ran has none)."""
    got = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name IN (?,?,?)",
                                      LEGAL_TABLES)}
    return got == set(LEGAL_TABLES)


_KNOWN: "OrderedDict[tuple, CorpusFacts]" = OrderedDict()
_KNOWN_LOCK = threading.Lock()


def stored_facts(corpus) -> CorpusFacts:
    """``corpus_facts`` of a stored corpus, read once per corpus generation (every add, replace or remove
    bumps it) and kept for the few stores a process serves: a page view reads one plan, not the corpus. The
    key is the store itself (its SQLite file or PostgreSQL database, ``Corpus.db_path``), not the home folder:
    two homes may share one PostgreSQL database, and one home may be pointed at another database."""
    key = (str(corpus.db_path), int(corpus.generation()))
    with _KNOWN_LOCK:
        if key in _KNOWN:
            _KNOWN.move_to_end(key)
            return _KNOWN[key]
    known = corpus_facts(PlanInput(corpus.extraction(p.id), corpus.text(p.id)) for p in corpus.plans())
    with _KNOWN_LOCK:
        _KNOWN[key] = known
        while len(_KNOWN) > 4:
            _KNOWN.popitem(last=False)
    return known


def plan_report(corpus, plan_id: int, day: _dt.date) -> dict:
    """The legal report of one plan of ``corpus`` (a ``kehoach.corpus.store.Corpus``) on ``day``, as the web
    page shows it: the summary, then the cited documents with the problems first, each with its status code,
    its Vietnamese label, its evidence and the tasks that rely on it. Read-only: it creates no table and writes
    nothing; without imported status tables the report says so, and a status only the plans' own words or the
    rules support is still given (everything else is "Chưa rõ"). Keys: docs/legal.md."""
    conn = corpus.conn
    tables = has_tables(conn)
    reg = Registry.load(conn) if tables else Registry()
    if corpus.plan(plan_id) is None:
        from kehoach.errors import KehoachError
        raise KehoachError(f"plan {plan_id}: no such plan in {corpus.home}")
    rep = check([PlanInput(corpus.extraction(plan_id), corpus.text(plan_id))], reg, day, known=stored_facts(corpus))
    p = rep["plans"][0]
    if not tables:
        note = "chưa nhập bảng tình trạng văn bản nào (kehoach legal import): tình trạng chỉ từ chính văn bản của kế hoạch"
    elif not len(reg):
        note = "bảng tình trạng văn bản còn trống (kehoach legal import)"
    else:
        note = None
    return {"as_of": rep["as_of"],
            "plan": {"id": plan_id, "source": p["source"], "number": p["number"], "type": p["type"],
                     "date": p["date"], "title": p["title"]},
            "registry": {"available": tables, "documents": len(reg), "note": note},
            "summary": p["summary"], "refs": problems_first(p["refs"]), "bodies": p["bodies"],
            "plans": rep["plans"]}          # the shape of ``check`` too (``kehoach legal check --format json``)


# ------------------------------------------------------------------ text

def _ref_lines(r: dict) -> list[str]:
    head = f"  {r['symbol']:<22} {r['type'] or '':<12} {r['status_vi']} ({r['status']})"
    if r.get("since"):
        head += f" từ {r['since']}"
    if r.get("replaced_by"):
        head += f" -> {r['replaced_by']}"
    if r.get("last_known"):
        lk = r["last_known"]
        head += f" (lần cuối biết: {status_label(lk['status'])}{' ngày ' + lk['date'] if lk.get('date') else ''})"
    lines = [head]
    for e in r["evidence"][:3]:
        txt = e["text"] if len(e["text"]) <= 140 else e["text"][:139] + "…"
        lines.append(f"      [{e['kind']}] {e['where']}: {txt}")
    if r["tasks"]:
        lines.append("      nhiệm vụ: " + ", ".join(t["id"] for t in r["tasks"]))
    return lines


def format_text(report: dict, problems_only: bool = False) -> str:
    """The report as text: the summary first, then each plan with its problem documents first (and only
    them when ``problems_only``)."""
    s = report["summary"]
    lines = [f"Căn cứ pháp lý ngày {report['as_of']}: {s['plans']} kế hoạch, {s['text']}"]
    if s["bodies"]:
        lines.append(f"{s['bodies']} cơ quan không còn tồn tại sau sắp xếp năm 2025")
    for p in report["plans"]:
        refs = problems_first(p["refs"])
        bad = [r for r in refs if r["problem"]]
        if problems_only and not bad and not p["bodies"]:
            continue
        lines.append("")
        lines.append(f"== {p['source']}  {p['number'] or '(không số)'}  {p['title'] or ''}".rstrip())
        lines.append(f"  {p['summary']['text']}")
        if bad:
            lines.append("  Văn bản có vấn đề:")
            for r in bad:
                lines.extend(_ref_lines(r))
        rest = [r for r in refs if not r["problem"]]
        if rest and not problems_only:
            lines.append("  Các văn bản khác:")
            for r in rest:
                lines.extend(_ref_lines(r))
        for b in p["bodies"]:
            succ = f"-> {b['successor']}" if b["successor"] else "(chưa rõ cơ quan kế thừa)"
            tasks = f"; nhiệm vụ còn mở: {', '.join(b['tasks'])}" if b["tasks"] else ""
            lines.append(f"  ! {b['name']} không còn từ {b['since']} {succ} "
                         f"[{', '.join(b['roles'])}{tasks}] ({b['source']})")
    return "\n".join(lines)
