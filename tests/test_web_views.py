"""The page's views beyond search (tasks, registry, legal, charts) over a corpus home of the five
seeds + real web plans + a real PDF: the API routes they use, then one real headless Chromium
session that sets filters, checks the rows change, downloads CSV/XLSX exports and reads the
charts' SVG bars. With KEHOACH_SCREENSHOTS=<dir> it saves a screenshot of each view there
(and then links with the default e5 embedder, so the registry shows real link evidence)."""
from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.shared import need, serve_in_thread

pytestmark = pytest.mark.slow

WEB = ("0129-KH-UBND__62f25a03.txt", "0204-KH-UBND__9b7eebad.txt", "06-CT-UBND__4f302021.txt",
       "159-KH-UBND__d40513a8.txt")
PDF = "quyet-dinh-so-28-2021-qd-ttg-34546.pdf"
AS_OF = "2026-01-01"
SHOTS = os.environ.get("KEHOACH_SCREENSHOTS")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("views_home")
    paths = [str(need("seeds"))] + [str(need(f"real/web/{n}")) for n in WEB] + [str(need(f"real/pdf/{PDF}"))]
    with Corpus(h) as c:
        rep = c.add(paths, progress=False)
        # the links, built once at write time (GETs are read-only): the cheap embedder, e5 for screenshots
        import datetime
        from kehoach.corpus.registry import registry_from_corpus
        from tests.test_registry import HashEmbedder
        registry_from_corpus(c, datetime.date(2026, 1, 1), embedder=None if SHOTS else HashEmbedder())
    assert len(rep.added) == 10, rep.summary()
    return h


@pytest.fixture(scope="module")
def backend(home):
    from kehoach.search.server import CorpusBackend
    from tests.test_registry import HashEmbedder
    return CorpusBackend(home, embedder=None, link_embedder=None if SHOTS else HashEmbedder())


@pytest.fixture(scope="module")
def client(backend):
    from fastapi.testclient import TestClient
    from kehoach.search.server import create_app
    return TestClient(create_app(backend))


# ---------------------------------------------------------------- the routes

def test_chart_bars_list_what_the_tasks_view_lists(client):
    tasks = client.get("/api/tasks", params={"limit": 100000, "as_of": AS_OF}).json()
    months = client.get("/api/charts/deadlines.json", params={"as_of": AS_OF}).json()
    assert months["bars"]
    assert sum(b["value"] for b in months["bars"]) == sum(1 for t in tasks["tasks"] if t["deadline_date"])
    for b in months["bars"]:
        listed = client.get("/api/tasks", params=dict(b["query"], limit=100000)).json()
        assert listed["count"] == b["value"], b
        assert sum(t["status"] == "Quá hạn" for t in listed["tasks"]) == b["parts"]["Quá hạn"], b
    owners = client.get("/api/charts/owners.json", params={"top": 5}).json()["bars"]
    assert len(owners) == 5
    for b in owners:
        assert client.get("/api/tasks", params=dict(b["query"], limit=100000)).json()["count"] >= b["value"] > 0
    provinces = client.get("/api/charts/provinces.json").json()["bars"]
    plans = client.get("/api/plans").json()["plans"]
    assert sum(b["value"] for b in provinces) == len(plans) == 10
    assert {b["label"]: b["value"] for b in provinces}["Quảng Trị"] == 3          # two seeds + 06/CT-UBND
    only = client.get("/api/charts/provinces.json", params={"province": "Đắk Lắk"}).json()["bars"]
    assert [(b["label"], b["value"]) for b in only] == [("Đắk Lắk", 1)]
    svg = client.get("/api/charts/owners.svg", params={"owner": "Sở Y tế"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "Sở Y tế" in svg.text
    assert client.get("/api/charts/nope.svg").status_code == 422
    assert client.get("/api/charts/owners.svg", params={"top": 0}).status_code == 422
    assert client.get("/api/charts/owners.svg", params={"as_of": "31-02-2025x"}).status_code in (400, 422)


def test_registry_rows_filter_and_export(client):
    full = client.get("/api/registry/rows", params={"as_of": AS_OF}).json()
    assert full["count"] >= 250 and full["clusters"]
    over = client.get("/api/registry/rows", params={"as_of": AS_OF, "status": "Quá hạn"}).json()
    assert 0 < over["count"] < full["count"]
    assert {r["status"] for c in over["clusters"] for r in c["rows"]} == {"Quá hạn"}
    assert client.get("/api/registry/rows", params={"as_of": AS_OF, "status": "overdue"}).json()["count"] == over["count"]
    health = client.get("/api/registry/rows", params={"as_of": AS_OF, "owner": "Sở Y tế"}).json()
    assert health["count"] and all("Y tế" in r["lead"] + r["support"] for c in health["clusters"] for r in c["rows"])
    for c in full["clusters"]:
        for r in c["rows"]:
            assert r["key"] and r["plan_number"] is not None and "links" in r
    raw = client.get("/api/registry/rows", params={"as_of": AS_OF, "status": "Quá hạn", "format": "csv"})
    assert raw.content.startswith("\ufeff".encode()) and "attachment" in raw.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(raw.content.decode("utf-8-sig"))))
    assert len(rows) - 1 == over["count"] and all(r[rows[0].index("Tình trạng")] == "Quá hạn" for r in rows[1:])
    x = client.get("/api/registry/rows", params={"as_of": AS_OF, "owner": "Sở Y tế", "format": "xlsx"})
    assert _xlsx_rows(x.content) == health["count"]
    assert client.get("/api/registry/rows", params={"status": "bogus"}).status_code == 400


