"""Generate synthetic plans (TXT, DOCX, PDF) from the seed texts, for benchmarks.

    python benchmarks/make_corpus.py OUT_DIR [-n 200] [--formats txt,docx,pdf]

Each plan mixes paragraphs and table rows of the seeds (shuffled, numbers changed),
so sizes and layouts vary like real plans. ``make_corpus(out_dir, n)`` returns the paths;
the extract benchmark can reuse it.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import conftest_formats as F  # noqa: E402


def _plan(rng: random.Random, pool: list[str], rows: list[list[str]], i: int) -> tuple[list[str], list[list[str]]]:
    k = rng.randint(15, 60)
    paras = [p for p in rng.sample(pool, min(k, len(pool)))]
    paras = [p.replace("2021", str(2020 + i % 6)) for p in paras]
    table: list[list[str]] = []
    if rows and rng.random() < 0.6:
        body = [r[:4] for r in rows[1:] if r[0][:1].isdigit()]
        table = [rows[0][:4]] + [[str(n + 1)] + r[1:] for n, r in enumerate(rng.sample(body, min(len(body), rng.randint(3, 25))))]
    return paras, table


def make_corpus(out_dir: str | Path, n: int = 200, formats: tuple[str, ...] = ("txt", "docx", "pdf"),
                seed: int = 0) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in F.SEEDS]
    pool = [p for t in texts for p in F.seed_paragraphs(t)]
    tables = [F.seed_table_rows(t) for t in texts if F.seed_table_rows(t)]
    paths: list[Path] = []
    for i in range(n):
        paras, table = _plan(rng, pool, rng.choice(tables) if tables else [], i)
        stem = f"plan_{i:04d}"
        if "txt" in formats:
            p = out / f"{stem}.txt"
            lines = ["KẾ HOẠCH", ""] + [x for para in paras for x in (para, "")]
            lines += ["\t".join(r) for r in table]
            p.write_text("\n".join(lines), encoding="utf-8")
            paths.append(p)
        if "docx" in formats:
            p = out / f"{stem}.docx"
            p.write_bytes(F.make_docx(["KẾ HOẠCH"] + paras, table or None))
            paths.append(p)
        if "pdf" in formats and F.fonts_available():
            p = out / f"{stem}.pdf"
            half = len(paras) // 2
            p.write_bytes(F.make_pdf(paras[:half], table or None, after=paras[half:]))
            paths.append(p)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--formats", default="txt,docx,pdf")
    a = ap.parse_args()
    paths = make_corpus(a.out_dir, a.n, tuple(a.formats.split(",")))
    print(f"{len(paths)} files in {a.out_dir}")


if __name__ == "__main__":
    main()
