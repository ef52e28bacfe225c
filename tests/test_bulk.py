"""Bulk ingest on a real Dask LocalCluster (2 worker processes, 1 thread each): ``bulk_add`` and
``kehoach add --engine dask``.

Input: a few hundred plans made by ``benchmarks/make_corpus.py`` (TXT, some DOCX and PDF), the real
web plans, one file with the same content as another, and bad files. The reference is a plain
``Corpus.add`` of the same paths: the bulk run must store the same records and report the same
failures, in any order. The bulk run is interrupted (Ctrl-C, a real SIGINT) after some plans are
stored, then resumed: the resumed run adds the rest only, and a third run adds nothing.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="bulk ingest needs the bulk extra (dask, distributed)")

from kehoach.corpus.bulk import bulk_add, read_one, rebuild  # noqa: E402
from kehoach.corpus.store import Corpus, CorpusError  # noqa: E402

from tests.shared import files  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from make_corpus import make_corpus  # noqa: E402

N_TXT, N_OTHER = 200, 6
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> dict:
    """The input folders and the argument list of one bulk job."""
    root = tmp_path_factory.mktemp("bulk")
    make_corpus(root / "gen", N_TXT, ("txt",), seed=0)
    make_corpus(root / "office", N_OTHER, ("docx", "pdf"), seed=1)
    real = root / "real"
    real.mkdir()
    for p in files("real/web", "*.txt"):
        shutil.copy(p, real / p.name)
    dup = root / "dup"
    dup.mkdir()
    shutil.copy(root / "gen" / "plan_0003.txt", dup / "plan_0003_copy.txt")
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "garbage.pdf").write_bytes(bytes(range(256)) * 8)
    docx = sorted((root / "office").glob("*.docx"))[0].read_bytes()
    (bad / "truncated.docx").write_bytes(docx[: len(docx) // 2])
    (bad / "lorem.txt").write_text("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20, encoding="utf-8")
    args = [str(root / d) for d in ("gen", "office", "real", "dup", "bad")] + [str(root / "missing.txt")]
    good = sum(1 for d in ("gen", "office", "real") for _ in (root / d).iterdir())
    return {"root": root, "args": args, "good": good,
            "dup": (str(root / "gen" / "plan_0003.txt"), str(dup / "plan_0003_copy.txt"))}


@pytest.fixture(scope="module")
def cluster():
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                 scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=40)
    yield c
    c.close()


@pytest.fixture(scope="module")
def plain(job, tmp_path_factory):
    """The reference: a plain ``Corpus.add`` of the same paths."""
    home = tmp_path_factory.mktemp("plain")
    with Corpus(home) as c:
        report = c.add(job["args"], progress=False)
    return home, report


def records(home: Path) -> dict:
    """Everything stored per plan, keyed by path, without the row ids and times (a generic owner's
    registry key names its plan by id: the id is replaced by the plan's path)."""
    db = sqlite3.connect(f"file:{home / 'kehoach.sqlite3'}?mode=ro", uri=True)
    path_of = dict(db.execute("SELECT id, path FROM plans"))

    def key(k: str) -> str:
        return re.sub(r"#plan(\d+)$", lambda m: "#plan:" + path_of[int(m.group(1))], k)
    out = {}
    cols = ("source, sha256, format, size, number, type, issuer, place, date, title, signer_name, signer_title, "
            "province, territory, unit, task_count, ref_count, extraction, text, warnings, record_sha256")
    for pid, path, *row in db.execute(f"SELECT id, path, {cols} FROM plans"):
        tasks = db.execute("SELECT task_id, seq, kind, section, text, lead, support, deadline, deadline_date, "
                           "recurrence, targets, legal_refs, span FROM tasks WHERE plan_id=? ORDER BY seq",
                           (pid,)).fetchall()
        refs = db.execute("SELECT ref_id, seq, text, type, number, symbol, date, issuer, status_in_text, span, data "
                          "FROM refs WHERE plan_id=? ORDER BY seq", (pid,)).fetchall()
        owners = [(t, role, pos, key(k), bpid == pid if bpid is not None else None) for t, role, pos, k, bpid
                  in db.execute("SELECT tb.task_id, tb.role, tb.pos, b.key, b.plan_id FROM task_bodies tb "
                                "JOIN bodies b ON b.id=tb.body_id WHERE tb.plan_id=? ORDER BY tb.task_id, tb.role, "
                                "tb.pos", (pid,))]
        out[path] = (tuple(row), tasks, refs, owners)
    aliases = sorted((key(k), a) for k, a in
                     db.execute("SELECT b.key, a.alias FROM body_aliases a JOIN bodies b ON b.id=a.body_id"))
    # the registry row of a body: its label is written by the first plan that names it
    bodies = {key(k): tuple(rest) for k, *rest in
              db.execute("SELECT key, canonical, kind, province, locality FROM bodies")}
    users = {key(k): n for k, n in db.execute("SELECT b.key, COUNT(DISTINCT tb.plan_id) FROM bodies b "
                                              "JOIN task_bodies tb ON tb.body_id=b.id GROUP BY b.id")}
    db.close()
    return {"plans": out, "aliases": aliases, "bodies": bodies, "users": users}


def plan_count(home: Path) -> int:
    db = sqlite3.connect(f"file:{home / 'kehoach.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM plans").fetchone()[0]
    finally:
        db.close()


def interrupt_after(home: Path, n: int):
    """Send this process a real SIGINT (Ctrl-C) once ``n`` plans are stored in ``home``. Returns the
    armed state; the SIGINT handler raises KeyboardInterrupt only while armed (once)."""
    state = {"armed": True, "fired": False, "stop": False}
    old = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if state["armed"]:
            state["armed"] = False
            raise KeyboardInterrupt

    def watch():
        while not state["stop"]:
            try:
                if plan_count(home) >= n:
                    state["fired"] = True
                    os.kill(os.getpid(), signal.SIGINT)
                    return
            except sqlite3.Error:
                pass
            time.sleep(0.02)

    signal.signal(signal.SIGINT, handler)
    t = threading.Thread(target=watch, daemon=True)
    t.start()

    def restore():
        state["stop"] = True
        t.join(5)
        state["armed"] = False
        signal.signal(signal.SIGINT, old)
    return state, restore


@pytest.fixture(scope="module")
def bulk(job, cluster, tmp_path_factory):
    """A bulk job interrupted after 40 plans, resumed, then run a third time."""
    home = tmp_path_factory.mktemp("bulkhome")
    runs = {}
    with Corpus(home) as c:
        state, restore = interrupt_after(home, 40)
        try:
            with pytest.raises(KeyboardInterrupt):
                bulk_add(c, job["args"], scheduler=cluster.scheduler_address, batch=16, progress=False)
        finally:
            restore()
        assert state["fired"]
        runs["after_interrupt"] = plan_count(home)
        runs["check_after_interrupt"] = c.verify()
        runs["resumed"] = bulk_add(c, job["args"], scheduler=cluster.scheduler_address, batch=16, progress=False)
        runs["again"] = bulk_add(c, job["args"], scheduler=cluster.scheduler_address, progress=False)
        runs["integrity"] = c.integrity()
    runs["home"] = home
    return runs


def test_workers_import_this_checkout(cluster):
    with distributed.Client(cluster) as client:
        infos = client.run(lambda: __import__("kehoach").__file__)
    assert len(infos) == 2
    assert all(Path(f).resolve().is_relative_to(REPO) for f in infos.values()), infos


def test_interrupted_then_resumed_adds_the_rest_once(bulk, plain, job):
    _, ref = plain
    good = len(ref.added)
    assert good == job["good"]                            # every good file, the copy once
    # Ctrl-C after 40 plans: what was committed stays, whole plans only, all of them check out
    assert 40 <= bulk["after_interrupt"] < good
    assert bulk["check_after_interrupt"] == []
    resumed = bulk["resumed"]
    assert len(resumed.added) == good - bulk["after_interrupt"]
    assert len(resumed.unchanged) == bulk["after_interrupt"]
    assert bulk["integrity"]["plans"] == good
    assert bulk["integrity"]["duplicate_sha"] == 0 and bulk["integrity"]["orphan_tasks"] == 0
    assert bulk["integrity"]["orphan_links"] == 0 and bulk["integrity"]["integrity"] == "ok"
    again = bulk["again"]
    assert again.added == [] and again.replaced == [] and len(again.unchanged) == good


def test_same_failures_as_plain_add(bulk, plain, job):
    _, ref = plain
    resumed = bulk["resumed"]
    assert sorted(resumed.failed) == sorted(ref.failed)
    assert sorted(resumed.not_plans) == sorted(ref.not_plans)
    names = {Path(p).name for p, _ in resumed.failed + resumed.not_plans}
    assert names == {"empty.txt", "garbage.pdf", "truncated.docx", "lorem.txt", "missing.txt"}
    assert all(r and "\n" not in r for _, r in resumed.failed)


def test_same_records_as_plain_add(bulk, plain, job):
    ref_home, ref = plain
    want, got = records(ref_home), records(bulk["home"])
    a, b = job["dup"]
    # the same content at two paths is stored once, under whichever path was written first
    stored_dup = [p for p in (a, b) if p in got["plans"]]
    assert len(stored_dup) == 1
    assert [p for p, _ in ref.duplicates] == [b]
    for p in (a, b):
        want["plans"].pop(p, None)
        got["plans"].pop(p, None)
    assert set(got["plans"]) == set(want["plans"])
    for path, rec in want["plans"].items():
        assert got["plans"][path] == rec, path
    assert len(want["plans"]) == job["good"] - 1
    dup_keys = {k for k, _ in want["aliases"] + got["aliases"] if k.endswith((a, b))}
    assert set(got["bodies"]) - dup_keys == set(want["bodies"]) - dup_keys
    # a body named by several plans keeps the label of the first plan stored (``Corpus.store``): the
    # order differs between a serial and a parallel run, so only shared bodies may differ in label
    relabelled = [k for k in want["bodies"] if k not in dup_keys and want["bodies"][k] != got["bodies"][k]]
    assert all(want["users"].get(k, 0) > 1 and got["users"].get(k, 0) > 1 for k in relabelled), \
        [(k, want["bodies"][k], got["bodies"][k]) for k in relabelled][:5]
    assert [x for x in got["aliases"] if x[0] not in dup_keys] == [x for x in want["aliases"] if x[0] not in dup_keys]


def test_check_after_bulk(bulk):
    p = subprocess.run([sys.executable, "-m", "kehoach", "--home", str(bulk["home"]), "check"], capture_output=True,
                       text=True, cwd=REPO, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{bulk['integrity']['plans']} plans checked, 0 problems" in p.stderr


def test_worker_result_is_plain_data_without_blocks(job):
    path = sorted((job["root"] / "office").glob("*.pdf"))[0] if list((job["root"] / "office").glob("*.pdf")) \
        else sorted((job["root"] / "office").glob("*.docx"))[0]
    res = read_one(str(path), str(path), None)
    assert res["kind"] == "extracted"
    assert set(res["doc"]) == {"source", "sha256", "format", "text", "pages", "warnings"}
    import json
    json.dumps(res)                                       # plain data: no records cross the wire
    doc, ext = rebuild(res)
    assert doc.text == res["doc"]["text"] and ext.to_dict() == res["ext"]
    assert read_one(str(path), str(path), res["doc"]["sha256"]) == {"kind": "unchanged"}


def test_cli_engine_dask_on_a_running_scheduler(cluster, job, tmp_path):
    home = tmp_path / "home"
    real = sorted((job["root"] / "real").glob("*.txt"))
    argv = [sys.executable, "-m", "kehoach", "--home", str(home), "add", "--engine", "dask",
            "--scheduler", cluster.scheduler_address, str(job["root"] / "real"), str(job["root"] / "bad" / "empty.txt")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=600, env=env)
    assert p.returncode == 1, p.stderr                   # a file failed: exit status 1, the others stored
    assert sum(line.startswith("added ") for line in p.stdout.splitlines()) == len(real)
    assert f"{job['root'] / 'bad' / 'empty.txt'}: empty file" in p.stderr
    assert "Traceback" not in p.stderr
    assert f"{len(real)} added" in p.stderr
    p = subprocess.run(argv[:-1], capture_output=True, text=True, cwd=REPO, timeout=600, env=env)
    assert p.returncode == 0 and f"0 added, 0 replaced, {len(real)} unchanged" in p.stderr, p.stderr


def test_own_local_cluster_and_clear_errors(job, tmp_path, cluster):
    bad = job["root"] / "bad"
    with Corpus(tmp_path / "home") as c:
        # a LocalCluster made for the job (1 worker), then closed: nothing here needs extraction
        r = bulk_add(c, [str(bad / "empty.txt"), str(bad / "garbage.pdf")], workers=1, progress=False)
        assert sorted(Path(p).name for p, _ in r.failed) == ["empty.txt", "garbage.pdf"]
        with pytest.raises(CorpusError, match="engine 'ray': not supported"):
            bulk_add(c, [str(bad)], engine="ray")
        assert bulk_add(c, [str(job["root"] / "nothing-*.txt")], scheduler=cluster.scheduler_address,
                        progress=False).failed == [(str(job["root"] / "nothing-*.txt"), "no file matches")]
