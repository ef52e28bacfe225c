"""Can a learned pair judge reach the real corpus's link precision? Cross-validated by plan.

    .venv/bin/python benchmarks/bench_link_judge.py [--cache FILE] [--folds 7]

Builds the linker on the 35-plan real corpus of the link gold (the seeds' gold records and
``tests/data/links-real/extractions``) and labels every pair it can:

* ``judged``: the verdicts of every judged sample (``tests/data/links-real/sample50*.json``),
  read by a person with the rule of that folder's README;
* ``realgold``: pairs of named tasks of ``tests/data/links-real/links.json`` (inside one R
  cluster: the same; otherwise: not);
* ``seeds``: the seeds' candidate pairs and every pair of their gold tasks, by ``eval/links.json``.

Pairs that a corpus-independent rule never links (``Linker.unlinkable``: form lines, owner lists,
no action, own plan; "other document"; a procedure step with no shared basis) are left out.
Then, for each pair model, the plans are dealt round-robin into folds; a model is fitted on the
pairs of the other folds' plans only and scores the held-out pairs and every candidate pair of
the corpus. Printed: the pooled AUC / average precision over the labelled pairs, and for the
corpus's top-N candidate pairs by the held-out probability, how many are judged the same, not
the same, or were never judged. Models:

* ``shipped``: the shipped ``link_model.json`` probability (fitted on the seeds only; not refitted);
* ``features``: logistic regression on the linker's pair features plus the guards' signals
  (rarest shared phrase's plan share, plan similarity, template share, shared basis);
* ``features+e5``: the same plus the e5 vectors' product and absolute difference (768 values);
* ``boosted``: gradient-boosted trees on the features (scikit-learn, when installed).

Measured 2026-12-03 (docs/figures.md): no model puts 40 same-commitment pairs in its top 50.
"""
from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data" / "links-real"))

from kehoach.corpus import link as L  # noqa: E402
from kehoach.eval.data import add_shared_argument  # noqa: E402

LR = ROOT / "tests" / "data" / "links-real"


def _key(p: dict) -> str:
    return f"{Path(p['plan']).stem}:{p['task']}"


def labelled_pairs(linker, seeds_gold: Path) -> dict[tuple[str, str], tuple[int, str]]:
    T = linker.tasks
    lab: dict[tuple[str, str], tuple[int, str]] = {}
    for f in sorted(glob.glob(str(LR / "sample50*.json"))):
        for x in json.loads(Path(f).read_text("utf-8"))["pairs"]:
            if x.get("verdict"):
                a, b = sorted([_key(x["a"]), _key(x["b"])])
                lab[(a, b)] = (int(x["verdict"].startswith("same")), "judged")

    def gold(named, src, extra=()):
        keys = sorted(k for k in named if k in T)
        for a, b in [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]] + list(extra):
            if T[a].plan != T[b].plan:
                lab.setdefault((a, b), (int(bool(named.get(a, set()) & named.get(b, set()))), src))

    gold(L.load_gold_links(LR / "links.json"), "realgold")
    seeds = L.load_gold_links(seeds_gold)
    seed_plans = {T[k].plan for k in seeds if k in T}
    gold(seeds, "seeds", [(a, b) for a, b in linker.candidates if T[a].plan in seed_plans and T[b].plan in seed_plans])
    return {p: v for p, v in lab.items() if p[0] in T and p[1] in T}


def never_linked(linker, a: str, b: str) -> bool:
    """The corpus-independent rules: no real task, other documents, a procedure step."""
    if linker.unlinkable(a) or linker.unlinkable(b):
        return True
    ta, tb = linker.tasks[a], linker.tasks[b]
    if L.cite_other_documents(ta, tb):
        return True
    return ("relative" in (ta.deadline_kind, tb.deadline_kind) and not set(ta.refs) & set(tb.refs)
            and not linker.plan_basis(ta.plan, tb.plan))


def guard_signals(linker, a: str, b: str) -> list[float]:
    lex, T = linker.lex, linker.tasks
    phrase, df = lex.rarest_run(a, b, L.PHRASE_TOPIC_MAX)
    return [df / max(len(linker._plan_tasks), 1) if phrase else 1.0, min(len(phrase.split()), 8) / 8,
            lex.plan_similarity(T[a].plan, T[b].plan), max(lex.template_share(a), lex.template_share(b)),
            float(bool(linker.plan_basis(T[a].plan, T[b].plan)))]


