"""Search benchmark on generated corpora, with bm25s (the PyPI package) as the lexical peer.

    .venv/bin/python benchmarks/bench_search.py [--sizes 10000,100000,1000000] [--queries 200]

For each size it builds the index in this process and saves it, then starts a fresh process
that loads it the way ``kehoach search`` does (arrays memory-mapped) and measures:
* cold start: process start -> imports -> index loaded -> query embedder loaded -> first answer;
* RSS of that serving process (current and peak);
* lexical, dense and hybrid latency p50/p95 (dense/hybrid include a real query embedding);
and builds bm25s on the same texts and the same tokens (the folded-syllable field, same k1/b)
to print side by side: build time, query p50/p95, RSS growth, top-10 agreement with ours.

What is synthetic (printed again with the figures):
* task texts: recombined 3-6-word runs of the real seed tasks (shared gold records),
  so the vocabulary and word statistics are Vietnamese administrative text;
* the word field uses syllables (the real index segments words with underthesea;
  its throughput is measured separately on real tasks and printed as an extrapolation);
* passage vectors: random unit vectors (384-d, e5's size), not model outputs;
* query vectors: the real multilingual-e5 model on distinct queries, cache cold.
Plans, owners, deadlines are random draws from the gold records.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument  # noqa: E402


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process, MiB."""
    got = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            got[line.split(":")[0]] = int(line.split()[1]) / 1024
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


def pct(xs, p):
    return float(np.percentile(np.array(xs) * 1000, p))


def seed_docs(shared: Path):
    from kehoach.models import Extraction
    from kehoach.search.hybrid import docs_from_extractions
    exs = [(i, Extraction.from_dict(json.loads(p.read_text("utf-8"))))
           for i, p in enumerate(sorted((shared / "eval" / "gold").glob("*.json")), 1)]
    return docs_from_extractions(exs)


def synth(seed, n: int, rng: random.Random):
    from kehoach.search.hybrid import SearchDoc
    words = [t.text.split() for t in seed]
    for i in range(n):
        parts = []
        for _ in range(rng.randint(3, 6)):
            w = words[rng.randrange(len(words))]
            a = rng.randrange(max(1, len(w) - 3))
            parts.extend(w[a:a + rng.randint(3, 6)])
        src = seed[rng.randrange(len(seed))]
        pid = i // 100
        plan = dict(src.plan, id=pid, number=f"{pid}/KH-UBND")
        yield SearchDoc(key=f"{pid}:t{i}", source=f"synthetic/{pid}.txt", plan_id=pid, task_id=f"t{i}",
                        kind=src.kind, section=src.section, text=" ".join(parts), lead=src.lead,
                        support=src.support, deadline=src.deadline, targets=[], span=None, plan=plan)


def queries(shared: Path, texts: list[str], n: int, rng: random.Random) -> list[str]:
    qs = [q["q"] for q in json.loads((shared / "eval" / "queries.json").read_text("utf-8"))]
    while len(qs) < n:
        w = texts[rng.randrange(len(texts))].split()
        a = rng.randrange(max(1, len(w) - 3))
        qs.append(" ".join(w[a:a + rng.randint(2, 5)]))
    return qs[:n]


# ---------------------------------------------------------------- the serving process

def serve(folder: Path, qfile: Path, t_spawn: float) -> int:
    """Load the saved index as ``kehoach search`` does and time queries; one JSON line on stdout."""
    from kehoach.corpus.embed import get_embedder
    from kehoach.search.hybrid import SearchIndex
    emb = get_embedder("e5")
    idx = SearchIndex.load(folder, emb)
    qs = json.loads(qfile.read_text("utf-8"))
    idx.search(qs[0], limit=10, mode="hybrid")
    cold = time.time() - t_spawn
    rss_loaded = rss_mb()[0]
    lat = {"lexical": [], "dense": [], "hybrid": []}
    for mode in ("lexical", "dense", "hybrid"):
        idx.set_embedder(emb)            # a fresh query cache: every query is embedded
        for q in qs[1:]:
            t = time.perf_counter()
            idx.search(q, limit=10, mode=mode)
            lat[mode].append(time.perf_counter() - t)
    # our lexical top-10 on the peer's terms (one field, the folded syllables), for the agreement figure
    from kehoach.search.lexical import top_k
    from kehoach.search.text import folded_tokens
    f = idx.lexical.fields["syl"]
    ours_top = []
    t_one = []
    for q in qs[1:]:
        t = time.perf_counter()
        s = f.scores(folded_tokens(q))
        ids, _ = top_k(s, 10)
        t_one.append(time.perf_counter() - t)
        ours_top.append(ids.tolist())
    cur, peak = rss_mb()
    print(json.dumps({"cold_start_s": cold, "rss_loaded_mb": rss_loaded, "rss_mb": cur, "rss_peak_mb": peak,
                      "compressed": bool(idx.dense is not None and idx.dense.compressed),
                      **{f"{m}_p50": pct(v, 50) for m, v in lat.items()},
                      **{f"{m}_p95": pct(v, 95) for m, v in lat.items()},
                      "one_field_p50": pct(t_one, 50), "one_field_p95": pct(t_one, 95), "top10": ours_top}))
    return 0


