"""The corpus store on SQLite vs PostgreSQL: ``kehoach add`` of the 11 real web plans, 4 concurrent adds,
and the write rate of the store alone (1 and 4 writer processes).

    .venv/bin/python benchmarks/bench_store_pg.py [--pg URL] [--copies 40] [--shared DIR]

Without ``--pg`` a throwaway cluster is started (tests/pgcluster.py: initdb in /tmp, unix socket,
``fsync=off``; say so when quoting the figures) and stopped at the end.

1. ``kehoach add --no-index`` of the 11 web plans, one process, into an empty store (wall, CPU of the
   child, plans/s; the process start and imports are included, as an officer sees them);
2. 4 ``kehoach add --no-index`` processes at once, each given 6 of the 11 (overlapping sets, as in
   tests/test_pg_concurrent.py), wall until the last one ends;
3. the store alone: the 11 extracted records written ``--copies`` times each under new paths and
   content hashes with ``Corpus.store`` (one transaction per plan), by 1 process, then by 4 processes
   at once (each a quarter), writes/s.
Each figure is printed with the load average: on a shared machine the wall figures move with it.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument, shared_dir  # noqa: E402

WRITER = r"""
import pickle, sys, time
sys.path.insert(0, sys.argv[4])
from kehoach.corpus.store import Corpus
items = pickle.load(open(sys.argv[2], "rb"))
k, n = map(int, sys.argv[3].split("/"))
c = Corpus(sys.argv[1])
mine = items[k::n]
t = time.perf_counter()
for path, doc, ext in mine:
    c.store(path, path, doc, ext)
print(len(mine), time.perf_counter() - t)
c.close()
"""


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_adds(home: Path, sets: list[Path], env: dict) -> tuple[float, float, list[dict]]:
    cmd = [sys.executable, "-m", "kehoach", "--home", str(home), "add", "--no-index", "--format", "json", "-q"]
    c0, t0 = child_cpu(), time.perf_counter()
    procs = [subprocess.Popen(cmd + [str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for d in sets]
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - t0
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise SystemExit(f"kehoach add failed: {err[-2000:]}")
    return wall, child_cpu() - c0, [json.loads(o) for o, _ in outs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", help="PostgreSQL URL of an empty database (default: a throwaway cluster)")
    ap.add_argument("--copies", type=int, default=40, help="store-only: writes per web plan (default 40)")
    add_shared_argument(ap)
    a = ap.parse_args()
    web = sorted((shared_dir(a.shared) / "real" / "web").glob("*.txt"))
    assert len(web) == 11, web
    cluster = None
    if a.pg:
        base_url = a.pg
    else:
        sys.path.insert(0, str(ROOT))
        from tests.pgcluster import Cluster
        cluster = Cluster.start()
        base_url = cluster.url
    tmp = Path(tempfile.mkdtemp(prefix="kehoach-bench-pg-"))
    try:
        src = tmp / "web"
        src.mkdir()
        for p in web:
            shutil.copy(p, src / p.name)
        files = sorted(src.iterdir())
        sets = []
        for k in range(4):
            d = tmp / f"set{k}"
            d.mkdir()
            for i in range(6):
                p = files[(3 * k + i) % len(files)]
                (d / p.name).symlink_to(p)
            sets.append(d)

        # extracted once, for the store-only runs
        from kehoach.corpus.store import ingest_and_extract
        items = []
        base = [ingest_and_extract(p, str(p)) for p in files]
        for j in range(a.copies):
            for p, (doc, ext) in zip(files, base):
                d2 = pickle.loads(pickle.dumps(doc))
                d2.sha256 = f"{j:08x}{doc.sha256[8:]}"
                items.append((str(tmp / "copies" / f"{j}-{p.name}"), d2, ext))
        blob = tmp / "items.pickle"
        blob.write_bytes(pickle.dumps(items))
        writer = tmp / "writer.py"
        writer.write_text(WRITER, encoding="utf-8")

        import psycopg
        results = {}
        for backend in ("sqlite", "postgresql"):
            def fresh(tag: str) -> tuple[dict, Path]:
                env = {k: v for k, v in os.environ.items() if k != "KEHOACH_STORE"}
                env["PYTHONPATH"] = str(ROOT)
                if backend == "postgresql":
                    schema = f"b_{tag}_{os.getpid()}"
                    with psycopg.connect(base_url, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                        conn.execute(f"CREATE SCHEMA {schema}")
                    from tests.pgcluster import with_schema
                    env["KEHOACH_STORE"] = with_schema(base_url, schema)
                return env, tmp / f"home-{backend}-{tag}"

            env, home = fresh("one")
            wall, cpu, reps = run_adds(home, [src], env)
            n = sum(len(r["added"]) for r in reps)
            results[(backend, "add x1")] = (n, wall, cpu, load())
            env, home = fresh("four")
            wall, cpu, reps = run_adds(home, sets, env)
            n = sum(len(r["added"]) for r in reps)
            results[(backend, "add x4")] = (n, wall, cpu, load())
            for procs in (1, 4):
                env, home = fresh(f"store{procs}")
                subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[2]); "
                                "from kehoach.corpus.store import Corpus; Corpus(sys.argv[1]).close()",
                                str(home), str(ROOT)], env=env, check=True)      # schema made before the clock
                c0, t0 = child_cpu(), time.perf_counter()
                ps = [subprocess.Popen([sys.executable, str(writer), str(home), str(blob), f"{k}/{procs}", str(ROOT)],
                                       stdout=subprocess.PIPE, text=True, env=env) for k in range(procs)]
                outs = [p.communicate()[0].split() for p in ps]
                wall = time.perf_counter() - t0
                n = sum(int(o[0]) for o in outs)
                write_wall = max(float(o[1]) for o in outs)
                results[(backend, f"store x{procs}")] = (n, write_wall, child_cpu() - c0, load())
                print(f"  {backend} store x{procs}: {n} writes, {write_wall:.2f} s writing "
                      f"({wall:.1f} s with start-up)", file=sys.stderr)
        print(f"{'backend':<11} {'run':<9} {'plans':>5} {'wall s':>8} {'plans/s':>8} {'child CPU s':>11}  load")
        for (backend, run), (n, wall, cpu, ld) in results.items():
            print(f"{backend:<11} {run:<9} {n:>5} {wall:>8.2f} {n / wall:>8.1f} {cpu:>11.1f}  {ld}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
