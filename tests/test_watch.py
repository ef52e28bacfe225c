"""``kehoach watch``: a resident process adds what is in a folder, then each real plan dropped
there, once it has stopped growing; a bad file is one line and watching goes on; Ctrl-C stops it
with nothing lost."""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kehoach.corpus.store import Corpus
from kehoach.corpus.watch import Settling, wanted
from tests.shared import files


def test_wanted_takes_readable_formats_only():
    assert wanted(Path("a/159-KH-UBND.txt")) and wanted(Path("QD 135.PDF")) and wanted(Path("x.docx"))
    assert not wanted(Path("~$159-KH-UBND.docx"))          # Word's lock file beside an open document
    assert not wanted(Path(".159.txt.swp")) and not wanted(Path("159.docx.crdownload"))
    assert not wanted(Path("notes.exe"))


def test_settling_waits_until_a_growing_file_holds_still(tmp_path):
    now = [0.0]
    s = Settling(1.0, clock=lambda: now[0])
    f = tmp_path / "plan.txt"
    f.write_text("KẾ HOẠCH\n", "utf-8")
    s.note(f)
    assert s.ready() == []                  # first look: its size and time are recorded
    now[0] = 0.6
    with f.open("a", encoding="utf-8") as out:
        out.write("I. MỤC ĐÍCH\n")          # still being written
    assert s.ready() == []
    now[0] = 1.5                            # 0.9 s after the last change
    assert s.ready() == []
    now[0] = 1.7
    assert s.ready() == [f] and len(s) == 0
    g = tmp_path / "gone.txt"
    g.write_text("x", "utf-8")
    s.note(g)
    g.unlink()
    assert s.ready() == [] and len(s) == 0  # removed before it settled: forgotten


class _Watcher:
    """``kehoach watch`` in a child process, its stdout and stderr read line by line."""

    def __init__(self, home: Path, folder: Path, *extra: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "kehoach", "--home", str(home), "watch", str(folder),
                                      "--settle", "0.5", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, what, timeout: float = 300) -> str:
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.proc.poll() is None, f"watch exited {self.proc.returncode}: {self.seen[-5:]}"
                continue
            self.seen.append(line)
            if what(line):
                return line
        raise AssertionError(f"not seen in {timeout} s; last lines: {self.seen[-8:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=120)
        time.sleep(0.2)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return rc


def _stored(home: Path) -> dict[str, int]:
    with Corpus(home, readonly=True) as c:
        return {Path(p.path).name: p.task_count for p in c.plans()}


def _added_alone(tmp_path: Path, plan: Path) -> int:
    home = tmp_path / "alone"
    subprocess.run([sys.executable, "-m", "kehoach", "--home", str(home), "add", "-q", "--no-index", str(plan)],
                   check=True, capture_output=True)
    return _stored(home)[plan.name]


def test_watch_adds_the_folder_then_each_plan_dropped_in(tmp_path):
    web = files("real/web", "*.txt")
    html = files("real/html", "*.html")
    folder, home = tmp_path / "inbox", tmp_path / "home"
    folder.mkdir()
    shutil.copy(web[0], folder / web[0].name)                      # there before the watch starts
    w = _Watcher(home, folder, "--no-index")
    try:
        w.wait_for(lambda line: line.startswith("kehoach: watching "))
        assert _stored(home) == {web[0].name: _added_alone(tmp_path, web[0])}
        # a plan written in two goes, with a pause longer than a poll: read once, whole
        data = web[1].read_bytes()
        target = folder / web[1].name
        with target.open("wb") as out:
            out.write(data[: len(data) // 3])
            out.flush()
            time.sleep(0.3)
            out.write(data[len(data) // 3:])
        w.wait_for(lambda line: line.startswith("added") and line.endswith(web[1].name))
        # a portal page in a sub-folder, and a broken "PDF" beside it
        (folder / "html").mkdir()
        shutil.copy(html[0], folder / "html" / html[0].name)
        (folder / "broken.pdf").write_bytes(b"this is no PDF\n")
        w.wait_for(lambda line: "broken.pdf: " in line and "PDF" in line.split("broken.pdf: ", 1)[1])
        w.wait_for(lambda line: line.startswith("added") and line.endswith(html[0].name))
        # a copy of a stored plan under another name: one line, no second plan
        copy = folder / web[0].name.replace(".txt", "-copy.txt")
        shutil.copy(web[1], copy)
        w.wait_for(lambda line: line.endswith(f"{copy}: skipped, same content as {target}"))
    finally:
        rc = w.stop()
    assert rc == 0 and "kehoach: watch stopped" in w.seen
    assert not any("Traceback" in line for line in w.seen)
    stored = _stored(home)
    assert set(stored) == {web[0].name, web[1].name, html[0].name}
    assert stored[web[1].name] == _added_alone(tmp_path / "b", web[1]) > 0


@pytest.mark.slow
def test_watch_keeps_the_indices_in_step(tmp_path):
    """With the link and search hooks: a plan dropped in is searchable as soon as it is added."""
    web = files("real/web", "*.txt")
    folder, home = tmp_path / "inbox", tmp_path / "home"
    folder.mkdir()
    w = _Watcher(home, folder, "--format", "json")
    try:
        w.wait_for(lambda line: line.startswith("kehoach: watching "))
        for p in web[:2]:
            shutil.copy(p, folder / p.name)
        got = []
        while sum(len(r["added"]) for r in got) < 2:
            got.append(json.loads(w.wait_for(lambda line: line.startswith("{"))))
    finally:
        assert w.stop() == 0
    assert all(not r["failed"] and not r["hook_errors"] for r in got)
    assert (home / "search" / "meta.json").exists()         # the add extended the index, no search built it
    with Corpus(home, readonly=True) as c:
        plan = next(p for p in c.plans() if Path(p.path).name == web[1].name)
        task = max(c.tasks([plan.id]), key=lambda r: len(r.text))
    query = " ".join(task.text.split()[:12])
    out = subprocess.run([sys.executable, "-m", "kehoach", "--home", str(home), "search", "--format", "json",
                          "--limit", "3", "--literal", query], capture_output=True, text=True, check=True)
    top = json.loads(out.stdout)["hits"][0]
    assert top["key"] == task.key and Path(top["source"]).name == web[1].name
