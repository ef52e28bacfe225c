"""The registry and legal routes read the corpus read-only and compute each report once per corpus
generation: concurrent requests wait for one computation, a restarted server finds it on disk, a
new generation computes it again; nothing is written into the corpus by a GET."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kehoach.corpus.store import Corpus
from kehoach.search.server import CorpusBackend, create_app

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "kehoach" / "samples").glob("*.txt"))


def _tables(home: Path) -> set[str]:
    with sqlite3.connect(f"file:{home / 'kehoach.sqlite3'}?mode=ro", uri=True) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _client(home: Path) -> tuple[CorpusBackend, TestClient]:
    backend = CorpusBackend(home, embedder=None)
    return backend, TestClient(create_app(backend, allowed_hosts=["testserver"]), raise_server_exceptions=False)


@pytest.mark.slow
def test_registry_is_computed_once_per_generation_and_never_writes(tmp_path):
    home = tmp_path / "H"
    with Corpus(home) as c:
        c.add([str(p) for p in SAMPLES[:2]], progress=False)          # no link hook: links never searched
    before = _tables(home)
    backend, client = _client(home)
    r = client.get("/api/registry")
    assert r.status_code == 503 and "kehoach link" in r.json()["detail"]
    assert _tables(home) == before                                     # the read-only GET created nothing

    from kehoach.corpus.link import update
    with Corpus(home) as c:                                            # what 'kehoach add' runs after storing
        update(c, [1, 2])
    backend, client = _client(home)
    answers = []

    def get():
        answers.append(client.get("/api/registry?as_of=2025-06-30"))
    threads = [threading.Thread(target=get) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].text
    assert answers[0].json() == answers[1].json() == answers[2].json()
    reg = answers[0].json()["registry"]
    assert reg["as_of"] == "2025-06-30" and sum(cl["size"] for cl in reg["clusters"]) > 0
    assert backend.reports.computed == 1
    gen = backend.generation()
    assert (home / "cache" / f"registry-g{gen}-2025-06-30.json").exists()
    backend.close()

    restarted, client = _client(home)                                  # a new server: from the disk cache
    assert client.get("/api/registry?as_of=2025-06-30").json() == answers[0].json()
    assert restarted.reports.computed == 0

    with Corpus(home) as c:                                            # a new generation
        c.add([str(SAMPLES[2])], progress=False)
        update(c, [3])
    r = client.get("/api/registry?as_of=2025-06-30")
    assert r.status_code == 200 and restarted.reports.computed == 1
    assert sum(cl["size"] for cl in r.json()["registry"]["clusters"]) > sum(cl["size"] for cl in reg["clusters"])
    assert not (home / "cache" / f"registry-g{gen}-2025-06-30.json").exists()   # the old generation's file
    good = r.json()["registry"]
    with Corpus(home) as c:                                            # stored, its link hook not yet run
        c.add([str(SAMPLES[3])], progress=False)
    r = client.get("/api/registry?as_of=2025-06-30")
    assert r.status_code == 200
    stale = r.json()["registry"]
    assert stale.pop("stale")["generation"] == gen + 1 and stale == good
    restarted.close()


def test_legal_without_legal_data_answers_and_creates_no_table(tmp_path):
    home = tmp_path / "H"
    with Corpus(home) as c:
        c.add([str(SAMPLES[0])], progress=False)
    before = _tables(home)
    backend, client = _client(home)
    r = client.get("/api/legal/1?as_of=2025-01-01")
    assert r.status_code == 200, r.text
    legal = r.json()["legal"]
    assert legal["as_of"] == "2025-01-01" and len(legal["plans"]) == 1
    assert "no legal data" in legal.get("note", "") or hasattr(__import__("kehoach.corpus.legal.check",
                                                                          fromlist=["x"]), "plan_report")
    assert _tables(home) == before and not any(t.startswith("legal") for t in _tables(home))
    client.get("/api/legal/1?as_of=2025-01-01")
    assert backend.reports.computed == 1                                # the second answer is cached