# ---------------------------------------------------------------- the peer

def peer(texts: list[str], qs: list[str]) -> dict:
    try:
        import bm25s
    except ImportError:
        return {}
    from kehoach.search.text import folded_tokens
    before = rss_mb()[0]
    t = time.perf_counter()
    corpus_tokens = [folded_tokens(x) for x in texts]
    model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    model.index(corpus_tokens, show_progress=False)
    build = time.perf_counter() - t
    vocab = model.vocab_dict
    lat, top = [], []
    for q in qs:
        toks = [x for x in folded_tokens(q) if x in vocab]
        t = time.perf_counter()
        if toks:
            res, scores = model.retrieve([toks], k=10, show_progress=False, n_threads=1)
            ids = [int(i) for i, s in zip(res[0], scores[0]) if s > 0]
        else:
            ids = []
        lat.append(time.perf_counter() - t)
        top.append(ids)
    return {"build_s": build, "p50": pct(lat, 50), "p95": pct(lat, 95), "rss_growth_mb": rss_mb()[0] - before,
            "top10": top}


def overlap(a: list[list[int]], b: list[list[int]]) -> float:
    vals = [len(set(x) & set(y)) / max(len(x), len(y)) for x, y in zip(a, b) if x or y]
    return float(np.mean(vals)) if vals else 1.0


def tie_aware(folder: Path, qs: list[str], peer_top: list[list[int]]) -> float:
    """Share of the peer's top-10 that our one-field BM25 also ranks in its top 10, counting
    equal scores as equal ranks (recombined texts give many exact ties)."""
    from kehoach.search.hybrid import SearchIndex
    from kehoach.search.text import folded_tokens
    f = SearchIndex.load(folder).lexical.fields["syl"]
    vals = []
    for q, top in zip(qs, peer_top):
        if not top:
            continue
        s = f.scores(folded_tokens(q))
        kth = np.sort(s)[-min(10, len(s))]
        vals.append(float(np.mean([s[i] >= kth - 1e-4 * max(1.0, abs(kth)) for i in top])))
    return float(np.mean(vals)) if vals else 1.0


# ---------------------------------------------------------------- one plan added to a large home

