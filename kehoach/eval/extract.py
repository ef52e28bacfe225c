"""The extraction score: a prediction file (``kehoach extract --format jsonl``) against gold records.

Documents are paired by the stem of their ``source``. Per document:

1. tasks (``score_tasks``): each predicted task (kind task or indicator) goes to the gold task
   holding the largest share of its bigrams, if that share is >= 0.6 (ties: the gold it covers
   best, then one not yet matched); a gold task is found when the predictions assigned to it
   together cover >= 0.6 of its bigrams; its lead/support F1 and deadline are read off the
   assigned prediction sharing the most bigrams with it;
2. legal references (``score_refs``): a set per plan keyed by ``match.ref_key``; date and issuer
   checked on the matched keys;
3. header (``score_document``): number, type, issuer, date, title, signer name and post.

``extract_report`` sums these over the documents into the summary line; ``overall`` is the mean
of task F1, lead F1, deadline accuracy, reference F1, reference date and issuer accuracy, and the
mean header field accuracy.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from kehoach.eval.match import (TITLE_BIGRAM_OVERLAP, bigrams, bodies_f1, body_match, deadline_match, f1,
                                fold_text, ref_key, symbol_key)

TASK_MATCH = 0.6    # share of bigrams for a prediction to name a gold task, and for a gold task to be found
TASK_KINDS = ("task", "indicator")
DOC_FIELDS = ["number", "type", "issuer", "date", "title", "signer_name", "signer_title"]


class _Summable:
    """Counts that add up field by field over the documents (``total += per_doc``)."""

    def __iadd__(self, other):
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


@dataclass
class TaskCounts(_Summable):
    gold: int = 0
    pred: int = 0
    found: int = 0
    pred_ok: int = 0
    lead_sum: float = 0.0
    support_sum: float = 0.0
    dl_hits: int = 0
    dl_total: int = 0


@dataclass
class RefCounts(_Summable):
    gold: int = 0
    pred: int = 0
    tp: int = 0
    date_ok: int = 0
    issuer_ok: int = 0


def _assign(gold_bg: list[set], pred_bg: list[set], thr: float) -> tuple[dict[int, list[int]], int]:
    """Each prediction to its best gold task (gold index -> prediction indices), and how many found one."""
    assigned: dict[int, list[int]] = {}
    pred_ok = 0
    for j, pb in enumerate(pred_bg):
        if not pb:
            continue
        best, best_key = None, (0.0, 0.0, False)
        for i, gb in enumerate(gold_bg):
            if not gb:
                continue
            inter = len(pb & gb)
            key = (inter / len(pb), inter / len(gb), i not in assigned)
            if key > best_key:
                best, best_key = i, key
        if best is not None and best_key[0] >= thr:
            pred_ok += 1
            assigned.setdefault(best, []).append(j)
    return assigned, pred_ok


def score_tasks(gold_tasks: list[dict], pred_tasks: list[dict], thr: float = TASK_MATCH) -> TaskCounts:
    gold_bg = [bigrams(t["text"]) for t in gold_tasks]
    pred_bg = [bigrams(t.get("text", "")) for t in pred_tasks]
    assigned, pred_ok = _assign(gold_bg, pred_bg, thr)
    c = TaskCounts(gold=len(gold_tasks), pred=len(pred_tasks), pred_ok=pred_ok)
    for i, gb in enumerate(gold_bg):
        js = assigned.get(i, [])
        cover = set().union(*(pred_bg[j] for j in js)) if js else set()
        if not gb or len(gb & cover) / len(gb) < thr:
            continue
        c.found += 1
        main = max(js, key=lambda j: len(pred_bg[j] & gb))
        g, p = gold_tasks[i], pred_tasks[main]
        c.lead_sum += bodies_f1(g.get("lead", []), p.get("lead", []) or [])
        c.support_sum += bodies_f1(g.get("support", []), p.get("support", []) or [])
        m = deadline_match(g.get("deadline"), p.get("deadline"))
        if m is not None:
            c.dl_total += 1
            c.dl_hits += bool(m)
    return c


def _by_key(refs: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in refs:
        k = ref_key(r)
        if k:
            out.setdefault(k, r)
    return out


def score_refs(gold_refs: list[dict], pred_refs: list[dict]) -> tuple[RefCounts, list[str], list[str]]:
    """Counts, and the gold keys missed and predicted keys extra."""
    gold, pred = _by_key(gold_refs), _by_key(pred_refs)
    tp = set(gold) & set(pred)
    date_ok = sum(1 for k in tp if (gold[k].get("date") or None) == (pred[k].get("date") or None))
    issuer_ok = sum(1 for k in tp if _same_issuer(gold[k].get("issuer"), pred[k].get("issuer")))
    counts = RefCounts(gold=len(gold), pred=len(pred), tp=len(tp), date_ok=date_ok, issuer_ok=issuer_ok)
    return counts, sorted(set(gold) - set(pred)), sorted(set(pred) - set(gold))


def _same_issuer(g, p) -> bool:
    return (not g and not p) or bool(g and p and body_match(g, p))


def _document_fields(d: dict | None) -> dict:
    d = d or {}
    s = d.get("signer") or {}
    return {"number": symbol_key(d.get("number")), "type": fold_text(d.get("type")),
            "issuer": d.get("issuer"), "date": d.get("date"), "title": bigrams(d.get("title") or ""),
            "signer_name": fold_text(s.get("name")), "signer_title": fold_text(s.get("title"))}


def score_document(gold: dict | None, pred: dict | None) -> dict[str, bool]:
    g, p = _document_fields(gold), _document_fields(pred)
    out = {}
    for k in DOC_FIELDS:
        if k == "issuer":
            out[k] = _same_issuer(g[k], p[k])
        elif k == "title":
            out[k] = (len(g[k] & p[k]) / max(len(g[k] | p[k]), 1) >= TITLE_BIGRAM_OVERLAP) if g[k] or p[k] else True
        else:
            out[k] = (g[k] or None) == (p[k] or None)
    return out


def source_stem(source: str | None) -> str:
    return Path(source or "").stem


def load_gold(gold_dir) -> dict[str, dict]:
    """Gold records by the stem of their source."""
    out = {}
    for p in sorted(Path(gold_dir).glob("*.json")):
        rec = json.loads(p.read_text("utf-8"))
        out[source_stem(rec["source"])] = rec
    return out


def load_predictions(path) -> dict[str, dict]:
    """One record a line, by the stem of its source (a later line for the same stem wins)."""
    docs = {}
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            docs[source_stem(d.get("source"))] = d
    return docs


def extract_report(gold_dir, pred_path) -> tuple[dict, dict]:
    """(summary, per-document detail) of a prediction file against a gold folder."""
    gold, pred = load_gold(gold_dir), load_predictions(pred_path)
    T, R = TaskCounts(), RefCounts()
    D = {k: 0 for k in DOC_FIELDS}
    per_doc = {}
    for name, g in gold.items():
        p = pred.get(name, {})
        if g.get("tasks") is None:      # gold that annotates only the header and the references
            t = TaskCounts()
        else:
            t = score_tasks(g["tasks"], [x for x in p.get("tasks", []) if x.get("kind", "task") in TASK_KINDS])
        r, missed, extra = score_refs(g.get("legal_refs", []), p.get("legal_refs", []))
        d = score_document(g.get("document"), p.get("document"))
        T += t
        R += r
        for k in D:
            D[k] += d[k]
        per_doc[name] = {"present": bool(p), "tasks_found": f"{t.found}/{t.gold}",
                         "tasks_pred_ok": f"{t.pred_ok}/{t.pred}",
                         "refs_tp": f"{r.tp}/{r.gold} (pred {r.pred})",
                         "refs_missed": missed, "refs_extra": extra,
                         "doc_wrong": [k for k, v in d.items() if not v]}
    return _summary(len(gold), T, R, D), per_doc


def _summary(documents: int, T: TaskCounts, R: RefCounts, D: dict) -> dict:
    n = max(documents, 1)
    tr, tp = T.found / max(T.gold, 1), T.pred_ok / max(T.pred, 1)
    rr, rp = R.tp / max(R.gold, 1), R.tp / max(R.pred, 1)
    s = {
        "documents": documents,
        "task_recall": round(tr, 3), "task_precision": round(tp, 3), "task_f1": round(f1(tp, tr), 3),
        "lead_f1": round(T.lead_sum / max(T.found, 1), 3),
        "support_f1": round(T.support_sum / max(T.found, 1), 3),
        "deadline_acc": round(T.dl_hits / max(T.dl_total, 1), 3),
        "ref_recall": round(rr, 3), "ref_precision": round(rp, 3), "ref_f1": round(f1(rp, rr), 3),
        "ref_date_acc": round(R.date_ok / max(R.tp, 1), 3),
        "ref_issuer_acc": round(R.issuer_ok / max(R.tp, 1), 3),
        "doc_field_acc": {k: round(v / n, 3) for k, v in D.items()},
    }
    parts = [s["task_f1"], s["lead_f1"], s["deadline_acc"], s["ref_f1"], s["ref_date_acc"], s["ref_issuer_acc"],
             sum(s["doc_field_acc"].values()) / len(DOC_FIELDS)]
    s["overall"] = round(sum(parts) / len(parts), 3)
    return s


__all__ = ["DOC_FIELDS", "TASK_MATCH", "RefCounts", "TaskCounts", "extract_report", "load_gold",
           "load_predictions", "score_document", "score_refs", "score_tasks", "source_stem"]
