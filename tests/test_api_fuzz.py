"""Every HTTP route with a table of bad values: 4xx, never a 500, on a real corpus (the sample plans).
And the Host header allow-list that guards the page against DNS rebinding."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kehoach.corpus.store import Corpus
from kehoach.search.server import CorpusBackend, create_app, default_hosts

SAMPLES = Path(__file__).resolve().parent.parent / "kehoach" / "samples"

BAD_REFS = ["99999999999999999999999999", "1%00", "%00", "1%0a2", "..%2f..%2fetc%2fpasswd", "a" * 400,
            "-1", "0", "1.5", "%ff%fe", "x/y/z", "%e2%80%ae"]
BAD_DATES = ["2024-02-30", "2024-99-99", "2024-13-45", "20240101", "tomorrow", "2024-1-1", "9" * 40, "%00",
             "2024-00-10", "0000-00-00"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with Corpus(home) as c:
        c.add([str(p) for p in sorted(SAMPLES.glob("*.txt"))[:2]], progress=False)
    app = create_app(CorpusBackend(home, embedder=None), allowed_hosts=default_hosts("127.0.0.1") + ["testserver"])
    return TestClient(app, raise_server_exceptions=False)


def _routes():
    for ref in BAD_REFS:
        yield f"/api/plans/{ref}"
        yield f"/api/legal/{ref}"
    for d in BAD_DATES:
        yield f"/api/legal/1?as_of={d}"
        yield f"/api/registry?as_of={d}"
        yield f"/api/search?q=thanh+toan&mode=lexical&deadline_before={d}"
        yield f"/api/who?q=thanh+toan&deadline_after={d}"
    for q in ["", "%00", "a" * 5000, "%ff", "'; DROP TABLE plans; --", "<script>alert(1)</script>"]:
        yield f"/api/search?q={q}&mode=lexical"
        yield f"/api/who?q={q}"
    for extra in ["limit=0", "limit=-5", "limit=99999999999999999999", "limit=abc", "mode=x", "year=99999",
                  "year=abc", "province=" + "x" * 500, "indicators=maybe"]:
        yield f"/api/search?q=thanh+toan&{extra}"
    yield "/static/../../etc/passwd"
    yield "/static/%2e%2e%2fpyproject.toml"


@pytest.mark.parametrize("url", list(_routes()))
def test_no_route_answers_500_to_bad_input(client, url):
    r = client.get(url)
    assert r.status_code < 500, (url, r.status_code, r.text[:300])
    assert "Traceback" not in r.text


def test_bad_dates_and_refs_are_client_errors_with_a_reason(client):
    r = client.get("/api/legal/1?as_of=2024-02-30")
    assert r.status_code == 422 and "as_of" in r.text
    r = client.get("/api/search?q=thanh+toan&mode=lexical&deadline_before=2024-13-45")
    assert r.status_code == 422 and "deadline_before" in r.text
    assert client.get("/api/plans/99999999999999999999999999").status_code == 400
    assert client.get("/api/plans/1%00").status_code == 400


def test_good_requests_still_answer(client):
    assert client.get("/api/plans/1").status_code == 200
    r = client.get("/api/search?q=thanh+toan+truc+tuyen&mode=lexical&deadline_before=2030-12")
    assert r.status_code == 200


def test_foreign_host_header_is_refused(client):
    assert client.get("/api/plans", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/plans", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/api/plans", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_default_hosts_are_the_bind_address_and_loopback():
    assert "10.1.2.3" in default_hosts("10.1.2.3")
    assert "0.0.0.0" not in default_hosts("0.0.0.0")
    assert {"localhost", "127.0.0.1"} <= set(default_hosts("127.0.0.1"))
