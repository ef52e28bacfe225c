"""The link score: predicted clusters of tasks (the same commitment across plans) against gold clusters.

Scored on cross-plan pairs among the tasks the gold clusters name. A predicted task is the gold-named
task of its source sharing the most (>= 0.6 of the shorter side's) bigrams with it; a predicted pair
of two gold-named tasks from different plans is right when some gold cluster holds both (a task can
serve several commitments), a false link otherwise; gold pairs not predicted are misses.
"""
from __future__ import annotations

import json
from pathlib import Path

from kehoach.eval.extract import load_gold, source_stem
from kehoach.eval.match import bigrams, f1, overlap_of_shorter

MEMBER_MATCH = 0.6


def _pairs(keys) -> set[tuple]:
    keys = sorted(keys)
    return {(a, b) for i, a in enumerate(keys) for b in keys[i + 1:] if a[0] != b[0]}


def _label(pair) -> str:
    a, b = pair
    return f"{a[0][:3]}:{a[1]}~{b[0][:3]}:{b[1]}"


def links_report(links_path, gold_dir, pred_path) -> tuple[dict, dict]:
    """(summary, missed and false links). PRED: a list of clusters, each a list of ``{"source", "text"}``."""
    clusters = json.loads(Path(links_path).read_text("utf-8"))
    gold = load_gold(gold_dir)
    pred = json.loads(Path(pred_path).read_text("utf-8"))
    text = {(n, t["id"]): bigrams(t["text"]) for n, g in gold.items() for t in g.get("tasks") or []}
    named: dict[tuple, set] = {}     # gold task -> the gold clusters it belongs to
    for c in clusters:
        for t in c["tasks"]:
            named.setdefault((t["source"], t["task"]), set()).add(c["id"])

    def gold_task_of(task: dict):
        hb, hs = bigrams(task.get("text", "")), source_stem(task.get("source"))
        best, best_frac = None, 0.0
        for key in named:
            gb = text.get(key)
            if key[0] != hs or not gb or not hb:
                continue
            frac = overlap_of_shorter(hb, gb)
            if frac >= MEMBER_MATCH and frac > best_frac:
                best, best_frac = key, frac
        return best

    pred_pairs = set()
    for cluster in pred:
        pred_pairs |= _pairs({k for k in (gold_task_of(t) for t in cluster) if k})
    gold_pairs = {(a, b) for a, b in _pairs(named) if named[a] & named[b]}
    tp = len(pred_pairs & gold_pairs)
    p, r = tp / max(len(pred_pairs), 1), tp / max(len(gold_pairs), 1)
    summary = {"gold_pairs": len(gold_pairs), "pred_pairs": len(pred_pairs), "link_precision": round(p, 3),
               "link_recall": round(r, 3), "link_f1": round(f1(p, r), 3)}
    return summary, {"missed": sorted(_label(x) for x in gold_pairs - pred_pairs),
                     "false_links": sorted(_label(x) for x in pred_pairs - gold_pairs)}
