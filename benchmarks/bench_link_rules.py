"""The link guards' precision on the real corpus, cross-validated by plan.

    .venv/bin/python benchmarks/bench_link_rules.py [--cache FILE] [--folds 7]

Builds the linker on the 35-plan real corpus of the link gold (the seeds' gold records and
``tests/data/links-real/extractions``) with the shipped model, and predicts its cross-plan pairs
(every pair inside one commitment cluster, as ``tests/data/links-real/sample.py`` counts them) for
each setting of the two guards of a large corpus that have a choice to make:

* ``TITLE_MIN``: plans whose titles are less alike (``Linker.title_similarity``) are two subjects
  ("other subject"), unless one cites the other; 0 is off;
* the nearest rule ("not the nearest"): on or off.

Every predicted pair is looked up in the judged samples (``tests/data/links-real/sample50*.json``,
read by a person with the rule of that folder's README; the majority verdict where two disagree).

Printed: for each setting, the predicted pairs and how many are judged the same, not the same, or
were never judged (in-sample: the settings were chosen on these verdicts); then the
cross-validated figure. Plans are dealt round-robin into folds, a pair belongs to the fold of its
first plan; for each fold the setting is chosen on the pairs of the other folds (the most pairs
judged the same minus 4 x those judged not: the choice a precision of 0.8 pays for), and the pairs
of the held-out fold that this setting predicts are counted. The pooled held-out counts are the
figure to report (docs/figures.md).
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data" / "links-real"))

from kehoach.corpus import link as L  # noqa: E402
from kehoach.eval.data import add_shared_argument  # noqa: E402

LR = ROOT / "tests" / "data" / "links-real"
TITLES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def predicted(linker, title_min: float, nearest: bool) -> set[tuple[str, str]]:
    import sample
    L.TITLE_MIN = title_min
    L.NEAREST_MIN_PLANS = 10 if nearest else 10 ** 9
    linker._probs.clear()
    return set(sample.predicted_pairs(linker))


def counts(pairs, V) -> tuple[int, int, int]:
    same = sum(V.get(p) is True for p in pairs)
    other = sum(V.get(p) is False for p in pairs)
    return same, other, len(pairs) - same - other


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=None, help="sqlite embedding cache (speeds a re-run)")
    ap.add_argument("--folds", type=int, default=7)
    add_shared_argument(ap)
    a = ap.parse_args(argv)
    import sample
    linker, _ = sample._from_extractions([a.shared / "eval" / "gold", LR / "extractions"], a.cache)
    V = sample.verdicts()
    shipped = (L.TITLE_MIN, L.NEAREST_MIN_PLANS)
    settings = [(t, n) for n in (False, True) for t in TITLES]
    pred = {s: predicted(linker, *s) for s in settings}
    L.TITLE_MIN, L.NEAREST_MIN_PLANS = shipped
    print(f"{len(linker.tasks)} tasks, {len(linker._plan_tasks)} plans, {len(V)} judged pairs")
    print("| TITLE_MIN | nearest | predicted pairs | same / not / unjudged (in-sample) |")
    print("|---|---|---|---|")
    for s in settings:
        print(f"| {s[0]} | {'on' if s[1] else 'off'} | {len(pred[s])} | {' / '.join(map(str, counts(pred[s], V)))} |")
    plans = sorted(linker._plan_tasks)
    fold = {p: i % a.folds for i, p in enumerate(plans)}
    fold_of = lambda p: min(fold[linker.tasks[p[0]].plan], fold[linker.tasks[p[1]].plan])
    held = [0, 0, 0]
    chosen = []
    for f in range(a.folds):
        def utility(s):
            same, other, _ = counts({p for p in pred[s] if fold_of(p) != f}, V)
            return same - 4 * other
        best = max(settings, key=lambda s: (utility(s), s[1], s[0]))
        chosen.append(best)
        for i, x in enumerate(counts({p for p in pred[best] if fold_of(p) == f}, V)):
            held[i] += x
    n = sum(held)
    print(f"\ncross-validated by plan ({a.folds} folds): settings chosen {collections.Counter(chosen).most_common()}; "
          f"held-out predicted pairs {n}: {held[0]} same / {held[1]} not / {held[2]} unjudged "
          f"(precision of the judged {held[0] / max(held[0] + held[1], 1):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