def _auc_ap(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    order = np.argsort(-p)
    ys = y[order]
    pos, neg = ys.sum(), len(ys) - ys.sum()
    ranks = np.empty(len(p))
    ranks[np.argsort(p)] = np.arange(1, len(p) + 1)
    auc = (ranks[y == 1].sum() - pos * (pos + 1) / 2) / max(pos * neg, 1)
    hits = np.cumsum(ys)
    ap = float((hits / np.arange(1, len(ys) + 1))[ys == 1].mean()) if pos else 0.0
    return float(auc), ap


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=None, help="sqlite embedding cache (speeds a re-run)")
    ap.add_argument("--folds", type=int, default=7)
    ap.add_argument("--top", default="20,30,50,75,100")
    add_shared_argument(ap)
    a = ap.parse_args(argv)
    import sample
    linker, _ = sample._from_extractions([a.shared / "eval" / "gold", LR / "extractions"], a.cache)
    T = linker.tasks
    lab = labelled_pairs(linker, a.shared / "eval" / "links.json")
    data = [(p, y, s) for p, (y, s) in sorted(lab.items()) if not never_linked(linker, *p)]
    cands = [p for p in sorted(linker.candidates) if T[p[0]].plan != T[p[1]].plan and not never_linked(linker, *p)]
    feats = lambda ps: np.array([list(linker.features(*p)) + guard_signals(linker, *p) for p in ps])
    V = linker.index.vectors
    e5 = lambda ps: np.array([np.concatenate([V[linker.row[x]] * V[linker.row[y]], np.abs(V[linker.row[x]] - V[linker.row[y]])])
                              for x, y in ps])
    X, Xc = feats([p for p, _, _ in data]), feats(cands)
    E, Ec = e5([p for p, _, _ in data]), e5(cands)
    Y = np.array([y for _, y, _ in data], dtype=float)
    by_src = {}
    for _, y, s in data:
        by_src.setdefault(s, [0, 0])[y] += 1
    print(f"{len(T)} tasks, {len(linker._plan_tasks)} plans; labelled pairs a rule may link: {len(data)} "
          f"({', '.join(f'{s} {v[1]} same / {v[0]} not' for s, v in sorted(by_src.items()))}); "
          f"candidate pairs: {len(cands)}")
    plan = lambda k: T[k].plan
    plans = sorted({plan(k) for p in [d[0] for d in data] + cands for k in p})
    fold = {p: i % a.folds for i, p in enumerate(plans)}
    fd = np.array([min(fold[plan(x)], fold[plan(y)]) for (x, y), _, _ in data])
    fc = np.array([min(fold[plan(x)], fold[plan(y)]) for x, y in cands])

    def logistic(Z, l2):
        def fit(Ztr, ytr):
            w, b, m, s = L.fit_logistic(Ztr, ytr, l2=l2)
            return lambda Zt: 1 / (1 + np.exp(-(((Zt - m) / s) @ w + b)))
        return fit

    def boosted(Z, _):
        from sklearn.ensemble import HistGradientBoostingClassifier

        def fit(Ztr, ytr):
            m = HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=200, class_weight="balanced")
            m.fit(Ztr, ytr)
            return lambda Zt: m.predict_proba(Zt)[:, 1]
        return fit

    models = [("features", X, Xc, logistic, 1.0), ("features+e5", np.hstack([X, E]), np.hstack([Xc, Ec]), logistic, 100.0)]
    try:
        import sklearn  # noqa: F401
        models.append(("boosted", X, Xc, boosted, None))
    except ImportError:
        pass
    tops = [int(x) for x in a.top.split(",")]
    yc = np.array([lab.get(p, (-1, ""))[0] for p in cands])

    def show(name, pd, pc):
        auc, apr = _auc_ap(Y, pd)
        order = np.argsort(-pc, kind="stable")
        cells = []
        for n in tops:
            s = yc[order[:n]]
            cells.append(f"top {n}: {int((s == 1).sum())} same / {int((s == 0).sum())} not / {int((s == -1).sum())} unjudged")
        print(f"{name:12s} AUC {auc:.3f} AP {apr:.3f} | " + " | ".join(cells))

    show("shipped", np.array([linker.prob(*p) for p, _, _ in data]), np.array([linker.prob(*p) for p in cands]))
    for name, Z, Zc, kind, l2 in models:
        pd, pc = np.zeros(len(Y)), np.zeros(len(cands))
        for f in range(a.folds):
            train = np.array([fold[plan(x)] != f and fold[plan(y)] != f for (x, y), _, _ in data])
            if not train.any() or not (fd == f).any():
                continue
            m = kind(Z, l2)(Z[train], Y[train])
            pd[fd == f] = m(Z[fd == f])
            if (fc == f).any():
                pc[fc == f] = m(Zc[fc == f])
        show(name, pd, pc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
