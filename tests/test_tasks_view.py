"""The tasks view (``kehoach tasks``, ``/api/tasks``) over a corpus of the seeds + the vendored real
web plans, built once without embedding (lexical index only)."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from kehoach.search import tasks as T
from tests.shared import need


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("tasks_home")
    with Corpus(h) as c:
        rep = c.add([str(need("seeds")), str(need("real/web"))], progress=False)
    assert len(rep.added) == 16, rep.summary()
    return h


@pytest.fixture(scope="module")
def docs(home):
    from kehoach.search.service import open_index
    return open_index(home, embedder=None, dense=False).docs


def test_dates_are_read_as_dd_mm_yyyy_or_iso():
    assert T.parse_date("5/8/2021") == "2021-08-05"
    assert T.parse_date("2021-08-05") == "2021-08-05"
    assert T.parse_date("12/2025") == "2025-12-01"
    assert T.parse_date("12/2025", end=True) == "2025-12-31"
    assert T.parse_date("2025", end=True) == "2025-12-31"
    with pytest.raises(T.TasksError):
        T.parse_date("31/02/2025")


def test_status_as_of_a_date():
    d = date(2025, 12, 10)
    assert T.status_of(None, d) == "no_deadline"
    assert T.status_of({"date": None, "recurrence": "continuous"}, d) == "continuous"
    assert T.status_of({"date": "2025-11-30"}, d) == "overdue"
    assert T.status_of({"date": "2025-12"}, d) == "due_soon"
    assert T.status_of({"date": "2026-06-30"}, d) == "open"
    assert T.status_of({"date": "2025-12-25"}, d, within=5) == "open"


def test_owner_filter_finds_the_health_department_tasks_of_the_flood_plan(docs):
    got = T.select(docs, T.TaskQuery(owner="So Y te"))
    assert got and all(any("Y tế" in n for n in d.lead + d.support) for d in got)
    assert any(d.plan["number"] == "0129/KH-UBND" and d.plan["province"] == "Đắk Lắk" for d in got)
    lead_only = T.select(docs, T.TaskQuery(owner="Sở Y tế", role="lead"))
    assert lead_only and all(any("Y tế" in n for n in d.lead) for d in lead_only)


def test_province_plan_and_kind_filters(docs):
    cm = T.select(docs, T.TaskQuery(province="Cà Mau"))
    assert cm and {d.plan["number"] for d in cm} == {"0204/KH-UBND"}
    assert T.select(docs, T.TaskQuery(plan="0204/KH-UBND")) == cm
    ct = T.select(docs, T.TaskQuery(kind="Chỉ thị"))
    assert {d.plan["number"] for d in ct} == {"012/CT-UBND", "06/CT-UBND"}


def test_deadline_range_and_status(docs):
    dec = T.select(docs, T.TaskQuery(deadline_from="01/12/2025", deadline_to="31/12/2025"))
    assert dec and all(T.deadline_end(d.deadline).strftime("%Y-%m") == "2025-12" for d in dec)
    over = T.select(docs, T.TaskQuery(status="overdue", as_of="2026-01-01"))
    assert over and all(T.deadline_end(d.deadline) < date(2026, 1, 1) for d in over)
    cont = T.select(docs, T.TaskQuery(status="thường xuyên"))
    assert cont and all((d.deadline or {}).get("recurrence") for d in cont)


def test_every_row_carries_the_plan_number_title_and_province(docs):
    rs = T.rows(T.select(docs, T.TaskQuery(province="Đắk Lắk")), "2025-12-01")
    assert rs
    for r in rs:
        assert r["plan_number"] and r["plan_title"] and r["province"] == "Đắk Lắk"
        assert r["status"] in T.STATUS_VI.values()


def test_csv_has_a_bom_and_xlsx_has_real_dates_frozen_header_and_filter(docs):
    from openpyxl import load_workbook
    rs = T.rows(T.select(docs, T.TaskQuery(deadline_from="2025-12-01", deadline_to="2025-12-31")), "2025-12-01")
    data = T.csv_bytes(rs)
    assert data.startswith(b"\xef\xbb\xbf")
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert back[0][0] == "Số hiệu" and len(back) == len(rs) + 1
    wb = load_workbook(io.BytesIO(T.xlsx_bytes(rs)))
    ws = wb.active
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    col = T.FIELDS.index("deadline_date") + 1
    assert ws.cell(2, col).value.year == 2025         # a real date, not text


def test_cli_tasks_prints_the_filters_and_writes_xlsx(home, tmp_path, capsys):
    from kehoach.cli import main
    assert main(["--home", str(home), "tasks", "--owner", "Sở Y tế"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lọc: cơ quan Sở Y tế") and "0129/KH-UBND · Đắk Lắk" in out
    assert main(["--home", str(home), "tasks", "--province", "Cà Mau", "--format", "json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["count"] > 0 and js["notes"] == ["tỉnh Cà Mau"]
    xl = tmp_path / "t.xlsx"
    assert main(["--home", str(home), "tasks", "--kind", "Chỉ thị", "--format", "xlsx", "--out", str(xl)]) == 0
    assert xl.stat().st_size > 1000
    assert main(["--home", str(home), "tasks", "--from", "32/13/2025"]) == 1


def test_api_tasks_json_csv_and_bad_dates(home):
    from fastapi.testclient import TestClient
    from kehoach.search.server import CorpusBackend, create_app
    client = TestClient(create_app(CorpusBackend(home, embedder=None)))
    r = client.get("/api/tasks", params={"owner": "Sở Y tế", "deadline_to": "31/12/2030"})
    assert r.status_code == 200
    r = client.get("/api/tasks", params={"province": "Cà Mau"})
    js = r.json()
    assert js["count"] > 0 and all(t["plan_number"] == "0204/KH-UBND" for t in js["tasks"])
    r = client.get("/api/tasks", params={"province": "Cà Mau", "format": "csv"})
    assert r.content.startswith(b"\xef\xbb\xbf") and "Trích yếu" in r.content.decode("utf-8-sig")
    assert client.get("/api/tasks", params={"deadline_from": "2025-13-01"}).status_code in (400, 422)


# ---------------------------------------------------------------- the registry an office can file

def _gold():
    from kehoach.models import Extraction
    from tests.shared import files
    return [Extraction.from_dict(json.loads(p.read_text("utf-8"))) for p in files("eval/gold", "*.json")]


def _hash_embedder():
    from tests.test_registry import HashEmbedder
    return HashEmbedder()


def test_registry_ids_stay_when_a_plan_is_added():
    from kehoach.corpus.registry import registry_from_extractions
    exts = _gold()
    small = registry_from_extractions(exts[:-1], _hash_embedder(), date(2022, 1, 1))
    big = registry_from_extractions(exts, _hash_embedder(), date(2022, 1, 1))
    members = lambda c: frozenset((t["source"], t["task_id"]) for t in c["tasks"])
    by_members = {members(c): c["id"] for c in big["clusters"]}
    kept = [c for c in small["clusters"] if members(c) in by_members]
    assert len(kept) > 0.8 * len(small["clusters"])
    assert all(by_members[members(c)] == c["id"] for c in kept)
    assert len({c["id"] for c in big["clusters"]}) == len(big["clusters"])     # ids are unique


def test_registry_never_clusters_boilerplate_and_speaks_vietnamese(tmp_path):
    import copy
    from kehoach.corpus.registry import registry_from_extractions, write_registry
    exts = [copy.deepcopy(e) for e in _gold()[:3]]
    for e in exts:                           # the form label every plan repeats
        t = copy.deepcopy(e.tasks[0])
        t.id, t.text, t.lead, t.support = "tx", "Thời gian thực hiện: Tháng 12/2025.", [], []
        e.tasks.append(t)
    reg = registry_from_extractions(exts, _hash_embedder(), date(2022, 1, 1))
    for c in reg["clusters"]:
        if len(c["tasks"]) > 1:
            assert not any(t["text"].startswith("Thời gian thực hiện") for t in c["tasks"])
    vi = {t["tinh_trang"] for c in reg["clusters"] for t in c["tasks"]}
    assert vi <= set(T.STATUS_VI.values()) and "Quá hạn" in vi
    out = tmp_path / "so-theo-doi.csv"
    write_registry(reg, "csv", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    head = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    for col in ("Số hiệu văn bản giao", "Ngày ban hành", "Trích yếu", "Cơ quan ban hành", "Tỉnh/thành", "Mục",
                "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn", "Hạn (ngày)", "Sản phẩm", "Căn cứ",
                "Tình trạng"):
        assert col in head
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert any(r["Căn cứ"] for r in rows)                      # the legal references a task cites
    assert {r["Tình trạng"] for r in rows} <= set(T.STATUS_VI.values())


# ---------------------------------------------------------------- add: progress and summary

def test_progress_is_one_line_per_file_off_a_terminal():
    from kehoach.corpus.progress import Progress
    buf = io.StringIO()
    with Progress(3, "adding", stream=buf) as bar:
        for name in ("a.pdf", "b.docx", "c.txt"):
            bar.update(0, note=name)
            bar.update(1, note=name)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("adding 1/3") and lines[2].endswith("c.txt")
    quiet = io.StringIO()
    with Progress(3, "adding", stream=quiet, enabled=False) as bar:
        bar.update(1)
    assert quiet.getvalue() == ""


def test_progress_is_a_tqdm_bar_on_a_terminal():
    from kehoach.corpus.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True
    buf = Tty()
    with Progress(2, "adding", stream=buf) as bar:
        assert bar._bar is not None                   # tqdm
        bar.update(1, note="a.pdf")
        bar.message("a.pdf: skipped")
        bar.update(1)
    assert "a.pdf: skipped" in buf.getvalue()


def test_add_ends_with_a_summary_and_names_a_plan_with_no_tasks(tmp_path, capsys):
    from kehoach.cli import main
    seed = need("seeds/001_4224283dfe2b5ee5.txt")
    head = tmp_path / "116-header-only.txt"           # the real plan's header, its tasks cut off
    head.write_text(seed.read_text("utf-8")[:1500], "utf-8")
    code = main(["--home", str(tmp_path / "h"), "add", "--no-index", str(seed), str(head)])
    assert code == 0
    err = capsys.readouterr().err
    assert "adding 1/2" in err and "adding 2/2" in err                 # one line per file (not a TTY)
    assert "corpus: 2 plans, 89 tasks" in err
    assert f"0 tasks found in {head}" in err


def test_docs_page_is_served_offline(home):
    from fastapi.testclient import TestClient
    from kehoach.search.server import CorpusBackend, create_app
    client = TestClient(create_app(CorpusBackend(home, embedder=None)))
    r = client.get("/docs")
    assert r.status_code == 200 and "GET /api/tasks" in r.text and "deadline_from" in r.text
    assert "http://" not in r.text and "https://" not in r.text and "<script" not in r.text


def _calc_available() -> bool:
    import shutil
    from pathlib import Path
    exe = shutil.which("soffice")
    return bool(exe) and any(Path(exe).resolve().parent.glob("libsclo.so"))


@pytest.mark.slow
@pytest.mark.skipif(not _calc_available(), reason="LibreOffice Calc not installed (apt-get install libreoffice-calc-nogui)")
def test_registry_csv_opens_in_libreoffice_calc_with_vietnamese_intact(tmp_path):
    import subprocess
    from openpyxl import load_workbook
    from kehoach.corpus.registry import registry_from_extractions, write_registry
    reg = registry_from_extractions(_gold()[:2], _hash_embedder(), date(2022, 1, 1))
    src = tmp_path / "so-theo-doi.csv"
    write_registry(reg, "csv", str(src))
    # headless Calc takes the import options a user confirms in its Text Import dialog (comma, quote,
    # UTF-8: charset 76, which the dialog preselects from the BOM); without them it assumes the locale's
    # charset and the BOM shows as "ï»¿"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(src)],
                   check=True, timeout=180, capture_output=True)
    ws = load_workbook(tmp_path / "out" / "so-theo-doi.xlsx").active
    header = [c.value for c in ws[1]]
    assert "Số hiệu văn bản giao" in header and "Cơ quan chủ trì" in header and "Tình trạng" in header
    texts = {str(c.value) for row in ws.iter_rows(min_row=2) for c in row if c.value}
    assert any("Ủy ban nhân dân" in t for t in texts)


def test_web_page_has_a_tasks_view_with_exports(home):
    from fastapi.testclient import TestClient
    from kehoach.search.server import CorpusBackend, create_app
    client = TestClient(create_app(CorpusBackend(home, embedder=None)))
    page = client.get("/").text
    assert 'id="tasks-view"' in page and 'id="export-csv"' in page and 'href="/docs"' in page
    js = client.get("/static/app.js").text
    assert "/api/tasks?" in js and "showTasks" in js
