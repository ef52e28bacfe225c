"""Corpus store: incremental add / replace / skip, transactions, locking, CLI listing.

Inputs are the real seed plans copied to tmp_path. Most tests extract them with
``gold_extract`` (the shared gold record of the seed the file came from), so store behaviour
is tested independently of extraction quality; ``test_real_pipeline`` runs the real extractor.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kehoach.corpus import home as H
from kehoach.corpus.store import Corpus, CorpusError, discover
from kehoach.errors import KehoachError
from kehoach.models import Extraction

from tests.shared import files, need
SEEDS = files("seeds", "*.txt")
GOLD = need("eval/gold")
REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("store_backend")     # every test on SQLite and on PostgreSQL (conftest.py)


def gold_extract(doc) -> Extraction:
    """The gold record of the seed a file was copied from (file names start with the seed stem)."""
    name = Path(doc.source).name
    stem = next(p.stem for p in GOLD.glob("*.json") if name.startswith(p.stem))
    ext = Extraction.from_dict(json.loads((GOLD / f"{stem}.json").read_text(encoding="utf-8")))
    ext.source, ext.sha256 = doc.source, doc.sha256
    return ext


def must_not_run(doc):
    raise AssertionError(f"extraction ran for {doc.source}")


@pytest.fixture
def seeds(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for s in SEEDS:
        shutil.copy(s, d / s.name)
    return d


@pytest.fixture
def corpus(tmp_path):
    c = Corpus(tmp_path / "home")
    yield c
    c.close()


def gold_task_total() -> int:
    return sum(len(json.loads(p.read_text())["tasks"]) for p in GOLD.glob("*.json"))


def snapshot(c: Corpus) -> dict:
    """Everything a plan consists of, to compare the corpus before/after."""
    q = lambda sql: c.conn.execute(sql).fetchall()
    return {"plans": q("SELECT id, path, sha256, task_count, extraction FROM plans ORDER BY id"),
            "tasks": q("SELECT plan_id, task_id, text, lead FROM tasks ORDER BY plan_id, seq"),
            "refs": q("SELECT plan_id, ref_id, symbol FROM refs ORDER BY plan_id, seq"),
            "links": q("SELECT plan_id, task_id, body_id, role, pos FROM task_bodies ORDER BY 1, 2, 4, 5")}


# --------------------------------------------------------------------------- add / skip / replace

def test_add_folder_then_unchanged_readd_runs_no_extraction(corpus, seeds, monkeypatch):
    r = corpus.add([str(seeds)], progress=False, extract=gold_extract)
    assert r.ok and len(r.added) == len(SEEDS) and not r.unchanged
    plans = corpus.plans()
    assert len(plans) == len(SEEDS)
    assert sum(p.task_count for p in plans) == gold_task_total()
    numbers = {p.number for p in plans}
    assert "116/KH-UBND" in numbers
    gen = corpus.generation()
    assert gen >= len(SEEDS)

    # unchanged: neither ingest nor extraction may run
    import kehoach.ingest
    monkeypatch.setattr(kehoach.ingest, "read", lambda *a, **k: pytest.fail("ingest ran"))
    t0 = time.perf_counter()
    r2 = corpus.add([str(seeds)], progress=False, extract=must_not_run)
    took = time.perf_counter() - t0
    assert r2.ok, r2.failed
    assert len(r2.unchanged) == len(SEEDS) and not r2.added and not r2.replaced
    assert corpus.generation() == gen
    assert took < 1.0


def test_changed_file_replaces_its_plan_in_place(corpus, seeds):
    corpus.add([str(seeds)], progress=False, extract=gold_extract)
    target = seeds / SEEDS[1].name
    before = corpus.plan(str(target))
    other_before = {p.id: p.sha256 for p in corpus.plans() if p.id != before.id}
    gen = corpus.generation()
    seen = []
    corpus.on_change(lambda c, added, removed: seen.append((sorted(added), sorted(removed))))

    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("Tuyên Quang", "Hà Giang"), encoding="utf-8")

    def fewer_tasks(doc):
        ext = gold_extract(doc)
        ext.tasks = ext.tasks[:10]
        return ext

    r = corpus.add([str(seeds)], progress=False, extract=fewer_tasks)
    assert [p for p, _ in r.replaced] == [str(target)]
    assert len(r.unchanged) == len(SEEDS) - 1
    after = corpus.plan(before.id)
    assert after.id == before.id and after.sha256 != before.sha256
    assert after.task_count == 10
    assert len(list(corpus.tasks([after.id]))) == 10
    assert "Hà Giang" in corpus.text(after.id)
    assert {p.id: p.sha256 for p in corpus.plans() if p.id != before.id} == other_before
    assert corpus.generation() == gen + 1
    assert seen == [([before.id], [before.id])]
    info = corpus.integrity()
    assert info["integrity"] == "ok" and info["orphan_tasks"] == 0 and info["orphan_links"] == 0
    assert info["tasks"] == info["task_count_sum"]


def test_same_content_at_two_paths_is_skipped(corpus, seeds, tmp_path):
    corpus.add([str(seeds)], progress=False, extract=gold_extract)
    copy = tmp_path / "copy" / (SEEDS[0].stem + "_again.txt")
    copy.parent.mkdir()
    shutil.copy(SEEDS[0], copy)
    r = corpus.add([str(copy)], progress=False, extract=must_not_run)
    assert r.ok
    assert r.duplicates == [(str(copy), str(seeds / SEEDS[0].name))]
    assert len(corpus.plans()) == len(SEEDS)


def test_bad_files_are_reported_and_the_rest_stored(corpus, seeds, tmp_path):
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "notes.xyz").write_text("Kế hoạch", encoding="utf-8")
    lines = []
    r = corpus.add([str(seeds / "empty.txt"), str(seeds / "notes.xyz"), str(tmp_path / "missing.pdf"),
                    str(seeds / "*.txt")], progress=False, extract=gold_extract, log=lines.append)
    failed = dict(r.failed)
    assert "empty file" in failed[str(seeds / "empty.txt")]
    assert "unsupported file type" in failed[str(seeds / "notes.xyz")]
    assert failed[str(tmp_path / "missing.pdf")] == "no such file"
    assert len(r.added) == len(SEEDS)
    assert r.exit_code == 1
    assert len(corpus.plans()) == len(SEEDS)
    assert any(l.startswith(str(seeds / "empty.txt") + ": ") for l in lines)


def test_discover_folders_globs_and_hidden(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "a" / "b" / "y.PDF").write_text("y")
    (tmp_path / "a" / ".hidden.txt").write_text("h")
    (tmp_path / "a" / "z.json").write_text("{}")
    files, bad = discover([str(tmp_path / "a"), str(tmp_path / "a" / "*.txt"), str(tmp_path / "none*.docx")])
    names = [p.name for _, p in files]
    assert names == ["x.txt", "y.PDF"]
    assert bad == [(str(tmp_path / "none*.docx"), "no file matches")]


# --------------------------------------------------------------------------- atomicity

def test_crash_inside_a_plan_leaves_no_partial_plan(corpus, seeds, monkeypatch):
    first = [str(seeds / SEEDS[0].name), str(seeds / SEEDS[1].name)]
    corpus.add(first, progress=False, extract=gold_extract)
    before = snapshot(corpus)
    gen = corpus.generation()

    victim = seeds / SEEDS[2].name
    changed = seeds / SEEDS[1].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nPhụ lục bổ sung.\n", encoding="utf-8")
    orig = Corpus._insert_tasks

    def crash_after_some_rows(self, c, plan_id, ext):
        if ext.source in (str(victim), str(changed)):
            part = Extraction(ext.source, ext.sha256, ext.document, tasks=ext.tasks[:3])
            orig(self, c, plan_id, part)           # some rows really are written...
            assert c.execute("SELECT COUNT(*) FROM tasks WHERE plan_id=?", (plan_id,)).fetchone()[0] == 3
            raise RuntimeError("disk on fire")      # ...then the insert fails
        return orig(self, c, plan_id, ext)

    monkeypatch.setattr(Corpus, "_insert_tasks", crash_after_some_rows)
    r = corpus.add([str(changed), str(victim), str(seeds / SEEDS[3].name)], progress=False, extract=gold_extract)
    failed = dict(r.failed)
    assert "RuntimeError: disk on fire" in failed[str(victim)]
    assert "disk on fire" in failed[str(changed)]
    assert [p for p, _ in r.added] == [str(seeds / SEEDS[3].name)]    # the batch went on
    after = snapshot(corpus)
    # the earlier plans (including the old version of the changed one) are intact
    assert [p for p in after["plans"] if p[0] in {x[0] for x in before["plans"]}] == before["plans"]
    assert corpus.plan(str(victim)) is None
    assert all(t[0] in {p[0] for p in after["plans"]} for t in after["tasks"])
    assert corpus.generation() == gen + 1
    assert corpus.integrity()["integrity"] == "ok"


def test_ctrl_c_mid_plan_rolls_back_that_plan_only(corpus, seeds, monkeypatch):
    orig = Corpus._insert_refs
    victim = str(seeds / SEEDS[2].name)

    def interrupted(self, c, plan_id, ext):
        if ext.source == victim:
            raise KeyboardInterrupt
        return orig(self, c, plan_id, ext)

    monkeypatch.setattr(Corpus, "_insert_refs", interrupted)
    seen = []
    corpus.on_change(lambda c, a, r: seen.append(sorted(a)))
    with pytest.raises(KeyboardInterrupt):
        corpus.add([str(seeds / s.name) for s in SEEDS], progress=False, extract=gold_extract)
    stored = [p.source for p in corpus.plans()]
    assert stored == [str(seeds / s.name) for s in SEEDS[:2]]
    assert seen and len(seen[0]) == 2                 # what was committed is still handed to the indexers
    info = corpus.integrity()
    assert info["integrity"] == "ok" and info["tasks"] == info["task_count_sum"]
    monkeypatch.undo()
    r = corpus.add([str(seeds)], progress=False, extract=gold_extract)
    assert len(r.added) == len(SEEDS) - 2 and len(r.unchanged) == 2


# --------------------------------------------------------------------------- two processes

WORKER = """
import json, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
sys.path.insert(0, {tests!r})
from test_store import gold_extract
from kehoach.corpus.store import Corpus
c = Corpus(sys.argv[1], lock_timeout=float(sys.argv[2]))
r = c.add(sys.argv[3:], progress=False, extract=gold_extract, log=lambda l: print(l, file=sys.stderr))
print(json.dumps(r.to_dict()))
sys.exit(r.exit_code)
"""


def _worker(tmp_path) -> Path:
    w = tmp_path / "worker.py"
    w.write_text(WORKER.format(repo=str(REPO), tests=str(Path(__file__).parent)), encoding="utf-8")
    return w


def test_two_processes_adding_to_one_home(tmp_path, seeds):
    # each process gets the seeds plus its own perturbed copies; the seeds overlap
    dirs = []
    for k in ("a", "b"):
        d = tmp_path / k
        d.mkdir()
        for i, s in enumerate(SEEDS):
            text = s.read_text(encoding="utf-8")
            (d / f"{s.stem}__{k}{i}.txt").write_text(text + f"\nBản sao {k}{i}.\n", encoding="utf-8")
        dirs.append(d)
    home = tmp_path / "home"
    w = _worker(tmp_path)
    procs = [subprocess.Popen([sys.executable, str(w), str(home), "60", str(seeds), str(d)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for d in dirs]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    reports = [json.loads(o) for o, _ in outs]
    # every seed was stored exactly once: by one process as "added", by the other as unchanged
    for s in SEEDS:
        src = str(seeds / s.name)
        added = sum(any(a["path"] == src for a in r["added"]) for r in reports)
        skipped = sum(src in r["unchanged"] for r in reports)
        assert (added, skipped) == (1, 1)
    with Corpus(home) as c:
        info = c.integrity()
        assert info["integrity"] == "ok"
        assert info["plans"] == 3 * len(SEEDS)
        assert info["tasks"] == info["task_count_sum"] == 3 * gold_task_total()
        assert info["duplicate_sha"] == 0 and info["orphan_links"] == 0


def test_second_writer_waits_then_fails_clearly(tmp_path, seeds):
    home = tmp_path / "home"
    holder = Corpus(home)
    w = _worker(tmp_path)
    with holder._write_lock():
        p = subprocess.run([sys.executable, str(w), str(home), "1", str(seeds / SEEDS[0].name)],
                           capture_output=True, text=True, timeout=60)
    holder.close()
    assert p.returncode != 0
    assert "waiting for another kehoach process" in p.stderr
    assert f"locked by another kehoach process (pid {os.getpid()})" in p.stderr
    with Corpus(home) as c:
        assert c.plans() == [] and c.integrity()["integrity"] == "ok"


# --------------------------------------------------------------------------- schema, home, lookups

def test_versioned_migrations(tmp_path):
    with Corpus(tmp_path) as c:
        c.ensure_schema("demo", ["CREATE TABLE demo(a INT); INSERT INTO demo VALUES (1);"])
        assert c.schema_version("demo") == 1
    with Corpus(tmp_path) as c:
        c.ensure_schema("demo", ["CREATE TABLE demo(a INT); INSERT INTO demo VALUES (1);",
                                 "ALTER TABLE demo ADD COLUMN b TEXT; UPDATE demo SET b='x';"])
        assert c.conn.execute("SELECT a, b FROM demo").fetchall() == [(1, "x")]
        assert c.schema_version("demo") == 2
        with pytest.raises(CorpusError, match="newer kehoach"):
            c.ensure_schema("demo", ["CREATE TABLE demo(a INT)"])
        with pytest.raises(Exception):
            c.ensure_schema("broken", ["CREATE TABLE ok1(a INT); CREATE TABLE demo(a INT);"])
        assert c.schema_version("broken") == 0
        assert c.conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name='ok1'").fetchone()[0] == 0


@pytest.mark.sqlite_only
def test_home_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("KEHOACH_HOME", str(tmp_path / "env"))
    assert H.resolve_home(str(tmp_path / "cli")) == (tmp_path / "cli").resolve()
    assert H.resolve_home(None) == (tmp_path / "env").resolve()
    assert (tmp_path / "env").is_dir()
    monkeypatch.delenv("KEHOACH_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert H.resolve_home(None) == (tmp_path / "xdg" / "kehoach").resolve()
    (tmp_path / "file").write_text("x")
    with pytest.raises(KehoachError, match="not a directory"):
        H.resolve_home(str(tmp_path / "file"))


@pytest.mark.sqlite_only
def test_readonly_and_not_a_database(tmp_path):
    with pytest.raises(CorpusError, match="no corpus here yet"):
        Corpus(tmp_path / "nothing", readonly=True)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / H.DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorpusError, match="not a usable corpus database"):
        Corpus(tmp_path / "bad")


def test_plan_lookup_and_task_records(corpus, seeds):
    corpus.add([str(seeds)], progress=False, extract=gold_extract)
    tq = corpus.plan("116/KH-UBND")
    assert tq is not None and tq.province == "Tuyên Quang"
    assert corpus.plan(str(tq.id)) == tq == corpus.plan(SEEDS[1].stem) == corpus.plan(tq.source)
    assert corpus.plan("999/KH-XYZ") is None
    gold = json.loads((GOLD / f"{SEEDS[1].stem}.json").read_text())
    recs = list(corpus.tasks([tq.id]))
    assert [r.task_id for r in recs] == [t["id"] for t in gold["tasks"]]
    for r, g in zip(recs, gold["tasks"]):
        assert r.key == f"{tq.id}:{g['id']}" and r.text == g["text"] and r.lead == g["lead"]
        assert len(r.lead_bodies) == len(g["lead"]) and len(r.support_bodies) == len(g["support"])
        assert r.plan.id == tq.id
    ext = corpus.extraction(tq.id)
    assert ext.to_dict()["tasks"] == Extraction.from_dict(gold).to_dict()["tasks"]
    assert ext.document.province == "Tuyên Quang"
    from kehoach.ingest import read
    assert corpus.text(tq.id) == read(tq.path).text
    assert [r["symbol"] for r in corpus.refs(tq.id)] == [r["symbol"] for r in gold["legal_refs"]]


# --------------------------------------------------------------------------- CLI

def _cli(*argv) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, "-m", "kehoach", *argv], capture_output=True, text=True, cwd=REPO,
                       timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    return p.returncode, p.stdout, p.stderr


def test_cli_list_and_show(tmp_path, seeds):
    home = tmp_path / "home"
    with Corpus(home) as c:
        c.add([str(seeds)], progress=False, extract=gold_extract)
    code, out, err = _cli("--home", str(home), "list", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == len(SEEDS)
    tq = next(r for r in rows if r["number"] == "116/KH-UBND")
    assert tq["issuer"] == "Ủy ban nhân dân tỉnh Tuyên Quang" and tq["date"] == "2021-07-28"
    code, out, _ = _cli("--home", str(home), "list")
    assert code == 0 and "116/KH-UBND" in out and "Tuyên Quang" in out

    code, out, err = _cli("--home", str(home), "show", "116/KH-UBND", "--format", "json")
    assert code == 0, err
    view = json.loads(out)
    gold = json.loads((GOLD / f"{SEEDS[1].stem}.json").read_text())
    assert len(view["tasks"]) == len(gold["tasks"])
    t = next(t for t in view["tasks"] if "Sở Nội vụ" in t["lead"])
    assert any(b["label"] == "Sở Nội vụ (Tuyên Quang)" for b in t["lead_bodies"])
    code, out, _ = _cli("--home", str(home), "show", str(tq["id"]))
    assert code == 0 and "lead:" in out and "116/KH-UBND" in out

    code, _, err = _cli("--home", str(home), "show", "no-such-plan")
    assert code == 1 and "no-such-plan: no such plan" in err and "Traceback" not in err


def test_cli_add_reports_failures_with_exit_1(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    code, out, err = _cli("--home", str(tmp_path / "home"), "add", str(tmp_path / "empty.txt"),
                          str(tmp_path / "nope.docx"))
    assert code == 1
    assert f"{tmp_path / 'empty.txt'}: empty file" in err
    assert f"{tmp_path / 'nope.docx'}: no such file" in err
    assert "Traceback" not in err


def _real_extractor():
    try:
        from kehoach.extract import extract
    except ImportError:
        return None
    return extract


@pytest.mark.skipif(_real_extractor() is None, reason="kehoach.extract.extract not available")
def test_real_pipeline_add_and_readd(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for s in SEEDS[:3]:
        shutil.copy(s, d / s.name)
    code, out, err = _cli("--home", str(tmp_path / "home"), "add", "--no-index", str(d))
    assert code == 0, err
    with Corpus(tmp_path / "home") as c:
        plans = c.plans()
        assert len(plans) == 3 and all(p.task_count > 0 for p in plans)
        assert c.integrity()["tasks"] == sum(p.task_count for p in plans)
    code, out, err = _cli("--home", str(tmp_path / "home"), "add", "--no-index", str(d))
    assert code == 0 and "0 added, 0 replaced, 3 unchanged" in err
