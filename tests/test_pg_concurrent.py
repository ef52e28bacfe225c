"""Four ``kehoach add`` processes at once on one corpus, with overlapping file sets of the 11 real web
plans (the same paths in several sets, and one plan's content under a second name): nothing is lost,
nothing is stored twice. Run on PostgreSQL (the several-machines store: each process has its own
connection, the locks are the database's) and on SQLite (the same command on one home).

Checked against the extractor run here, file by file: every plan is there once (by path and by
content hash), its tasks are exactly the extractor's tasks (the multiset of content hashes of their
texts), no task row is there twice, and each file was extracted by one process only."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kehoach.corpus.store import Corpus
from tests.shared import files

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("store_backend")]
N_PROCS = 4


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_four_concurrent_adds_lose_and_duplicate_nothing(tmp_path, store_backend):
    web = files("real/web", "*.txt")
    assert len(web) == 11
    src = tmp_path / "src"
    src.mkdir()
    for p in web:
        shutil.copy(p, src / p.name)
    twin = src / f"copy-of-{web[0].name}"                      # the same content under another name
    shutil.copy(web[0], twin)
    everything = sorted(src.iterdir())
    # process k gets 6 files starting at 3k (wrapping): each file is in 2 or 3 sets; the twin in one
    sets = []
    for k in range(N_PROCS):
        d = tmp_path / f"set{k}"
        d.mkdir()
        for i in range(6):
            p = everything[(3 * k + i) % len(everything)]
            (d / p.name).symlink_to(p)                            # same resolved path in every set
        sets.append(d)
    assert set().union(*({(d / n.name).resolve() for n in d.iterdir()} for d in sets)) == set(everything)

    home = tmp_path / "H"
    cmd = [sys.executable, "-m", "kehoach", "--home", str(home), "add", "--no-index", "--format", "json"]
    procs = [subprocess.Popen(cmd + [str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ)) for d in sets]
    outs = [p.communicate(timeout=1800) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    reports = [json.loads(out) for out, _ in outs]

    # each distinct content extracted once, whichever process did it; of the twin and its original
    # (each in two sets) the name stored first wins and the other name is a duplicate in its two sets
    assert sum(r["extracted"] for r in reports) == len(web)
    assert sum(len(r["added"]) for r in reports) == len(web)
    assert sum(len(r["duplicates"]) for r in reports) == 2     # the two sets holding the content under the other name
    assert sum(len(r["failed"]) + len(r["not_plans"]) for r in reports) == 0

    from kehoach.extract import extract
    from kehoach.ingest import read
    want = {}
    for p in web:
        doc = read(src / p.name, source=str(src / p.name))
        want[doc.sha256] = Counter(_h(t.text) for t in extract(doc).tasks)

    with Corpus(home, readonly=True) as c:
        assert c.backend == store_backend
        plans = c.plans()
        info = c.integrity()
        rows = c.conn.execute("SELECT p.sha256, t.text FROM tasks t JOIN plans p ON p.id = t.plan_id").fetchall()
        dup_rows = c.conn.execute("SELECT COUNT(*) FROM (SELECT plan_id, task_id FROM tasks GROUP BY plan_id, "
                                  "task_id HAVING COUNT(*) > 1) AS d").fetchone()[0]
    assert len(plans) == len(web) and len({p.path for p in plans}) == len(web)
    assert {p.sha256 for p in plans} == set(want)              # nothing lost, nothing twice (by content)
    got: dict[str, Counter] = {}
    for sha, text in rows:
        got.setdefault(sha, Counter())[_h(text)] += 1
    assert got == {k: v for k, v in want.items() if v}         # each plan's tasks, exactly, by content hash
    assert dup_rows == 0
    assert info["integrity"] == "ok" and info["duplicate_sha"] == 0 and info["orphan_links"] == 0
    assert info["tasks"] == info["task_count_sum"] == sum(sum(v.values()) for v in want.values())