def _xlsx_rows(data: bytes) -> int:
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return sum(1 for row in ws.iter_rows(values_only=True) if any(v not in (None, "") for v in row)) - 1


# ---------------------------------------------------------------- the page in Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def live(backend):
    from kehoach.search.server import create_app
    yield from serve_in_thread(create_app(backend))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium", reason="pip package selenium not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    downloads = tmp_path_factory.mktemp("downloads")
    profile = tempfile.mkdtemp(prefix="kehoach-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900", "--lang=vi"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    drv.downloads = downloads
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _download(drv, link_id: str, suffix: str, timeout: float = 60) -> Path:
    from selenium.webdriver.common.by import By
    before = set(drv.downloads.iterdir())
    drv.find_element(By.ID, link_id).click()
    end = time.time() + timeout
    seen: dict[Path, int] = {}
    while time.time() < end:
        # Chrome writes into a .crdownload and may leave an empty placeholder under the final name
        # meanwhile: a file is done when no partial is left and its size held over one poll
        now = set(drv.downloads.iterdir()) - before
        partial = any(p.suffix == ".crdownload" for p in now)
        for p in (p for p in now if p.suffix == suffix):
            size = p.stat().st_size
            if not partial and size > 0 and seen.get(p) == size:
                return p
            seen[p] = size
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded from #{link_id}")


def _shot(drv, name: str) -> None:
    if not SHOTS:
        return
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    height = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(1280, max(900, min(int(height) + 40, 2200)))
    drv.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.3)
    drv.save_screenshot(str(out / f"{name}.png"))
    drv.set_window_size(1280, 900)
    try:                        # a 128-colour palette: a third of the size, text as sharp
        from PIL import Image
        img = Image.open(out / f"{name}.png").convert("RGB")
        img.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
            .save(out / f"{name}.png", optimize=True)
    except ImportError:
        pass


def _rows(drv, table: str) -> list:
    from selenium.webdriver.common.by import By
    return drv.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr:not(.cluster)")


