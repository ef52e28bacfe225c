"""``kehoach serve --token``: every route but the login page and its assets needs the token, given as
``Authorization: Bearer`` or as the HttpOnly SameSite=Strict cookie ``/login`` sets. On the real app
(TestClient) and on a real ``kehoach serve`` process."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kehoach.corpus.store import Corpus
from kehoach.search.server import SESSION_COOKIE, CorpusBackend, create_app, default_hosts, session_value

SAMPLES = Path(__file__).resolve().parent.parent / "kehoach" / "samples"
TOKEN = "t0ken-for-the-tests-7f3a9c"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with Corpus(home) as c:
        c.add([str(p) for p in sorted(SAMPLES.glob("*.txt"))[:2]], progress=False)
    return home


@pytest.fixture(scope="module")
def app(home):
    backend = CorpusBackend(home, embedder=None)
    yield create_app(backend, allowed_hosts=default_hosts("127.0.0.1") + ["testserver"], token=TOKEN)
    backend.close()


def test_api_routes_need_the_token(app):
    c = TestClient(app)
    for url in ["/api/plans", "/api/plans/1", "/api/search?q=thanh+toan&mode=lexical", "/api/tasks", "/docs",
                "/openapi.json"]:
        r = c.get(url)
        assert r.status_code == 401, url
        assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/plans", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/api/plans", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert c.get("/api/plans", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    r = c.get("/api/plans", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and len(r.json()["plans"]) == 2


def test_the_page_logs_in_once_and_then_carries_a_cookie(app):
    c = TestClient(app)
    r = c.get("/")
    assert r.status_code == 200 and 'action="/login"' in r.text and "api/" not in r.text
    assert c.get("/static/style.css").status_code == 200          # the login page's style
    r = c.post("/login", data={"token": "nope"}, follow_redirects=False)
    assert r.status_code == 401 and "không đúng" in r.text
    r = c.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    assert c.cookies[SESSION_COOKIE] == session_value(TOKEN)
    assert c.get("/api/plans").status_code == 200                 # the page's fetches carry the cookie
    assert "<script" in c.get("/").text                           # the real page now
    other = TestClient(app, cookies={SESSION_COOKIE: session_value("another token")})
    assert other.get("/api/plans").status_code == 401


def test_login_by_link(app):
    c = TestClient(app)
    r = c.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/plans/1").status_code == 200


def test_without_a_token_nothing_asks_for_one(home):
    backend = CorpusBackend(home, embedder=None)
    c = TestClient(create_app(backend, allowed_hosts=["testserver"]))
    assert c.get("/api/plans").status_code == 200
    assert c.get("/login").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_server_process_with_a_token_from_the_environment(home):
    port = _free_port()
    env = dict(os.environ, KEHOACH_TOKEN=TOKEN)
    proc = subprocess.Popen([sys.executable, "-m", "kehoach", "--home", str(home), "serve", "--no-dense",
                             "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(base + "/api/plans", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert r.status_code == 401
        assert httpx.get(base + "/api/plans", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        with httpx.Client(base_url=base) as c:
            assert c.post("/login", data={"token": TOKEN}).status_code == 303
            assert c.get("/api/search", params={"q": "thanh toán", "mode": "lexical"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serving_beyond_this_machine_without_a_token_warns(home, capsys, monkeypatch):
    import uvicorn
    from kehoach.search import server
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)      # bind nothing: the warning is printed before
    assert server.serve(home, host="0.0.0.0", port=8765, embedder=None) == 0
    assert "without --token" in capsys.readouterr().err
    assert server.serve(home, host="0.0.0.0", port=8765, embedder=None, token=TOKEN) == 0
    assert "without --token" not in capsys.readouterr().err
