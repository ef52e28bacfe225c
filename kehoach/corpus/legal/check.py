"""``check``: for each plan, each cited document with its status on a day, what replaced it,
the evidence (registry row, corpus span or rule) and the plan's tasks that rely on it; and the
owners of its open tasks that no longer exist after the 2025 reorganisation.

Pure: extractions (+ their normalized texts) and a Registry in, a JSON-ready dict out.
A status nothing supports is "unknown"; a registry document is only used for a citation when
nothing conflicts (symbol, date, province) and, for a local or yearless symbol, something agrees.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Iterable, Optional

from kehoach.corpus.legal.derive import apply_facts, locate_refs, where
from kehoach.corpus.legal.registry import Registry, Resolution, _day_of, compatible
from kehoach.corpus.legal.rules import body_fate, is_period_type, period_end, title_after
from kehoach.corpus.legal.symbols import province_in, symbol_key, symbol_year, to_date
from kehoach.models import Extraction, LegalRef, Task

TASK_TEXT = 160


@dataclass
class PlanInput:
    extraction: Extraction
    text: Optional[str] = None          # normalized text the spans index into


def _candidates(reg: Registry, ref: LegalRef):
    prov = province_in(ref.issuer)
    out = []
    for d in reg.find(ref.symbol, ref.date, prov):
        agree = compatible(d, ref.date, prov)
        if agree is None and (d.province or symbol_year(ref.symbol) is None):
            continue            # a local or yearless symbol needs a date or province that agrees
        out.append(d)
    exact = [d for d in out if compatible(d, ref.date, prov)]
    return exact if len(out) > 1 and len(exact) == 1 else out


def _corpus_index(corpus: Iterable[PlanInput]) -> dict[str, list[Extraction]]:
    idx: dict[str, list[Extraction]] = {}
    for p in corpus:
        if p.extraction.document.number:
            idx.setdefault(symbol_key(p.extraction.document.number), []).append(p.extraction)
    return idx


def _period_scope(ref: LegalRef, text: Optional[str], idx: dict[str, list[Extraction]], source: str):
    """(end, title, where) of the cited plan's time scope: its own title when it is in the corpus, else
    the citation's titles (the extraction's and the words after the citation: the latest end wins,
    so a title cut short can never end the scope early). (None, None, None) when no title names one."""
    for ex in idx.get(symbol_key(ref.symbol), ()):
        d = ex.document
        if compatible_doc(d.date, d.issuer, ref):
            title = (d.issued_plan or {}).get("title") or d.title
            if title:
                return period_end(title), title, f"{ex.source} (title)"
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
    a, b = province_in(issuer), province_in(ref.issuer)
    if a and b and a != b:
        return False
    return bool((date and ref.date) or (a and b))


def _open(task: Task, as_of: _dt.date) -> bool:
    dl = task.deadline
    if dl is None or dl.recurrence or not dl.date:
        return True
    day = to_date(dl.date)
    return day is None or day >= as_of


def _task_brief(t: Task) -> dict:
    text = t.text if len(t.text) <= TASK_TEXT else t.text[:TASK_TEXT - 1] + "…"
    return {"id": t.id, "lead": list(t.lead), "text": text}


def check_plan(p: PlanInput, reg: Registry, as_of: _dt.date, idx: dict[str, list[Extraction]]) -> dict:
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
        entry = {"symbol": ref.symbol, "type": ref.type, "date": ref.date, "issuer": ref.issuer,
                 "text": ref.text, "status": "unknown", "since": None, "replaced_by": None, "evidence": []}
        start = _day_of(ref.date)
        if start and as_of < start:
            entry.update(status="not_yet_in_force", evidence=[
                {"kind": "rule", "where": "citation date", "text": f"{ref.symbol} is dated {ref.date}, after {as_of}"}])
        else:
            cands = _candidates(reg, ref)
            res: Optional[Resolution] = None
            if len(cands) == 1:
                res = reg.resolve(cands[0], as_of)
            elif len(cands) > 1:
                entry["evidence"].append({"kind": "registry", "where": "; ".join(d.source for d in cands),
                                          "text": "several documents share this symbol: "
                                                  + "; ".join(d.label() for d in cands)})
            if res is not None:
                entry.update(status=res.status, since=res.since, evidence=res.evidence)
                if res.replaced_by is not None:
                    entry["replaced_by"] = res.replaced_by.symbol
                    entry["replaced_by_doc"] = {"symbol": res.replaced_by.symbol, "date": res.replaced_by.date_issued,
                                                "issuer": res.replaced_by.issuer}
                if res.last_known:
                    entry["last_known"] = res.last_known
            if entry["status"] in ("unknown", "in_force", "amended", "partly_expired") and is_period_type(ref.type):
                end, title, at = _period_scope(ref, p.text, idx, ex.source)
                if end is not None and as_of > end:
                    entry.update(status="period_ended", since=(end + _dt.timedelta(days=1)).isoformat())
                    entry["evidence"] = entry["evidence"] + [{"kind": "rule", "where": at,
                                                              "text": f"{title} (period ended {end.isoformat()})"}]
        relying = {id(t): t for rid in ids for t in tasks_of.get(rid, ())}
        entry["tasks"] = [_task_brief(t) for t in ex.tasks if id(t) in relying]
        refs_out.append(entry)
    return {"source": ex.source, "number": ex.document.number, "type": ex.document.type,
            "date": ex.document.date, "title": ex.document.title, "refs": refs_out,
            "bodies": check_bodies(ex, as_of)}


def check_bodies(ex: Extraction, as_of: _dt.date) -> list[dict]:
    """Bodies named as owners of the plan's open tasks (and the plan's issuer) that no longer exist."""
    out: dict[str, dict] = {}

    def note(name: str, role: str, task: Optional[Task]):
        fate = body_fate(name, as_of)
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


def check(plans: list[PlanInput], registry: Registry, as_of: _dt.date,
          corpus: Optional[list[PlanInput]] = None) -> dict:
    """The legal-basis report for ``plans`` on ``as_of``. ``corpus`` (default: the plans) is what the
    corpus-derived facts and the cited-plan titles are read from; the registry is not modified."""
    plans = [PlanInput(locate_refs(p.extraction, p.text), p.text) for p in plans]
    corpus = plans if corpus is None else [PlanInput(locate_refs(p.extraction, p.text), p.text) for p in corpus]
    reg = registry.copy()
    apply_facts(reg, ((p.extraction, p.text) for p in corpus))
    idx = _corpus_index(corpus)
    out = [check_plan(p, reg, as_of, idx) for p in plans]
    counts: dict[str, int] = {}
    for p in out:
        for r in p["refs"]:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"as_of": as_of.isoformat(), "plans": out, "summary": {
        "plans": len(out), "refs": sum(counts.values()), "statuses": dict(sorted(counts.items())),
        "bodies": sum(len(p["bodies"]) for p in out)}}


def format_text(report: dict) -> str:
    lines = [f"Legal bases as of {report['as_of']}"]
    for p in report["plans"]:
        lines.append("")
        lines.append(f"== {p['source']}  {p['number'] or '(no number)'}  {p['title'] or ''}".rstrip())
        for r in p["refs"]:
            head = f"  {r['symbol']:<22} {r['type'] or '':<12} {r['status']}"
            if r.get("since"):
                head += f" since {r['since']}"
            if r.get("replaced_by"):
                head += f" -> {r['replaced_by']}"
            if r.get("last_known"):
                lk = r["last_known"]
                head += f" (last known {lk['status']}{' on ' + lk['date'] if lk.get('date') else ''})"
            lines.append(head)
            for e in r["evidence"][:3]:
                txt = e["text"] if len(e["text"]) <= 140 else e["text"][:139] + "…"
                lines.append(f"      [{e['kind']}] {e['where']}: {txt}")
            if r["tasks"]:
                lines.append("      tasks: " + ", ".join(t["id"] for t in r["tasks"]))
        for b in p["bodies"]:
            succ = f"-> {b['successor']}" if b["successor"] else "(no certain successor)"
            tasks = f"; open tasks: {', '.join(b['tasks'])}" if b["tasks"] else ""
            lines.append(f"  ! {b['name']} no longer exists since {b['since']} {succ} "
                         f"[{', '.join(b['roles'])}{tasks}] ({b['source']})")
    s = report["summary"]
    lines.append("")
    lines.append(f"{s['plans']} plans, {s['refs']} cited documents: "
                 + ", ".join(f"{k} {v}" for k, v in s["statuses"].items())
                 + f"; {s['bodies']} bodies that no longer exist")
    return "\n".join(lines)
