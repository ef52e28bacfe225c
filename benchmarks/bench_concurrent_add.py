"""Two ``kehoach add`` processes on one corpus home, against one process doing the same work.

    .venv/bin/python benchmarks/bench_concurrent_add.py [--shared DIR] [--no-index] [--files N]

The real web plans (``SHARED/real/web``), each scenario on a fresh home:
1. one process adds all N plans (with the link index: extraction + embedding + linking);
2. two processes both add all N (full overlap): target about the time of (1), not twice it;
3. two processes add disjoint halves: target about the time of (1) or less (they extract in
   parallel; the index hooks take turns).
Prints wall seconds, the files each process extracted, and the 1-minute load average (the machine
may be shared).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument  # noqa: E402


def run(home: Path, sets: list[list[Path]], no_index: bool) -> tuple[float, list[dict]]:
    cmd = [sys.executable, "-m", "kehoach", "--home", str(home), "add", "--format", "json"]
    if no_index:
        cmd.append("--no-index")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd + [str(p) for p in s], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for s in sets]
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - t0
    reports = []
    for p, (out, err) in zip(procs, outs):
        if p.returncode not in (0, 3):
            raise SystemExit(f"add failed ({p.returncode}): {err.strip().splitlines()[-1:]}")
        reports.append(json.loads(out))
    return wall, reports


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_argument(ap)
    ap.add_argument("--files", type=int, default=0, help="only the first N web plans (default all)")
    ap.add_argument("--no-index", action="store_true", help="store only (no link/embedding hooks)")
    args = ap.parse_args(argv)
    plans = sorted((Path(args.shared) / "real" / "web").glob("*.txt"))
    if args.files:
        plans = plans[:args.files]
    half = len(plans) // 2
    scenarios = [("one process, all", [plans]),
                 ("two processes, same files", [plans, plans]),
                 ("two processes, disjoint halves", [plans[:half], plans[half:]])]
    print(f"{len(plans)} web plans, index hooks {'off' if args.no_index else 'on'}, "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, sets) in enumerate(scenarios):
            wall, reports = run(Path(tmp) / f"H{k}", sets, args.no_index)
            base = base or wall
            ex = [r["extracted"] for r in reports]
            print(f"{name:<32} {wall:7.1f} s  ({wall / base:4.2f} x one)  extracted per process {ex}  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
