"""A corpus home that holds bad things: symlink loops among the plans, an empty or damaged database.
Each is one line naming the file, the good files of the batch are still stored, and a damaged
database is refused before anything is written into it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kehoach.corpus.store import Corpus, discover
from kehoach.corpus.store import CorpusError

SAMPLES = Path(__file__).resolve().parent.parent / "kehoach" / "samples"
SAMPLE = sorted(SAMPLES.glob("*.txt"))[0]
pytestmark = pytest.mark.usefixtures("store_backend")     # SQLite and PostgreSQL (conftest.py)


def test_a_symlink_loop_in_a_folder_is_reported_and_the_good_files_still_found(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(SAMPLE, d / SAMPLE.name)
    (d / "a.txt").symlink_to("b.txt")
    (d / "b.txt").symlink_to("a.txt")
    (d / "c.txt").symlink_to("nowhere.txt")
    found, bad = discover([str(d), str(d / "a.txt")])
    assert [p.name for _, p in found] == [SAMPLE.name]
    reasons = {Path(a).name: r for a, r in bad}
    assert reasons["a.txt"] == reasons["b.txt"] == "symbolic link loop"
    assert reasons["c.txt"].startswith("broken symbolic link")


def test_add_with_a_symlink_loop_stores_the_good_file(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(SAMPLE, d / SAMPLE.name)
    (d / "a.txt").symlink_to("b.txt")
    (d / "b.txt").symlink_to("a.txt")
    r = subprocess.run([sys.executable, "-m", "kehoach", "--home", str(tmp_path / "H"), "add", str(d)],
                       capture_output=True, text=True, timeout=300)
    assert "symbolic link loop" in r.stderr
    with Corpus(tmp_path / "H", readonly=True) as c:
        assert [p.source for p in c.plans()] == [str(d / SAMPLE.name)]


@pytest.mark.sqlite_only
def test_an_empty_database_file_is_refused_not_opened_as_an_empty_corpus(tmp_path):
    (tmp_path / "kehoach.sqlite3").write_bytes(b"")
    with pytest.raises(CorpusError, match="empty file"):
        Corpus(tmp_path)
    with pytest.raises(CorpusError, match="empty file"):
        Corpus(tmp_path, readonly=True)


@pytest.mark.sqlite_only
def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    (tmp_path / "kehoach.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(CorpusError, match="not a usable corpus database .not SQLite"):
        Corpus(tmp_path)


@pytest.mark.sqlite_only
def test_a_database_with_garbage_pages_is_refused_and_left_untouched(tmp_path):
    with Corpus(tmp_path) as c:
        c.add([str(p) for p in sorted(SAMPLES.glob("*.txt"))[:2]], progress=False)
    db = tmp_path / "kehoach.sqlite3"
    for extra in tmp_path.glob("kehoach.sqlite3-*"):
        extra.unlink()
    data = bytearray(db.read_bytes())
    assert len(data) > 3 * 4096
    data[8192:len(data) - 4096] = b"\x5a" * (len(data) - 4096 - 8192)
    db.write_bytes(bytes(data))
    before = db.read_bytes()
    with pytest.raises(CorpusError, match=r"damaged corpus database .*restore a backup"):
        Corpus(tmp_path)
    assert db.read_bytes() == before
    r = subprocess.run([sys.executable, "-m", "kehoach", "--home", str(tmp_path), "add", str(SAMPLE)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1 and "damaged corpus database" in r.stderr
    assert db.read_bytes() == before


def test_check_finds_text_edited_in_place_and_a_changed_source(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    for p in sorted(SAMPLES.glob("*.txt"))[:2]:
        shutil.copy(p, plans / p.name)
    home = tmp_path / "H"
    with Corpus(home) as c:
        c.add([str(plans)], progress=False)
        assert c.verify() == []
        c.conn.execute("UPDATE plans SET text = replace(text, 'Ủy ban', 'Uy ban') WHERE id = 1")
    (plans / sorted(p.name for p in plans.iterdir())[1]).write_text("changed", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "kehoach", "--home", str(home), "check"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert any(ln.startswith("plan     1") and "edited after they were written" in ln for ln in lines)
    assert any(ln.startswith("plan     2") and "source file changed" in ln for ln in lines)
    assert "2 plans checked, 2 problems" in r.stderr


@pytest.mark.sqlite_only
def test_backup_is_a_usable_copy(tmp_path):
    home = tmp_path / "H"
    with Corpus(home) as c:
        c.add([str(SAMPLE)], progress=False)
        dest = c.backup(tmp_path)
    with Corpus(dest.parent / "restored", readonly=False) as fresh:
        pass
    (dest.parent / "restored" / "kehoach.sqlite3").unlink()
    shutil.copy(dest, dest.parent / "restored" / "kehoach.sqlite3")
    with Corpus(dest.parent / "restored", readonly=True) as c:
        assert [p.source for p in c.plans()] == [str(SAMPLE)]
        assert c.verify() == []


def test_a_text_that_is_no_plan_is_left_out_with_its_own_exit_status(tmp_path):
    lorem = tmp_path / "lorem.txt"
    lorem.write_text("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 50, encoding="utf-8")
    home = tmp_path / "H"
    cmd = [sys.executable, "-m", "kehoach", "--home", str(home), "add"]
    r = subprocess.run(cmd + [str(lorem), str(SAMPLE)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 3, r.stderr
    assert f"{lorem}: not a plan:" in r.stderr and "--accept-any" in r.stderr
    with Corpus(home, readonly=True) as c:
        assert [p.source for p in c.plans()] == [str(SAMPLE)]
    r = subprocess.run(cmd + ["--accept-any", str(lorem)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with Corpus(home, readonly=True) as c:
        assert len(c.plans()) == 2