class _RandomEmbedder:
    """Random unit vectors under the real model's name: fills the embedding cache of the synthetic
    tasks (so that the hooks find them embedded, as after a real add) without hours of e5."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim
        self._rng = np.random.default_rng(11)

    def embed_passages(self, texts):
        v = self._rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_home(home: Path, seed, n: int, rng: random.Random) -> None:
    """A corpus home of ``n`` synthetic tasks in plans of 30 (stored through ``Corpus.store``), its
    search index saved as the add hook would have left it (real word segmentation, random vectors
    under e5's name) and the embedding cache holding those vectors."""
    import hashlib
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.corpus.store import Corpus
    from kehoach.models import Extraction
    from kehoach.search.fixtures import store_records
    from kehoach.search.hybrid import SearchIndex, docs_from_corpus
    from kehoach.search.service import INDEX_DIR, plan_fingerprints
    gold = sorted((Path(__file__).resolve().parent.parent / "tests" / "data" / "shared" / "eval" / "gold").glob("*.json"))
    template = json.loads(gold[0].read_text("utf-8"))
    t0 = time.perf_counter()
    docs = list(synth(seed, n, rng))
    with Corpus(home) as c:
        for start in range(0, n, 30):
            part = docs[start:start + 30]
            pid = start // 30
            rec = dict(template, source=f"synthetic/{pid}.txt", legal_refs=[],
                       tasks=[{"id": f"t{k + 1}", "kind": "task", "section": d.section or "", "text": d.text,
                               "lead": d.lead, "support": d.support, "deadline": d.deadline, "legal_refs": []}
                              for k, d in enumerate(part)])
            text = "\n".join(d.text for d in part)
            ext = Extraction.from_dict(rec)
            ext.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
            store_records(c, [(ext, text)])
        print(f"home: {n} tasks stored in {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        emb = get_embedder("e5")
        docs = docs_from_corpus(c)
        rand = CachedEmbedder(_RandomEmbedder(emb.name, emb.dim), c, progress=False)
        vecs = rand.embed_passages([d.text for d in docs])
        # the clauses the link hook embeds besides the task texts (tasks of 2+ clauses), cached too
        from kehoach.corpus.link import link_text, split_clauses
        clauses = [x for d in docs for cs in [split_clauses(d.text)] if len(cs) > 1 for x in cs]
        rand.embed_passages(list(dict.fromkeys([link_text(d.text) for d in docs] + clauses)))
        idx = SearchIndex.build(docs, vectors=vecs, meta={"generation": int(c.generation()), "embedder": emb.name,
                                                         "plans": plan_fingerprints(c)})
        idx.save(home / INDEX_DIR)
        print(f"home: search index of {len(docs)} tasks (real word segmentation, random vectors) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)


def add_plan_bench(args, seed, rng) -> int:
    """``--add-plan N``: add one real plan (about 30 tasks) to a home of N tasks, timed in this
    process hook by hook (the search hook's embedding of the new tasks by the real e5 model,
    cold cache), then a second one end to end through ``kehoach add`` in a fresh process."""
    from kehoach.corpus.store import Corpus
    from kehoach.search import service
    n = args.add_plan
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_add_"))
    home = work / f"home{n}"
    if not (args.reuse and (home / "search" / "meta.json").exists()):
        shutil.rmtree(home, ignore_errors=True)
        make_home(home, seed, n, rng)
    web = args.shared / "real" / "web"
    plans = [web / "159-KH-UBND__d40513a8.txt", web / "4385-QD-BVHTTDL__448306af.txt"]
    if args.reuse:        # a kept home: two web plans it does not hold yet (an unchanged re-add is no add)
        with Corpus(home) as c:
            have = {Path(p.path).name for p in c.plans()} | {Path(p.source).name for p in c.plans()}
        plans = [p for p in dict.fromkeys(plans + sorted(web.glob("*.txt"))) if p.name not in have][:2]
    hooks = ["kehoach.search.service"] + (["kehoach.corpus.link"] if args.link else [])
    timing: dict[str, float] = {}

    def timed(name, fn):
        def run(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timing[name] = timing.get(name, 0.0) + time.perf_counter() - t
        return run

    import importlib
    service._vectors = timed("search: e5 embedding of the new tasks", service._vectors)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    with Corpus(home) as c:
        for name in reversed(hooks):       # the CLI's order: links first, then the search index
            mod = importlib.import_module(name)
            c.on_change(timed(name, mod.update))
        rep = c.add([str(plans[0])], progress=False)
    wall = time.perf_counter() - t0
    meta = service.read_manifest(home / "search")
    print(f"add of {plans[0].name} to {n} tasks in this process: {wall:.2f} s wall, "
          f"{time.process_time() - cpu0:.2f} s CPU ({rep.summary()}); index now {meta['n']} tasks in "
          f"{len(meta['segments'])} segments")
    for k, v in timing.items():
        print(f"    {k:<45} {v:6.2f} s")
    code = ("import sys, kehoach.corpus.cli as k; k.CHANGE_HOOKS[:] = sys.argv[1].split(','); "
            "from kehoach.cli import main; sys.exit(main(sys.argv[2:]))")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    r0 = os.times()
    subprocess.run([sys.executable, "-c", code, ",".join(hooks), "--home", str(home), "add", "-q", str(plans[1])],
                   check=True, env=env)
    r1 = os.times()
    print(f"kehoach add {plans[1].name} (fresh process, hooks {', '.join(hooks)}): "
          f"{time.perf_counter() - t0:.2f} s wall, {r1.children_user + r1.children_system - r0.children_user - r0.children_system:.2f} s CPU; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--no-peer", action="store_true", help="skip bm25s")
    ap.add_argument("--keep", type=Path, help="keep the built indexes in this folder (re-measure with --reuse)")
    ap.add_argument("--reuse", action="store_true", help="load the indexes kept in --keep instead of building")
    ap.add_argument("--add-plan", type=int, metavar="N",
                    help="instead: time adding one real plan (~30 tasks) to a home of N synthetic tasks")
    ap.add_argument("--link", action="store_true", help="with --add-plan: also run the link hook")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--qfile", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    add_shared_argument(ap)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve, args.qfile, args.t0)
    from kehoach.search.hybrid import SearchIndex
    from kehoach.search.lexical import LexicalIndex, syllable_segmenter
    rng = random.Random(7)
    seed = seed_docs(args.shared)
    if args.add_plan:
        return add_plan_bench(args, seed, rng)
    print("SYNTHETIC: texts recombined from the seed tasks' words; passage vectors random unit vectors; "
          "word field = syllables; query vectors from the real e5 model (cold cache).")
    t = time.perf_counter()
    LexicalIndex.build([d.text for d in seed])          # underthesea (or kehoach.corpus.segment)
    t_warm = time.perf_counter()
    LexicalIndex.build([d.text for d in seed])
    seg_per_task = (time.perf_counter() - t_warm) / len(seed)
    print(f"real word segmentation: {seg_per_task * 1000:.2f} ms/task (first call incl. model load "
          f"{t_warm - t:.1f}s) -> adds ~{seg_per_task * 1e5:.0f}s per 100k tasks to a real build")
    try:
        import bm25s
        print(f"peer: bm25s {bm25s.__version__} (numpy backend, lucene idf, k1=1.2 b=0.75, one thread)")
    except ImportError:
        print("peer: bm25s not installed (pip install bm25s) — peer columns left empty")
    print(f"{'tasks':>8} {'build_s':>7} {'disk_MB':>7} {'cold_s':>6} {'rss_MB':>7} | {'lex p50':>7} {'p95':>6} | "
          f"{'dense p50':>9} {'p95':>6} | {'hyb p50':>7} {'p95':>6} | {'1-field p50':>11} {'p95':>6} | "
          f"{'bm25s build':>11} {'p50':>6} {'p95':>6} {'rss+MB':>6} {'top10 agree':>11}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_search_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
            docs = list(synth(seed, n, rng))
            texts = [d.text for d in docs]
            qs = queries(args.shared, texts, args.queries + 1, rng)
            vecs = np.random.default_rng(n).standard_normal((n, 384), dtype=np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            folder = work / f"idx{n}"
            t = time.perf_counter()
            if not (args.reuse and (folder / "meta.json").exists()):
                idx = SearchIndex.build(docs, vectors=vecs, words=syllable_segmenter)
                idx.save(folder)
                del idx
            build = time.perf_counter() - t
            disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
            del docs, vecs
            qfile = work / "queries.json"
            qfile.write_text(json.dumps(qs, ensure_ascii=False), "utf-8")
            t0 = time.time()
            out = subprocess.run([sys.executable, __file__, "--serve", str(folder), "--qfile", str(qfile),
                                  "--t0", str(t0), "--shared", str(args.shared)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            p = {} if args.no_peer else peer(texts, qs[1:])
            agree = overlap(r["top10"], p["top10"]) if p else float("nan")
            agree_ties = tie_aware(folder, qs[1:], p["top10"]) if p else float("nan")
            print(f"{n:>8} {build:>7.1f} {disk:>7.0f} {r['cold_start_s']:>6.2f} {r['rss_mb']:>7.0f} | "
                  f"{r['lexical_p50']:>7.1f} {r['lexical_p95']:>6.1f} | {r['dense_p50']:>9.1f} {r['dense_p95']:>6.1f} | "
                  f"{r['hybrid_p50']:>7.1f} {r['hybrid_p95']:>6.1f} | {r['one_field_p50']:>11.1f} "
                  f"{r['one_field_p95']:>6.1f} | {p.get('build_s', float('nan')):>11.1f} {p.get('p50', float('nan')):>6.1f} "
                  f"{p.get('p95', float('nan')):>6.1f} {p.get('rss_growth_mb', float('nan')):>6.0f} {agree:>5.2f}/{agree_ties:.2f}"
                  f"   (vectors {'fp16' if r['compressed'] else 'fp32'}; serving peak RSS {r['rss_peak_mb']:.0f} MB; "
                  f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("ms per query; cold_s = process start to first answer, model load included; rss_MB = serving process "
          "after the queries; 1-field = our BM25 on the peer's tokens alone (the like-for-like comparison); top10 agree = "
          "same ids / same ids counting equal scores as equal ranks.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
