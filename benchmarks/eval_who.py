"""Score "who leads ..." answers on the hand-written who-question set (tests/data/who-real).

    .venv/bin/python benchmarks/eval_who.py [--home HOME] [--corpus web|all] [--mode lexical|hybrid|both]
                                            [--set old|new|all] [--split all|tune|held] [--questions FILE]
                                            [--misses]

Builds a corpus home (``--corpus web``: the seeds and the real web plans, the old set's corpus;
``all``: also the real PDFs and HTML pages; ``--home`` reuses one; a home that already holds them is
only opened), then asks every question through ``kehoach who``'s own code path
(``who(index, q, understand=True)``) and prints, per mode, question set, split and language: top-1
and top-3 owner accuracy (an owner counts when its canonical name is one of the question's expected
bodies) and plan accuracy (the top owner's first evidence task is from the expected plan), then the
questions missed at top-3.

Questions of ``kind: "tasks"`` (filters: an owner, a deadline, "quá hạn tính đến ngày ...") are asked
through ``ask`` (``kehoach search``'s path); their answer is the set of tasks listed, found by their
opening words (``expected_tasks``). Scored: exact (the listed tasks are the expected ones; for an
expected empty answer, nothing listed and the answer says so), recall and precision.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kehoach.search.who import body_key, who  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "who-real" / "questions.json"


_PLACE_TAIL = ("tinh", "thanh pho", "tp")


def same_body(a: str, b: str) -> bool:
    """The judge: ``a`` and ``b`` name one body (equal canonical keys, or one is the other followed by
    its place: "Sở Văn hóa, Thể thao và Du lịch" / "... tỉnh, thành phố trực thuộc Trung ương")."""
    ka, kb = body_key(a), body_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    short, long_ = sorted((ka, kb), key=len)
    if not long_.startswith(short + " ") or len(short.split()) < 3:
        return False
    tail = long_[len(short) + 1:]
    return any(tail == t or tail.startswith(t + " ") for t in _PLACE_TAIL)


def shared_dir() -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from shared import SHARED  # type: ignore
    return Path(SHARED)


def build_home(home: Path, corpus: str = "web") -> None:
    """Add the seeds and the real web plans to ``home`` (``corpus="all"``: also the real PDFs and HTML
    pages; unchanged files are skipped by hash)."""
    from kehoach.cli import main as cli
    shared = shared_dir()
    files = sorted((shared / "seeds").glob("*.txt")) + sorted((shared / "real" / "web").glob("*.txt"))
    if corpus == "all":
        files += sorted((shared / "real" / "pdf").glob("*.pdf")) + sorted((shared / "real" / "html").glob("*.html"))
    rc = cli(["--home", str(home), "add", "--quiet", "--no-index", *map(str, files)])
    if rc not in (0, None):
        raise SystemExit(f"kehoach add failed ({rc})")


def plan_matches(task: dict, q: dict) -> bool:
    src = Path(str(task.get("source") or "")).stem
    return src == q["source"] or (bool(q.get("plan")) and task.get("plan_number") == q["plan"])


def _words(text: str) -> list[str]:
    from kehoach.search.text import folded_tokens
    return folded_tokens(text or "")


def task_matches(doc, q: dict, opening: str) -> bool:
    """``doc`` (a hit's record) is the expected task whose opening words are ``opening`` (the last,
    possibly cut, word left out), in the question's plan."""
    if Path(str(doc.source or "")).stem != q["source"] and (doc.plan or {}).get("number") != q.get("plan"):
        return False
    want, have = _words(opening)[:-1], _words(doc.text)
    n = len(want)
    return n > 0 and any(have[i:i + n] == want for i in range(len(have) - n + 1))


def score_tasks(index, q: dict, mode: str) -> dict:
    from kehoach.search.question import ask
    res = ask(index, q["q"], limit=50, mode=mode)
    want = q["expected_tasks"]
    found = [any(task_matches(h.doc, q, w) for h in res.hits) for w in want]
    right = [h for h in res.hits if any(task_matches(h.doc, q, w) for w in want)]
    said = bool((res.understood or {}).get("empty"))
    exact = (not res.hits and said) if not want else (all(found) and len(right) == len(res.hits))
    return {**q, "mode": mode, "exact": exact, "recall": (sum(found) / len(want)) if want else float(not res.hits),
            "precision": (len(right) / len(res.hits)) if res.hits else float(not want),
            "got": [(h.doc.plan.get("number"), h.doc.task_id, h.doc.text[:60]) for h in res.hits[:5]],
            "n_hits": len(res.hits), "notes": res.notes(), "text": res.query.text}


