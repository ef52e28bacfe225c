"""HTTP API and the web page: validation, escaping, no path traversal, and a real
headless chromium driving the page (type a query, see owners and hits, open a plan)."""
from __future__ import annotations

import contextlib
import shutil

import pytest

from kehoach.models import Extraction
from kehoach.search.fixtures import load_records
from kehoach.search.hybrid import SearchIndex, docs_from_extractions
from kehoach.search.lexical import syllable_segmenter
from kehoach.search.server import MemoryBackend, create_app

from tests.shared import files, need, serve_in_thread

EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'


def make_backend() -> MemoryBackend:
    records = load_records(files("eval/gold", "*.json"), need("seeds"))
    # an untrusted plan: markup in its text and tasks must stay text
    evil = Extraction.from_dict({"source": "evil.txt", "document": {"number": "1/KH-X", "type": "Kế hoạch",
                                 "issuer": "Ủy ban nhân dân tỉnh Thử", "title": EVIL},
                                 "tasks": [{"id": "t1", "kind": "task", "section": "I", "lead": [EVIL],
                                            "text": "Rà soát thanh toán trực tuyến " + EVIL}]})
    evil_text = "KẾ HOẠCH\nRà soát thanh toán trực tuyến " + EVIL + "\n"
    records.append((evil, evil_text))
    exs = {i: ex for i, (ex, _) in enumerate(records, 1)}
    texts = {i: t for i, (_, t) in enumerate(records, 1)}
    from kehoach.search.fixtures import locate_spans
    locate_spans(evil, evil_text)
    index = SearchIndex.build(docs_from_extractions(exs.items()), words=syllable_segmenter)
    return MemoryBackend(index, exs, texts)


@pytest.fixture(scope="module")
def backend():
    return make_backend()


@pytest.fixture(scope="module")
def client(backend):
    from fastapi.testclient import TestClient
    return TestClient(create_app(backend))


