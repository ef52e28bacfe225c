"""Load on a real ``kehoach serve``: searches from 8 client threads while an ``add`` runs and the
registry is read in parallel.

    .venv/bin/python benchmarks/bench_load.py [--shared DIR] [--home HOME] [--searches 2000]
                                              [--threads 8] [--registry-readers 2] [--no-dense]

The home (``--home``, copied first so it is left as it was; else one made here from the seeds and
the real web plans with ``kehoach add``) is served on a free port; then, at once: ``--threads``
threads run ``--searches`` searches (httpx, queries drawn from the seed plans' task words),
``--registry-readers`` threads read /api/registry in a loop, and ``kehoach add`` adds the real HTML
documents (a new generation: the registry is computed again, the search index rebuilt behind the
old one). Prints p50/p95/max per route, errors, the add's time and the load average (the machine
may be shared). Target: search p95 < 300 ms while the registry is read.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument  # noqa: E402

QUERIES = ["chuyển đổi số", "thanh toán trực tuyến", "dịch vụ công", "Sở Y tế", "phòng chống dịch",
           "cải cách hành chính", "giáo dục", "an toàn thực phẩm", "báo cáo định kỳ", "nông thôn mới",
           "du lịch", "môi trường", "quy hoạch", "kinh phí", "văn hóa", "ai chủ trì chuyển đổi số",
           "nhiệm vụ quá hạn", "tuyên truyền", "đào tạo nguồn nhân lực", "hạ tầng số"]


def _kehoach(*args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "kehoach", *args], env=env, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main(argv=None) -> int:
    import httpx
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_argument(ap)
    ap.add_argument("--home", help="a corpus home to serve (copied first)")
    ap.add_argument("--searches", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--registry-readers", type=int, default=2)
    ap.add_argument("--no-dense", action="store_true", help="lexical search only (no query embedding)")
    ap.add_argument("--no-add", action="store_true", help="no add during the run")
    args = ap.parse_args(argv)
    shared = Path(args.shared)
    tmp = Path(tempfile.mkdtemp(prefix="kehoach-load-"))
    try:
        home = tmp / "home"
        if args.home:
            shutil.copytree(args.home, home, ignore=shutil.ignore_patterns("*.lock", "kehoach.claims"))
        else:
            t0 = time.perf_counter()
            p = _kehoach("--home", str(home), "add", "-q", str(shared / "seeds"), str(shared / "real" / "web"))
            p.wait()
            print(f"home made in {time.perf_counter() - t0:.0f} s")
        port = _free_port()
        serve = _kehoach("--home", str(home), "serve", "--port", str(port), *(["--no-dense"] if args.no_dense else []),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        while True:
            try:
                httpx.get(base + "/api/plans", timeout=5)
                break
            except httpx.TransportError:
                if serve.poll() is not None:
                    raise SystemExit(f"serve failed: {serve.stderr.read()[-500:]}")
                time.sleep(0.5)
        print(f"server up in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        times: dict[str, list[float]] = {"search": [], "registry": []}
        errors: dict[str, list[str]] = {"search": [], "registry": []}
        lock = threading.Lock()
        todo = iter(range(args.searches))
        stop = threading.Event()

        def timed(route: str, client, url: str, **params) -> None:
            t = time.perf_counter()
            try:
                r = client.get(url, params=params, timeout=600)
                ok = r.status_code == 200
                why = f"{r.status_code} {r.text[:80]}"
            except httpx.HTTPError as e:
                ok, why = False, type(e).__name__
            dt = time.perf_counter() - t
            with lock:
                times[route].append(dt)
                if not ok:
                    errors[route].append(why)

        def searcher(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base) as c:
                while True:
                    with lock:
                        n = next(todo, None)
                    if n is None:
                        return
                    timed("search", c, "/api/search", q=rng.choice(QUERIES), limit=10)

        def reader() -> None:
            with httpx.Client(base_url=base) as c:
                while not stop.is_set():
                    timed("registry", c, "/api/registry")

        readers = [threading.Thread(target=reader) for _ in range(args.registry_readers)]
        searchers = [threading.Thread(target=searcher, args=(k,)) for k in range(args.threads)]
        t0 = time.perf_counter()
        for t in readers:
            t.start()
        add = None if args.no_add else _kehoach("--home", str(home), "add", "-q", str(shared / "real" / "html"),
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        for t in searchers:
            t.start()
        for t in searchers:
            t.join()
        wall = time.perf_counter() - t0
        add_s = None
        if add is not None:
            add.wait()
            add_s = time.perf_counter() - t0
        stop.set()
        for t in readers:
            t.join()
        serve.terminate()
        serve.wait(timeout=60)
        print(f"{args.searches} searches from {args.threads} threads in {wall:.1f} s"
              + (f"; add of the real HTML documents done after {add_s:.0f} s" if add_s else "")
              + f"; load average at the end {os.getloadavg()[0]:.1f}")
        print(f"{'route':<10} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'errors':>7}")
        for route, xs in times.items():
            print(f"{route:<10} {len(xs):>6} {_pct(xs, .5) * 1000:>9.0f} {_pct(xs, .95) * 1000:>9.0f} "
                  f"{max(xs, default=float('nan')) * 1000:>9.0f} {len(errors[route]):>7}")
            for why in sorted(set(errors[route]))[:5]:
                print(f"    error: {why}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