def _submit_when_rows_change(drv, wait, form: str, table: str):
    """Submit ``form`` and wait until the status line is rewritten (the view reloaded)."""
    from selenium.webdriver.common.by import By
    drv.execute_script("document.getElementById('status').textContent = ''")
    drv.find_element(By.CSS_SELECTOR, f"#{form} button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "status").text and "Đang" not in d.find_element(By.ID, "status").text)
    assert "Lỗi" not in drv.find_element(By.ID, "status").text, drv.find_element(By.ID, "status").text
    return _rows(drv, table)


def _set(drv, form: str, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    el = drv.find_element(By.CSS_SELECTOR, f"#{form} [name={name}]")
    if el.tag_name == "select":
        Select(el).select_by_value(value)
    elif el.get_attribute("type") == "date":        # a date input takes its value through script
        drv.execute_script("arguments[0].value = arguments[1]", el, value)
    else:
        el.clear()
        el.send_keys(value)


def _problems(client, plan_id: int) -> int:
    rep = client.get(f"/api/legal/{plan_id}").json()["legal"]
    return sum(r["status"] in ("expired", "replaced", "abolished", "period_ended", "partly_expired")
               for p in rep["plans"] for r in p["refs"])


def test_views_in_chromium(live, browser, client):
    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    plans = client.get("/api/plans").json()["plans"]
    legal_plan = max(plans, key=lambda p: (_problems(client, p["id"]), -p["id"]))["id"]   # the plan with most problems
    drv = browser
    wait = WebDriverWait(drv, 900 if SHOTS else 120)
    status = lambda: drv.find_element(By.ID, "status").text   # noqa: E731

    # search, then a plan
    drv.get(live + "/")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#plans li")))
    drv.find_element(By.ID, "q").send_keys("ai chủ trì thanh toán trực tuyến")
    drv.find_element(By.ID, "go").click()
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#hits .hit")))
    _shot(drv, "search")
    drv.find_element(By.CSS_SELECTOR, "#hits .hit a.open-plan").click()
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#plan-text span.task.focus")))
    _shot(drv, "plan")

    # tasks: owner, then status as of a day, then province; export the filtered rows
    drv.find_element(By.ID, "tasks-link").click()
    wait.until(lambda d: _rows(d, "tasks-table") and "nhiệm vụ" in status())
    everything = len(_rows(drv, "tasks-table"))
    assert everything >= 250
    _set(drv, "tasks-form", "owner", "Sở Y tế")
    health = _submit_when_rows_change(drv, wait, "tasks-form", "tasks-table")
    assert 0 < len(health) < everything
    assert all("Y tế" in r.find_elements(By.TAG_NAME, "td")[3].text + r.find_elements(By.TAG_NAME, "td")[4].text
               for r in health)
    _set(drv, "tasks-form", "owner", "")
    _set(drv, "tasks-form", "status", "overdue")
    _set(drv, "tasks-form", "as_of", AS_OF)
    overdue = _submit_when_rows_change(drv, wait, "tasks-form", "tasks-table")
    assert 0 < len(overdue) < everything
    assert {r.find_elements(By.TAG_NAME, "td")[6].text for r in overdue} == {"Quá hạn"}
    _set(drv, "tasks-form", "status", "")
    _set(drv, "tasks-form", "province", "Đắk Lắk")
    dl = _submit_when_rows_change(drv, wait, "tasks-form", "tasks-table")
    assert dl and {r.find_elements(By.TAG_NAME, "td")[1].text for r in dl} == {"Đắk Lắk"}
    assert "province=" in drv.find_element(By.ID, "export-csv").get_attribute("href")
    got = _download(drv, "export-csv", ".csv")
    data = got.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) - 1 == len(dl) and {r[rows[0].index("Tỉnh/thành")] for r in rows[1:]} == {"Đắk Lắk"}
    got = _download(drv, "export-xlsx", ".xlsx")
    ws = load_workbook(got, read_only=True).worksheets[0]
    sheet = [r for r in ws.iter_rows(values_only=True)]
    assert len(sheet) - 1 == len(dl) and {r[list(sheet[0]).index("Tỉnh/thành")] for r in sheet[1:]} == {"Đắk Lắk"}
    _set(drv, "tasks-form", "province", "Tuyên Quang")
    _set(drv, "tasks-form", "as_of", "2021-09-01")
    _submit_when_rows_change(drv, wait, "tasks-form", "tasks-table")
    _shot(drv, "tasks")

    # registry: status, then owner; export
    drv.get(live + f"/#/registry?as_of={AS_OF}")
    wait.until(lambda d: _rows(d, "registry-table") and "nhóm" in status())
    all_rows = len(_rows(drv, "registry-table"))
    assert all_rows >= 250
    _set(drv, "registry-form", "status", "Quá hạn")
    over = _submit_when_rows_change(drv, wait, "registry-form", "registry-table")
    assert 0 < len(over) < all_rows
    assert {r.find_elements(By.TAG_NAME, "td")[6].text for r in over} == {"Quá hạn"}
    got = _download(drv, "registry-csv", ".csv")
    rows = list(csv.reader(io.StringIO(got.read_bytes().decode("utf-8-sig"))))
    assert got.read_bytes().startswith("\ufeff".encode()) and len(rows) - 1 == len(over)
    _set(drv, "registry-form", "status", "")
    _set(drv, "registry-form", "owner", "Sở Nội vụ")
    home_affairs = _submit_when_rows_change(drv, wait, "registry-form", "registry-table")
    assert home_affairs and all("Nội vụ" in r.find_elements(By.TAG_NAME, "td")[3].text
                                + r.find_elements(By.TAG_NAME, "td")[4].text for r in home_affairs)
    got = _download(drv, "registry-xlsx", ".xlsx")
    ws = load_workbook(got, read_only=True).worksheets[0]
    assert sum(1 for r in ws.iter_rows(values_only=True) if any(r)) - 1 == len(home_affairs)
    if SHOTS:       # with real links: the commitments shared by several plans, with their evidence
        _set(drv, "registry-form", "owner", "")
        drv.find_element(By.CSS_SELECTOR, "#registry-form [name=linked]").click()
        linked = _submit_when_rows_change(drv, wait, "registry-form", "registry-table")
        assert linked and drv.find_elements(By.CSS_SELECTOR, "#registry-table .link-ev")
    _shot(drv, "registry")

    # legal: a seed plan citing many documents; problems first
    drv.get(live + "/#/legal")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#legal-plan option")) > 5)
    _set(drv, "legal-form", "plan", str(legal_plan))
    drv.find_element(By.ID, "legal-go").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#legal-refs li.legal-ref"))
    refs = drv.find_elements(By.CSS_SELECTOR, "#legal-refs > li.legal-ref")
    kinds = [r.get_attribute("class").split()[-1] for r in refs]
    assert len(refs) >= 3 and "problem" in kinds
    assert kinds == sorted(kinds, key=lambda k: k != "problem")            # problems first
    first = refs[0].text
    assert refs[0].find_element(By.CSS_SELECTOR, ".badge").text in ("Hết hiệu lực", "Bị thay thế", "Bị bãi bỏ",
                                                                    "Hết thời kỳ thực hiện", "Hết hiệu lực một phần")
    assert "Bằng chứng" in first
    assert "cần xem lại" in status()
    _shot(drv, "legal")

    # charts: each chart is inline SVG with one labelled bar per entry; a bar opens its tasks
    drv.get(live + "/#/charts?as_of=2024-10-01&top=10")     # a day with deadlines on either side
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chart-box svg")) == 3)
    owners = drv.find_elements(By.CSS_SELECTOR, "#chart-owners svg g.bar")
    assert len(owners) == 10
    values = [int(g.get_attribute("data-value")) for g in owners]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    months = drv.find_elements(By.CSS_SELECTOR, "#chart-deadlines svg g.bar")
    assert months and drv.find_elements(By.CSS_SELECTOR, "#chart-deadlines svg rect[data-part='Quá hạn']")
    provinces = drv.find_elements(By.CSS_SELECTOR, "#chart-provinces svg g.bar")
    assert sum(int(g.get_attribute("data-value")) for g in provinces) == 10
    _shot(drv, "charts")
    bar = max(months, key=lambda g: int(g.get_attribute("data-value")))
    want = int(bar.get_attribute("data-value"))
    drv.execute_script("arguments[0].closest('a').dispatchEvent(new MouseEvent('click', {bubbles: true}))", bar)
    wait.until(lambda d: not d.find_element(By.ID, "tasks-view").get_attribute("hidden")
               and "nhiệm vụ" in status() and "Đang" not in status())
    assert len(_rows(drv, "tasks-table")) == want
    # a filter narrows the charts: one province left
    drv.get(live + "/#/charts?province=C%C3%A0%20Mau")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#chart-provinces svg g.bar")) == 1)
    assert drv.find_element(By.CSS_SELECTOR, "#chart-provinces svg g.bar").get_attribute("data-label") == "Cà Mau"
    assert drv.execute_script("return document.querySelectorAll('script').length") == 1   # the page's own only



BAD = ["as_of=2024-02-30", "as_of=31/02/2025", "as_of=" + "9" * 40, "deadline_from=2024-13-45", "deadline_to=%00",
       "within=-1", "within=abc", "top=0", "top=51", "top=abc", "status=late", "role=boss", "owner=" + "x" * 500,
       "width=10", "width=abc", "province=%00%ff", "text=<script>alert(1)</script>"]


def test_bad_chart_and_registry_parameters_are_client_errors(client):
    for name in ("owners", "deadlines", "provinces"):
        for extra in BAD:
            for ext in ("svg", "json"):
                r = client.get(f"/api/charts/{name}.{ext}?{extra}")
                assert r.status_code < 500 and "Traceback" not in r.text, (name, ext, extra, r.text[:200])
                if extra.startswith(("as_of=2024-02", "top=", "within=-", "role=")):
                    assert r.status_code in (400, 422), (name, extra)
    for extra in ("as_of=2024-02-30", "as_of=01/01/2026", "status=%00", "status=late", "owner=" + "x" * 500,
                  "limit=0", "format=pdf", "linked=maybe"):
        r = client.get(f"/api/registry/rows?{extra}")
        assert r.status_code in (400, 422), (extra, r.status_code, r.text[:200])
    # what a hostile filter echoes stays text in the SVG
    svg = client.get("/api/charts/owners.svg", params={"owner": "<script>alert(1)</script>"}).text
    assert "<script>" not in svg