def test_openapi_and_page(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/search", "/api/who", "/api/plans", "/api/plans/{ref}", "/api/registry"} <= set(spec["paths"])
    page = client.get("/")
    assert page.status_code == 200 and 'lang="vi"' in page.text and "/static/app.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text      # no CDN: works offline
    assert "Content-Security-Policy" in page.headers
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text                                        # DOM built with textContent


def test_search_api(client):
    r = client.get("/api/search", params={"q": "thanh toan truc tuyen", "limit": 5, "mode": "lexical"})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert len(hits) == 5 and all("thanh toán" in h["text"].lower() for h in hits[:3])
    r = client.get("/api/who", params={"q": "ai chủ trì cấp giấy phép xây dựng"})
    assert r.status_code == 200 and r.json()["owners"][0]["body"] == "Phòng Quy hoạch và Phát triển đô thị"


def test_validation_errors_are_4xx(client):
    assert client.get("/api/search").status_code == 422
    assert client.get("/api/search", params={"q": "x" * 501}).status_code == 422
    assert client.get("/api/search", params={"q": "báo cáo", "limit": 1000}).status_code == 422
    assert client.get("/api/search", params={"q": "báo cáo", "deadline_before": "2021/1/1"}).status_code == 422
    assert client.get("/api/search", params={"q": "báo cáo", "mode": "evil"}).status_code == 422
    r = client.get("/api/search", params={"q": "?!"})
    assert r.status_code == 400 and "no words" in r.json()["detail"]
    assert client.get("/api/plans/999").status_code == 404
    assert client.get("/api/registry").status_code == 501


def test_no_path_traversal(client):
    for path in ("/static/../server.py", "/static/..%2Fserver.py", "/static/%2e%2e/%2e%2e/errors.py",
                 "/static/index.html/../../cli.py", "/static/server.py", "/static/..", "/static/../../errors.py"):
        r = client.get(path)
        # either refused, or the client normalized the path to the page itself; never a source file
        assert r.status_code == 404 or 'lang="vi"' in r.text, path
        assert "import " not in r.text and "KehoachError" not in r.text


def test_markup_is_escaped_in_json(client):
    r = client.get("/api/search", params={"q": "rà soát thanh toán trực tuyến", "plan": "1/KH-X", "mode": "lexical"})
    hit = r.json()["hits"][0]
    assert EVIL in hit["text"]                      # raw text for textContent
    assert "<script>" not in hit["snippet"] and "&lt;script&gt;" in hit["snippet"]


# ---------------------------------------------------------------- the page in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def live_server(backend):
    yield from serve_in_thread(create_app(backend))


def chrome(width=1280, height=900):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    selenium = pytest.importorskip("selenium", reason="pip package selenium not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
              f"--window-size={width},{height}", "--lang=vi"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@contextlib.contextmanager
def page_on(home):
    """A lexical server over the corpus at ``home`` and a headless Chromium: yields (driver, base URL),
    then stops both."""
    from kehoach.search.server import CorpusBackend, create_app
    backend = CorpusBackend(home, embedder=None)
    gen = serve_in_thread(create_app(backend))
    try:
        url = next(gen)
        drv = chrome()
        try:
            yield drv, url
        finally:
            drv.quit()
    finally:
        next(gen, None)
        backend.close()


@pytest.mark.slow
def test_page_end_to_end(live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    drv = chrome()
    try:
        wait = WebDriverWait(drv, 20)
        drv.get(live_server + "/")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#plans li")))
        box = drv.find_element(By.ID, "q")
        box.send_keys("ai chủ trì cấp giấy phép xây dựng")
        drv.find_element(By.ID, "go").click()
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#owners li")))
        owners = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#owners .owner-name")]
        assert owners[0] == "Phòng Quy hoạch và Phát triển đô thị"
        hits = drv.find_elements(By.CSS_SELECTOR, "#hits .hit")
        assert len(hits) >= 3
        assert drv.find_elements(By.CSS_SELECTOR, "#hits .hit mark")            # matched words marked
        assert "Chủ trì" in hits[0].text
        hits[0].find_element(By.CSS_SELECTOR, "a.open-plan").click()
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#plan-text span.task")))
        assert drv.find_elements(By.CSS_SELECTOR, "#plan-text span.task.focus")  # the hit's task highlighted
        assert drv.find_elements(By.CSS_SELECTOR, "#plan-tasks li")
        # untrusted text stays text
        drv.get(live_server + "/#/search?q=" + "rà soát thanh toán trực tuyến&plan=1/KH-X")
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#hits .hit")))
        drv.find_element(By.CSS_SELECTOR, "#hits .hit a.open-plan").click()
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#plan-text span.task")))
        assert drv.execute_script("return window.__pwned === undefined")
        assert "<script>" in drv.find_element(By.ID, "plan-text").text
        # a bad filter gives a readable error, not a broken page
        drv.get(live_server + "/#/search?q=b%C3%A1o%20c%C3%A1o&deadline_before=31-12")
        wait.until(EC.text_to_be_present_in_element((By.ID, "status"), "Lỗi"))
    finally:
        drv.quit()


def test_corpus_backend_on_a_stored_corpus(tmp_path):
    """The same API over a real corpus home (store + generation-checked index, lexical only)."""
    from fastapi.testclient import TestClient
    from kehoach.corpus.store import Corpus
    from kehoach.search.fixtures import store_records
    from kehoach.search.server import CorpusBackend
    records = load_records(files("eval/gold", "*.json")[:2], need("seeds"))
    with Corpus(tmp_path) as c:
        ids = store_records(c, records[:1])
    backend = CorpusBackend(tmp_path, embedder=None)
    client = TestClient(create_app(backend))
    plans = client.get("/api/plans").json()["plans"]
    assert [p["id"] for p in plans] == ids
    one = client.get(f"/api/plans/{ids[0]}").json()
    assert one["text"] == records[0][1] and one["extraction"]["tasks"]
    before = client.get("/api/search", params={"q": "thủ tục hành chính", "limit": 50}).json()["hits"]
    with Corpus(tmp_path) as c:                       # the corpus changes without the add's hook: the
        store_records(c, records[1:2])                # server notices and indexes it behind the old index
    backend.wait_current(timeout=300)
    after = client.get("/api/search", params={"q": "thủ tục hành chính", "limit": 50}).json()["hits"]
    assert {h["plan"]["id"] for h in after} > {h["plan"]["id"] for h in before}


def test_the_server_swaps_in_the_index_the_add_hook_wrote_and_never_builds_one(tmp_path, monkeypatch):
    """After an add with its hooks the index of the new generation is on disk; the server keeps
    answering while it loads it in the background, and no request builds or extends an index."""
    from fastapi.testclient import TestClient
    from kehoach.corpus.store import Corpus
    from kehoach.search import service
    from kehoach.search.fixtures import store_records
    from kehoach.search.server import CorpusBackend
    monkeypatch.setenv("KEHOACH_SEARCH_DENSE", "0")
    records = load_records(files("eval/gold", "*.json")[:2], need("seeds"))
    with Corpus(tmp_path) as c:
        ids = store_records(c, records[:1])
        service.update(c, ids, [])
    backend = CorpusBackend(tmp_path, embedder=None)
    client = TestClient(create_app(backend))
    q = {"q": "thủ tục hành chính", "limit": 50}
    before = {h["plan"]["id"] for h in client.get("/api/search", params=q).json()["hits"]}
    with Corpus(tmp_path) as c:
        new = store_records(c, records[1:2])
        service.update(c, new, [])                    # the add's change hook
        gen = c.generation()
    built = []
    monkeypatch.setattr(service.SearchIndex, "build", classmethod(lambda cls, *a, **k: built.append(1)))
    monkeypatch.setattr(service.SearchIndex, "append", lambda self, *a, **k: built.append(1))
    for _ in range(3):                                # answered (by the old or the new index) meanwhile
        assert client.get("/api/search", params=q).status_code == 200
    backend.wait_current(timeout=120)
    after = {h["plan"]["id"] for h in client.get("/api/search", params=q).json()["hits"]}
    assert backend.index().meta["generation"] == gen and after > before and set(new) <= after
    assert not built
