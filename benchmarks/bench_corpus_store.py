"""Corpus store benchmark: add throughput, unchanged re-add, add into a large corpus.

    .venv/bin/python benchmarks/bench_corpus_store.py [--n 1000] [--big 10000] [--keep DIR]

1. generates ``--n`` plans by perturbing the seed texts (province, number, years, a unique line)
   and adds them with the real pipeline (ingest -> extract -> store; link/search indexing off,
   that is the indexers' own cost) -> plans/min;
2. re-adds the unchanged folder (target: 1,000 plans < 30 s);
3. fills a second corpus with ``--big`` generated plans through ``Corpus.store`` (the extraction of
   each seed reused with perturbed header, text and hash, so filling is not extraction-bound),
   then times ``kehoach add`` of one new plan into it (target < 10 s), and listing/iterating it.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.corpus import bodies as B  # noqa: E402
from kehoach.corpus.store import Corpus  # noqa: E402
from kehoach.eval.data import add_shared_argument, shared_dir  # noqa: E402
from kehoach.ingest import read  # noqa: E402

SEEDS = sorted((shared_dir() / "seeds").glob("*.txt"))   # --shared DIR changes it


def province_names() -> list[str]:
    return sorted({p.name for p in B.provinces().values() if p.kind == "tinh"})


def perturb(text: str, i: int, rng: random.Random, provinces: list[str]) -> str:
    """A plausible other plan: another province, a number, shifted years, a unique line."""
    own = B.find_province(text[:800])
    new = rng.choice(provinces)
    if own:
        text = text.replace(own, new).replace(own.upper(), new.upper())
    text = re.sub(r"Số:\s*(\d*)/", f"Số: {i + 1}/", text, count=1)
    shift = rng.randint(0, 3)
    text = re.sub(r"\b20(2[0-4])\b", lambda m: str(2000 + int(m.group(1)) + shift), text)
    return text + f"\nNơi nhận: bản số {i}.\n"


def generate(out: Path, n: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    provs = province_names()
    texts = [s.read_text(encoding="utf-8") for s in SEEDS]
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        k = i % len(SEEDS)
        p = out / f"{SEEDS[k].stem}_{i:05d}.txt"
        p.write_text(perturb(texts[k], i, rng, provs), encoding="utf-8")
        paths.append(p)
    return paths


def fill_big(corpus: Corpus, n: int, seed: int = 1) -> float:
    """Store ``n`` generated plans without running extraction per plan."""
    from kehoach.extract import extract
    rng = random.Random(seed)
    provs = province_names()
    base = []
    for s in SEEDS:
        doc = read(s)
        base.append((doc, extract(doc)))
    t0 = time.perf_counter()
    for i in range(n):
        doc, ext = base[i % len(base)]
        prov = rng.choice(provs)
        d2 = copy.copy(doc)
        d2.text = doc.text + f"\nbản sinh {i}"
        d2.sha256 = hashlib.sha256(f"big-{seed}-{i}".encode()).hexdigest()
        e2 = copy.copy(ext)
        e2.document = copy.copy(ext.document)
        if ext.document.issuer:
            own = B.find_province(ext.document.issuer)
            e2.document.issuer = ext.document.issuer.replace(own, prov) if own else ext.document.issuer
        e2.document.number = f"{i + 1}/KH-UBND"
        e2.sha256 = d2.sha256
        corpus.store(f"gen/{i:05d}.txt", f"/generated/{i:05d}.txt", d2, e2)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="plans generated and added through the pipeline")
    ap.add_argument("--big", type=int, default=10000, help="size of the large corpus for the add-one timing")
    ap.add_argument("--keep", help="work in this directory and keep it")
    add_shared_argument(ap)
    args = ap.parse_args()
    global SEEDS
    SEEDS = sorted((args.shared / "seeds").glob("*.txt"))
    if not SEEDS:
        ap.error(f"no seed texts in {args.shared / 'seeds'}")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kehoach-bench-"))
    try:
        files = generate(work / "plans", args.n)
        size = sum(p.stat().st_size for p in files)
        print(f"generated {len(files)} plans ({size / 1e6:.1f} MB) in {work / 'plans'}")

        with Corpus(work / "home") as c:
            t0 = time.perf_counter()
            r = c.add([str(work / "plans")], progress=False)
            dt = time.perf_counter() - t0
            print(f"add {args.n} plans (ingest+extract+store): {dt:.1f} s = {len(r.added) / dt * 60:.0f} plans/min"
                  f" ({len(r.added)} added, {len(r.duplicates)} duplicate, {len(r.failed)} failed)")
            for path, why in r.failed[:5]:
                print(f"   failed: {path}: {why}")
            t0 = time.perf_counter()
            r2 = c.add([str(work / "plans")], progress=False)
            dt2 = time.perf_counter() - t0
            print(f"re-add {args.n} unchanged plans: {dt2:.2f} s ({len(r2.unchanged)} unchanged; target for 1,000: < 30 s)")
            db = (work / "home" / "kehoach.sqlite3").stat().st_size
            print(f"database: {db / 1e6:.1f} MB for {len(c.plans())} plans, {c.integrity()['tasks']} tasks")

        with Corpus(work / "big") as big:
            t_fill = fill_big(big, args.big)
            info = big.integrity()
            print(f"filled {args.big} plans via Corpus.store in {t_fill:.1f} s "
                  f"({args.big / t_fill * 60:.0f} plans/min store-only; {info['tasks']} tasks, "
                  f"{len(big.bodies())} bodies)")
            one = work / "one"
            one.mkdir(exist_ok=True)
            target = one / "new_plan.txt"
            target.write_text(perturb(SEEDS[1].read_text(encoding="utf-8"), 99999, random.Random(7),
                                      province_names()), encoding="utf-8")
            t0 = time.perf_counter()
            r3 = big.add([str(target)], progress=False)
            dt3 = time.perf_counter() - t0
            print(f"add 1 plan into a corpus of {args.big}: {dt3:.2f} s ({len(r3.added)} added; target < 10 s)")
            t0 = time.perf_counter()
            n_plans = len(big.plans())
            t_list = time.perf_counter() - t0
            t0 = time.perf_counter()
            n_tasks = sum(1 for _ in big.tasks())
            t_tasks = time.perf_counter() - t0
            print(f"list {n_plans} plans: {t_list * 1000:.0f} ms; iterate {n_tasks} tasks: {t_tasks:.1f} s")
            t0 = time.perf_counter()
            r4 = big.add([str(target)], progress=False)
            print(f"re-add that plan (unchanged) into the big corpus: {(time.perf_counter() - t0) * 1000:.0f} ms")
            db = (work / "big" / "kehoach.sqlite3").stat().st_size
            print(f"big database: {db / 1e6:.0f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
