"""Two ``kehoach add`` processes on one home with overlapping folders of the real web plans: every
plan is stored exactly once and extracted by one process only (the other finds it stored)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from kehoach.corpus.store import Corpus
from tests.shared import files


@pytest.mark.slow
@pytest.mark.usefixtures("store_backend")          # SQLite and PostgreSQL (conftest.py)
def test_two_adds_of_overlapping_folders_store_and_extract_each_plan_once(tmp_path):
    web = files("real/web", "*.txt")[:9]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for p in web[:6]:
        shutil.copy(p, a / p.name)
    for p in web[3:]:
        shutil.copy(p, b / p.name)
    # the overlap is the same files by path too: a links them into b's folder
    for p in web[3:6]:
        (b / p.name).unlink()
        (b / p.name).symlink_to(a / p.name)
    home = tmp_path / "H"
    cmd = [sys.executable, "-m", "kehoach", "--home", str(home), "add", "--no-index", "--format", "json"]
    procs = [subprocess.Popen(cmd + [str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ)) for d in (a, b)]
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    reports = [json.loads(out) for out, _ in outs]
    assert sum(r["extracted"] for r in reports) == len(web)           # nobody extracted a file twice
    assert sum(len(r["added"]) for r in reports) == len(web)
    assert sum(len(r["unchanged"]) for r in reports) == 3             # the overlap, found stored
    with Corpus(home, readonly=True) as c:
        plans = c.plans()
        info = c.integrity()
    assert sorted(os.path.basename(p.path) for p in plans) == sorted(p.name for p in web)
    assert info["integrity"] == "ok" and info["duplicate_sha"] == 0
    assert info["tasks"] == info["task_count_sum"] > 0
