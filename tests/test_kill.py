"""``kill -9`` during add, replace and link: the corpus stays whole (``kehoach check`` is clean,
no plan is half stored) and the next ``add`` completes the work, storing every plan once.

The crash instants are named by ``KEHOACH_TEST_CRASH_AT`` (``kehoach.corpus.store.crash_point``:
the process calls ``os._exit``, which leaves the database exactly as a SIGKILL does); the link
step is also killed with a real SIGKILL while it runs."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kehoach.corpus.store import INDEX_LOCK_NAME, Corpus

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "kehoach" / "samples").glob("*.txt"))
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("store_backend")]   # SQLite and PostgreSQL


def _kehoach(home: Path, *args: str, crash: str | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("KEHOACH_TEST_CRASH_AT", None)
    if crash:
        env["KEHOACH_TEST_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "kehoach", "--home", str(home), *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _plans(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "plans"
    d.mkdir()
    for p in SAMPLES[:n]:
        shutil.copy(p, d / p.name)
    return d


def _whole(home: Path) -> dict:
    """``kehoach check`` is clean and every plan has all its task rows."""
    r = _kehoach(home, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    with Corpus(home, readonly=True) as c:
        info = c.integrity()
    assert info["integrity"] == "ok" and info["tasks"] == info["task_count_sum"]
    assert info["orphan_tasks"] == info["orphan_links"] == info["duplicate_sha"] == 0
    return info


@pytest.mark.parametrize("point", ["after_extract:2", "mid_transaction:2"])
def test_add_killed_mid_batch(tmp_path, point):
    plans, home = _plans(tmp_path, 3), tmp_path / "H"
    r = _kehoach(home, "add", "--no-index", "-q", str(plans), crash=point)
    assert r.returncode == 137
    assert _whole(home)["plans"] == 1                 # the first plan committed, the second not at all
    r = _kehoach(home, "add", "--no-index", "--format", "json", str(plans))
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert len(rep["added"]) == 2 and len(rep["unchanged"]) == 1
    assert _whole(home)["plans"] == 3


def test_replace_killed_in_its_transaction_keeps_the_old_plan(tmp_path):
    plans, home = _plans(tmp_path, 2), tmp_path / "H"
    assert _kehoach(home, "add", "--no-index", "-q", str(plans)).returncode == 0
    target = plans / SAMPLES[1].name
    with Corpus(home, readonly=True) as c:
        old = c.plan(str(target))
        old_text = c.text(old.id)
    target.write_text(target.read_text("utf-8").replace("năm", "NĂM"), encoding="utf-8")
    r = _kehoach(home, "add", "--no-index", "-q", str(target), crash="mid_transaction")
    assert r.returncode == 137
    check = _kehoach(home, "check")                   # only the edited source differs from the store
    assert check.returncode == 1
    assert [ln.split(": ", 1)[1] for ln in check.stdout.splitlines()] == \
           ["source file changed since it was added (add it again to update)"]
    with Corpus(home, readonly=True) as c:
        now = c.plan(old.id)
        assert (now.sha256, c.text(old.id)) == (old.sha256, old_text)
    r = _kehoach(home, "add", "--no-index", "--format", "json", str(target))
    assert r.returncode == 0 and [x["plan"] for x in json.loads(r.stdout)["replaced"]] == [old.id]
    info = _whole(home)
    assert info["plans"] == 2


def _link_state(home: Path) -> tuple[set[str], set[str], dict]:
    """(task keys, keys the link index has searched, index_pending)."""
    with sqlite3.connect(f"file:{home / 'kehoach.sqlite3'}?mode=ro", uri=True) as c:
        keys = {f"{p}:{t}" for p, t in c.execute("SELECT plan_id, task_id FROM tasks")}
        try:
            searched = {k for (k,) in c.execute("SELECT key FROM link_searched")}
        except sqlite3.OperationalError:
            searched = set()
        row = c.execute("SELECT value FROM meta WHERE key='index_pending'").fetchone()
    return keys, searched, json.loads(row[0]) if row else {}


@pytest.mark.sqlite_only      # watches the lock file and reads the SQLite file directly
def test_link_step_killed_is_caught_up_by_the_next_add(tmp_path):
    plans, home = _plans(tmp_path, 2), tmp_path / "H"
    r = _kehoach(home, "add", "-q", str(plans), crash="before_index")
    assert r.returncode == 137
    keys, searched, pending = _link_state(home)
    assert keys and not (searched & keys) and sorted(pending["added"]) == [1, 2]
    _whole(home)
    # a real SIGKILL while the hooks run: the moment the add holds the index lock (the model then
    # loads and embeds for seconds)
    env = {k: v for k, v in os.environ.items() if k != "KEHOACH_TEST_CRASH_AT"}
    proc = subprocess.Popen([sys.executable, "-m", "kehoach", "--home", str(home), "add", "-q", str(plans)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    fd = os.open(str(home / INDEX_LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                time.sleep(0.05)
            except BlockingIOError:                   # the hooks are running
                time.sleep(0.5)
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        os.close(fd)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    _whole(home)
    r = _kehoach(home, "add", "--format", "json", str(plans))      # nothing new: it finishes the index
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["unchanged"]) == 2
    keys, searched, pending = _link_state(home)
    assert keys <= searched and pending == {"added": [], "removed": []}
    _whole(home)