def score(index, questions: list[dict], mode: str) -> list[dict]:
    rows = []
    for q in questions:
        if q.get("kind") == "tasks":
            rows.append(score_tasks(index, q, mode))
            continue
        res = who(index, q["q"], mode=mode, understand=True)
        owners = res.owners
        ranks = [i for i, o in enumerate(owners) if any(same_body(o.body, e) for e in q["expected"])]
        first = owners[0].tasks[0] if owners and owners[0].tasks else {}
        rows.append({**q, "mode": mode, "rank": ranks[0] + 1 if ranks else None,
                     "plan_ok": bool(first) and plan_matches(first, q),
                     "got": [(o.body, (o.tasks[0].get("plan_number") or Path(str(o.tasks[0].get("source"))).stem)
                              if o.tasks else None) for o in owners[:3]],
                     "notes": res.search.notes(), "text": res.search.query.text})
    return rows


def summary(rows: list[dict]) -> dict:
    tasks = [r for r in rows if r.get("kind") == "tasks"]
    rows = [r for r in rows if r.get("kind") != "tasks"]
    out = summary_owners(rows) if rows else {}
    if tasks:
        n = len(tasks)
        out["tasks"] = {"n": n, "exact": round(sum(r["exact"] for r in tasks) / n, 3),
                        "recall": round(sum(r["recall"] for r in tasks) / n, 3),
                        "precision": round(sum(r["precision"] for r in tasks) / n, 3)}
    return out


def summary_owners(rows: list[dict]) -> dict:
    n = len(rows) or 1
    return {"n": len(rows), "top1": round(sum(1 for r in rows if r["rank"] == 1) / n, 3),
            "top3": round(sum(1 for r in rows if r["rank"] and r["rank"] <= 3) / n, 3),
            "plan": round(sum(1 for r in rows if r["plan_ok"]) / n, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default=str(Path(tempfile.gettempdir()) / "kehoach-who-home"))
    ap.add_argument("--mode", default="both", choices=("lexical", "hybrid", "both"))
    ap.add_argument("--split", default="all", choices=("all", "tune", "held"))
    ap.add_argument("--set", default="all", choices=("all", "old", "new"),
                    help="old: the 71 questions of the first set; new: the second set (docs/questions.md)")
    ap.add_argument("--corpus", default="web", choices=("web", "all"), help="what a new --home is built of")
    ap.add_argument("--questions", default=str(QUESTIONS))
    ap.add_argument("--misses", action="store_true", help="list every question missed at top-3")
    ap.add_argument("--json", help="write the per-question rows here")
    args = ap.parse_args(argv)
    from kehoach.search.service import open_index
    home = Path(args.home)
    if not (home / "kehoach.sqlite3").exists():
        t0 = time.perf_counter()
        build_home(home, args.corpus)
        print(f"home built in {time.perf_counter() - t0:.1f}s: {home}")
    questions = json.loads(Path(args.questions).read_text("utf-8"))
    if args.split != "all":
        questions = [q for q in questions if q["split"] == args.split]
    if args.set != "all":
        questions = [q for q in questions if q.get("set", "old") == args.set]
    modes = ["lexical", "hybrid"] if args.mode == "both" else [args.mode]
    all_rows = []
    for mode in modes:
        t0 = time.perf_counter()
        idx = open_index(home, dense=mode != "lexical")
        rows = score(idx, questions, mode)
        all_rows += rows
        dt = time.perf_counter() - t0
        print(f"== {mode} ({len(idx.docs)} tasks, {dt:.1f}s)")
        for qset in ("old", "new"):
            for split in ("tune", "held", None):
                part = [r for r in rows if r.get("set", "old") == qset and (split is None or r["split"] == split)]
                if not part:
                    continue
                line = {"all": summary(part)}
                for lang in ("vi", "vi-ascii", "en"):
                    sub = [r for r in part if r["lang"] == lang]
                    if sub:
                        line[lang] = summary(sub)
                print(f"  {qset} {split or 'both'}: " + json.dumps(line, ensure_ascii=False))
        if args.misses:
            for r in rows:
                if r.get("kind") == "tasks":
                    if not r["exact"]:
                        print(f"  MISS {r['id']} [{r['split']}] {r['q']}\n       want {r['expected_tasks']}"
                              f"\n       got  {r['n_hits']} {r['got']}\n       lọc: {r['notes']} text: {r['text']!r}")
                    continue
                if not r["rank"] or r["rank"] > 3:
                    print(f"  MISS {r['id']} [{r['split']}] {r['q']}\n       want {r['expected']} ({r['plan'] or r['source']})"
                          f"\n       got  {r['got']}\n       lọc: {r['notes']} text: {r['text']!r}")
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
