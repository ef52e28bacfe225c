"""Bulk ingest benchmark: documents/s of a plain ``kehoach add`` vs ``--engine dask`` with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_bulk.py [--n 400] [--pdf 20] [--workers 1,2] [--shared DIR]

1. generates ``--n`` TXT and ``--pdf`` PDF plans with ``benchmarks/make_corpus.py``;
2. plain ``Corpus.add`` (after a warm-up extraction, so the model imports are not timed);
3. ``bulk_add`` on a LocalCluster of 1, then 2 worker processes (1 thread each); the cluster is
   started and warmed (extraction imported on every worker) before the clock starts, and its start
   is printed apart;
4. the store's write rate alone: the extracted records of step 2 written again with
   ``Corpus.store`` into a fresh corpus (what the single client writer does per plan);
5. the scaling expected past 2 workers, from the measured CPU per document on the workers and on
   the client (the writer): docs/s(W) ~ min(W / worker CPU per doc, 1 / client CPU per doc).

Wall time, CPU (client and workers) and the load average are printed with every figure: on a shared
machine the wall figures move with the load, the CPU per document does not.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kehoach.eval.data import add_shared_argument  # noqa: E402


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker_cpu() -> float:
    """CPU seconds this worker process has used (run on the workers with ``client.run``)."""
    import psutil
    t = psutil.Process().cpu_times()
    return t.user + t.system


def warm() -> str:
    """Import what extraction imports, on a worker."""
    from kehoach.corpus.store import ingest_and_extract
    import kehoach.extract  # noqa: F401
    import kehoach.extract.nlp as nlp
    nlp.pipeline()
    nlp.verb_offset("Sở Y tế nâng cấp hệ thống")
    return ingest_and_extract.__module__


def load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def line(label: str, n: int, wall: float, cpu_client: float, cpu_workers: float = 0.0) -> str:
    cpu = cpu_client + cpu_workers
    return (f"{label:<24} {n:>5} docs  {wall:7.1f} s wall  {n / wall:6.2f} docs/s  "
            f"CPU {cpu:6.1f} s (client {cpu_client:5.1f}, workers {cpu_workers:5.1f}) "
            f"= {1000 * cpu / n:5.1f} ms/doc  [{load()}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400, help="generated TXT plans")
    ap.add_argument("--pdf", type=int, default=20, help="generated PDF plans")
    ap.add_argument("--workers", default="1,2", help="worker counts to run (comma separated)")
    ap.add_argument("--batch", type=int, default=64)
    add_shared_argument(ap)
    a = ap.parse_args()
    os.environ["KEHOACH_SHARED"] = str(a.shared)      # make_corpus reads the seeds through tests/shared.py
    from make_corpus import make_corpus
    import distributed
    from kehoach.corpus.bulk import bulk_add
    from kehoach.corpus.store import Corpus, ingest_and_extract
    from kehoach.models import IngestedDocument

    tmp = Path(tempfile.mkdtemp(prefix="kehoach-bench-bulk-"))
    paths = make_corpus(tmp / "in" / "txt", a.n, ("txt",), seed=0)
    paths += make_corpus(tmp / "in" / "pdf", a.pdf, ("pdf",), seed=1)
    args = [str(tmp / "in")]
    print(f"{len(paths)} plans ({a.n} TXT, {len(paths) - a.n} PDF) in {tmp / 'in'}; {os.cpu_count()} CPUs; {load()}")

    # plain add, warmed
    for p in (paths[0], paths[-1]):                       # warm-up: one TXT, one PDF (imports, caches)
        ingest_and_extract(p, str(p))
    home = tmp / "plain"
    c0, t0 = cpu_self(), time.perf_counter()
    with Corpus(home) as c:
        r = c.add(args, progress=False)
    wall, cpu = time.perf_counter() - t0, cpu_self() - c0
    assert not r.failed, r.failed
    n = len(r.added)
    print(line("plain add", n, wall, cpu))
    results = {"plain": n / wall}

    for w in [int(x) for x in a.workers.split(",") if x]:
        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                           dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                           silence_logs=40)
        client = distributed.Client(cluster)
        client.run(warm)
        start = time.perf_counter() - t0
        before = sum(client.run(worker_cpu).values())
        c0, t0 = cpu_self(), time.perf_counter()
        with Corpus(tmp / f"dask{w}") as c:
            r = bulk_add(c, args, scheduler=client, batch=a.batch, progress=False)
        wall, cpu = time.perf_counter() - t0, cpu_self() - c0
        wcpu = sum(client.run(worker_cpu).values()) - before
        client.close()
        cluster.close()
        assert not r.failed and len(r.added) == n, (r.summary(), r.failed[:3])
        print(line(f"dask, {w} worker{'s' if w > 1 else ''}", n, wall, cpu, wcpu)
              + f"  (cluster start + warm-up {start:.1f} s, not timed)")
        results[w] = (n / wall, cpu / n, wcpu / n)

    # the single writer alone: the same records stored again into a fresh corpus
    src = Corpus(home, readonly=True)
    items = []
    for p in src.plans():
        ext = src.extraction(p.id)
        items.append((p.source, p.path, IngestedDocument(source=p.source, sha256=p.sha256, format=p.format or "txt",
                                                          text=src.text(p.id), blocks=[]), ext))
    src.close()
    c0, t0 = cpu_self(), time.perf_counter()
    with Corpus(tmp / "store") as c:
        for source, path, doc, ext in items:
            c.store(source, path, doc, ext)
    wall, cpu = time.perf_counter() - t0, cpu_self() - c0
    print(line("store only (1 writer)", len(items), wall, cpu) + f"  = {len(items) / wall:.0f} transactions/s")
    store_rate = len(items) / cpu

    ws = [k for k in results if k != "plain"]
    if ws:
        w = max(ws)
        _, client_per_doc, worker_per_doc = results[w]
        cap = 1 / client_per_doc
        print()
        print(f"expected past {w} workers (from CPU per doc, not wall): each worker does {1000 * worker_per_doc:.0f} ms "
              f"of CPU per doc -> {1 / worker_per_doc:.1f} docs/s per worker core; the client (writer + Dask "
              f"bookkeeping) spends {1000 * client_per_doc:.1f} ms per doc -> caps the job at ~{cap:.0f} docs/s; "
              f"the store alone writes ~{store_rate:.0f} plans per CPU second.")
        for k in (4, 8, 16, 32, 64):
            print(f"  {k:>3} workers: ~{min(k / worker_per_doc, cap):7.1f} docs/s "
                  f"({'worker-bound' if k / worker_per_doc < cap else 'writer-bound'})")
    print(f"(temporary files in {tmp}; {load()})")


if __name__ == "__main__":
    main()
