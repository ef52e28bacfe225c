"""Draw the judged sample of predicted cross-plan pairs on a corpus home.

    PYTHONPATH=. python tests/data/links-real/sample.py HOME [N] [--seed S] > pairs.json
    PYTHONPATH=. python tests/data/links-real/sample.py --extractions DIR [DIR ...] [--cache FILE] [N] [--seed S]

(``--extractions``: no store, the linker is built on the records of the ``kehoach extract`` JSON
files of the folders, e.g. ../shared/eval/gold tests/data/links-real/extractions.)

Prints the number of tasks, multi-task clusters and distinct cross-plan pairs on stderr and a
JSON list of N random predicted pairs (both texts, plans, probability and evidence) on stdout,
for a person to judge with the rule of README.md (the verdicts live in sample50.json).
"""
from __future__ import annotations

import argparse
import json
import random
import sys


def verdicts(folder=None) -> dict[tuple[str, str], bool]:
    """(key a, key b) sorted -> judged the same commitment, from every judged sample of this folder
    (``sample50*.json``; keys "<file stem>:<task id>"), the majority where two samples disagree."""
    from collections import Counter, defaultdict
    from pathlib import Path
    votes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for f in sorted(Path(folder or Path(__file__).parent).glob("sample50*.json")):
        for x in json.loads(f.read_text("utf-8"))["pairs"]:
            if x.get("verdict"):
                a, b = sorted(f"{Path(x[s]['plan']).stem}:{x[s]['task']}" for s in ("a", "b"))
                votes[(a, b)][x["verdict"].startswith("same")] += 1
    return {p: c[True] > c[False] for p, c in votes.items()}


def predicted_pairs(linker) -> list[tuple[str, str]]:
    pairs = set()
    for c in linker.clusters():
        if len(c) < 2:
            continue
        for i, a in enumerate(c):
            for b in c[i + 1:]:
                if linker.tasks[a].plan != linker.tasks[b].plan:
                    pairs.add((a, b) if a < b else (b, a))
    return sorted(pairs)


def _from_extractions(dirs, cache):
    """A Linker on the records of the extraction files of ``dirs``, and plan key -> an object with
    its ``source``."""
    from pathlib import Path
    from types import SimpleNamespace
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.corpus.link import Linker, LinkModel, tasks_from_extraction
    from kehoach.corpus.segment import SegmentCache
    from kehoach.models import Extraction
    exts = [Extraction.from_dict(json.loads(p.read_text("utf-8"))) for d in dirs for p in sorted(Path(d).glob("*.json"))]
    linker = Linker(CachedEmbedder(get_embedder(None), cache), LinkModel.load(), segmenter=SegmentCache(cache))
    linker.add([t for e in exts for t in tasks_from_extraction(e)])
    return linker, {Path(e.source).stem: SimpleNamespace(source=e.source) for e in exts}


def main(argv=None) -> int:
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.corpus.link import evidence_text, linker_for_corpus
    from kehoach.corpus.store import Corpus
    ap = argparse.ArgumentParser()
    ap.add_argument("home", nargs="?")
    ap.add_argument("--extractions", nargs="+", default=None, metavar="DIR")
    ap.add_argument("--cache", default=None, help="sqlite embedding cache (with --extractions)")
    ap.add_argument("n", type=int, nargs="?", default=50)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args(argv)
    if a.extractions:
        linker, plans = _from_extractions(a.extractions, a.cache)
    else:
        corpus = Corpus(a.home)
        linker = linker_for_corpus(corpus, embedder=CachedEmbedder(get_embedder(None), corpus))
        plans = {str(p.id): p for p in corpus.plans()}
    pairs = predicted_pairs(linker)
    multi = [c for c in linker.clusters() if len(c) > 1]
    print(f"{len(linker.tasks)} tasks, {len(plans)} plans, {len(multi)} clusters of 2+ tasks, "
          f"{len(pairs)} distinct cross-plan pairs", file=sys.stderr)
    rng = random.Random(a.seed)
    pick = rng.sample(pairs, min(a.n, len(pairs)))
    out = []
    for x, y in pick:
        ev = linker.evidence(x, y)
        out.append({"a": {"plan": plans[linker.tasks[x].plan].source, "task": linker.tasks[x].task_id,
                          "text": linker.tasks[x].text},
                    "b": {"plan": plans[linker.tasks[y].plan].source, "task": linker.tasks[y].task_id,
                          "text": linker.tasks[y].text},
                    "prob": round(linker.prob(x, y), 4), "reason": evidence_text(ev), "verdict": None})
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
