"""The search score: ranked hits per query against the gold tasks each query names.

A hit names a relevant gold task when it comes from the same source and shares >= 0.6 of the
shorter side's bigrams with the task's text. Per query: recall@k of the relevant tasks, the
reciprocal rank of the first relevant hit; for queries naming owners, whether a lead of the top
three hits is one of them (``match.body_match``).
"""
from __future__ import annotations

import json
from pathlib import Path

from kehoach.eval.extract import load_gold, source_stem
from kehoach.eval.match import bigrams, body_match, overlap_of_shorter

HIT_MATCH = 0.6   # share of the shorter side's bigrams for a hit to be a gold task
OWNER_TOP = 3     # hits whose leads answer "who owns it"


def search_report(queries_path, gold_dir, pred_path, k: int = 10) -> tuple[dict, dict]:
    """(summary, per-query detail). PRED: ``{"<query id>": [{"source", "text", "lead"?}, ...]}``, best first."""
    queries = json.loads(Path(queries_path).read_text("utf-8"))
    gold = load_gold(gold_dir)
    pred = json.loads(Path(pred_path).read_text("utf-8"))
    task_bg = {(name, t["id"]): bigrams(t["text"]) for name, g in gold.items() for t in g.get("tasks") or []}
    recalls, rranks, owner_hits, owner_total, rows = [], [], 0, 0, {}
    for q in queries:
        relevant = {(r["source"], r["task"]) for r in q["relevant"]}
        hits = pred.get(q["id"], [])[:k]
        first, got = None, set()
        for rank, h in enumerate(hits, 1):
            hb, hs = bigrams(h.get("text", "")), source_stem(h.get("source"))
            for key in relevant:
                gb = task_bg.get(key)
                if key[0] == hs and gb and hb and overlap_of_shorter(hb, gb) >= HIT_MATCH:
                    got.add(key)
                    first = first or rank
        recalls.append(len(got) / max(len(relevant), 1))
        rranks.append(1 / first if first else 0.0)
        if q.get("owners"):
            owner_total += 1
            leads = [lead for h in hits[:OWNER_TOP] for lead in (h.get("lead") or [])]
            owner_hits += any(body_match(o, lead) for o in q["owners"] for lead in leads)
        rows[q["id"]] = {"recall": round(recalls[-1], 2), "first_relevant_rank": first}
    summary = {"queries": len(queries), f"recall@{k}": round(sum(recalls) / max(len(recalls), 1), 3),
               "mrr": round(sum(rranks) / max(len(rranks), 1), 3),
               "owner_top3_acc": round(owner_hits / max(owner_total, 1), 3)}
    return summary, rows
