"""The legal report as people read it: the summary first (counts by status, in Vietnamese and as codes;
the tasks that rely on a problem document), the problems first with their evidence, the type read from
the ký hiệu; ``plan_report`` (the web page's JSON) reads only. Over a corpus of the seeds and real plans
(web text, a Gazette PDF) with the two real status tables."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3

import pytest

from kehoach.corpus.legal.check import has_tables, plan_report
from kehoach.corpus.legal.symbols import type_from_symbol, type_from_words
from tests.shared import SHARED, need

TABLES = SHARED / "data" / "legal-status"
AG = TABLES / "an_giang_vbqppl_xu_ly.csv"
BD = TABLES / "binh_duong_van_ban.csv"
DAY = dt.date(2026, 1, 1)
REAL = ["real/web/0204-KH-UBND__9b7eebad.txt", "real/web/2820-QD-UBND__001c610b.txt",
        "real/pdf/quyet-dinh-so-28-2021-qd-ttg-34546.pdf"]

pytestmark = pytest.mark.slow          # the corpus is built once (a PDF among its plans)


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """A corpus home with plans and no legal tables (``kehoach legal import`` never ran)."""
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("legal_report_home")
    with Corpus(h) as c:
        rep = c.add([str(need("seeds"))] + [str(need(r)) for r in REAL], progress=False)
    assert len(rep.added) == 5 + len(REAL), rep.summary()
    return h


@pytest.fixture(scope="module")
def imported(bare, tmp_path_factory):
    """A copy of the home with both real status tables imported through the CLI."""
    from kehoach.corpus.legal.cli import main
    h = tmp_path_factory.mktemp("legal_report_imported")
    shutil.copytree(bare, h, dirs_exist_ok=True)
    assert main(["--home", str(h), "legal", "import", str(AG), str(BD)]) == 0
    return h


def _ids(home) -> dict[str, int]:
    from kehoach.corpus.store import Corpus
    with Corpus(home, readonly=True) as c:
        return {p.source.rsplit("/", 1)[-1]: p.id for p in c.plans()}


def _report(home, name: str) -> dict:
    from kehoach.corpus.store import Corpus
    with Corpus(home, readonly=True) as c:
        return plan_report(c, _ids(home)[name], DAY)


def _digest(home) -> str:
    return hashlib.sha256((home / "kehoach.sqlite3").read_bytes()).hexdigest()


def test_summary_first_then_problems_with_evidence_and_relying_tasks(imported):
    rep = _report(imported, "000_32de8ed23e57a435.txt")
    s = rep["summary"]
    assert rep["registry"]["available"] and rep["registry"]["documents"] > 4000 and rep["registry"]["note"] is None
    assert s["refs"] == len(rep["refs"]) == sum(r["count"] for r in s["counts"])
    labels = {r["status"]: r["label"] for r in s["counts"]}
    # the four the summary always tells, even at 0, in Vietnamese
    assert {k: labels[k] for k in ("expired", "replaced", "abolished", "unknown")} == {
        "expired": "Hết hiệu lực", "replaced": "Bị thay thế", "abolished": "Bị bãi bỏ", "unknown": "Chưa rõ"}
    assert s["problems"] == sum(r["problem"] for r in rep["refs"]) >= 2
    flags = [r["problem"] for r in rep["refs"]]
    assert flags == sorted(flags, reverse=True)                      # the problems come first
    tt = next(r for r in rep["refs"] if r["symbol"] == "01/2013/TT-BXD")
    assert (tt["status"], tt["status_vi"], tt["type"]) == ("expired", "Hết hiệu lực", "Thông tư")
    assert tt["evidence"][0]["kind"] == "corpus" and "hết hiệu lực" in tt["evidence"][0]["text"]
    relying = {t["id"]: t for t in s["relying_tasks"]}
    assert {"symbol": "01/2013/TT-BXD", "status": "expired", "status_vi": "Hết hiệu lực"} in relying["t10"]["refs"]
    assert all(any(t["id"] == tid for r in rep["refs"] if r["problem"] for t in r["tasks"]) for tid in relying)
    assert s["text"].startswith(f"{s['refs']} văn bản được trích dẫn: 1 hết hiệu lực, 0 bị thay thế, 0 bị bãi bỏ")
    assert "t10 (01/2013/TT-BXD)" in s["text"]


def test_a_real_plan_that_replaces_the_plan_it_cites(imported):
    rep = _report(imported, "0204-KH-UBND__9b7eebad.txt")
    first = rep["refs"][0]
    assert (first["symbol"], first["status"], first["status_vi"]) == ("076/KH-UBND", "replaced", "Bị thay thế")
    assert first["replaced_by"] == "0204/KH-UBND" and first["evidence"]
    assert rep["plan"]["number"] == "0204/KH-UBND"
    assert json.loads(json.dumps(rep, ensure_ascii=False)) == rep      # JSON as it is served


def test_the_type_comes_from_the_symbol_code_never_from_a_neighbouring_word(imported):
    rep = _report(imported, "001_4224283dfe2b5ee5.txt")       # "... thi hành pháp luật theo đúng quy định tại Nghị định số 59/2012/NĐ-CP"
    nd = next(r for r in rep["refs"] if r["symbol"] == "59/2012/NĐ-CP")
    assert nd["type"] == "Nghị định" and nd["text"].startswith("Nghị định số 59/2012/NĐ-CP")
    assert all(not e["text"].startswith("luật") for e in nd["evidence"])
    for name in _ids(imported):
        for r in _report(imported, name)["refs"]:
            code, words = type_from_symbol(r["symbol"]), type_from_words(r["text"], r["symbol"])
            if code or words:          # the code printed in the symbol, else the type word nearest before it
                assert r["type"] == (code or words), (name, r["symbol"], r["type"])
                assert not words or r["text"].lower().startswith(words.lower()), (name, r["text"])
    # the National Assembly's symbols have no type code ("72/2025/QH15"): the citation's own words decide
    hcm = {r["symbol"]: r for r in _report(imported, "2820-QD-UBND__001c610b.txt")["refs"]}
    assert hcm["72/2025/QH15"]["type"] == "Luật" and hcm["98/2023/QH15"]["type"] == "Nghị quyết"


def test_plan_report_reads_only_and_says_when_no_table_was_imported(bare, tmp_path):
    from kehoach.corpus.store import Corpus
    before = _digest(bare)
    with Corpus(bare, readonly=True) as c:
        assert not has_tables(c.conn)
        rep = plan_report(c, _ids(bare)["000_32de8ed23e57a435.txt"], DAY)
        assert not has_tables(c.conn)
    assert _digest(bare) == before
    assert rep["registry"] == {"available": False, "documents": 0, "note": rep["registry"]["note"]}
    assert "kehoach legal import" in rep["registry"]["note"]
    # with no table, a status comes only from the plans' own words or the rules; the rest is "Chưa rõ"
    for r in rep["refs"]:
        assert r["status"] == "unknown" and r["status_vi"] == "Chưa rõ" or \
            {e["kind"] for e in r["evidence"]} <= {"corpus", "rule"}, r
    assert any(r["status"] == "unknown" for r in rep["refs"])
    # the same on a read-only copy, opened with SQLite's mode=ro: a write would fail there
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copy2(bare / "kehoach.sqlite3", ro / "kehoach.sqlite3")
    (ro / "kehoach.sqlite3").chmod(0o444)
    with Corpus(ro, readonly=True) as c:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            c.conn.execute("CREATE TABLE probe(x)")
        again = plan_report(c, _ids(ro)["000_32de8ed23e57a435.txt"], DAY)
    assert again == rep and _digest(ro) == before
    # the command line's check reads only too: no table created, the file unchanged
    from kehoach.corpus.legal.cli import main
    assert main(["--home", str(bare), "legal", "check", "--as-of", DAY.isoformat(), "--problems-only"]) == 0
    assert _digest(bare) == before
    with Corpus(bare, readonly=True) as c:
        assert not has_tables(c.conn)


def test_cli_import_then_check_problems_only(imported, capsys):
    from kehoach.corpus.legal.cli import main
    assert main(["--home", str(imported), "legal", "check", "--as-of", DAY.isoformat(), "--problems-only"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Căn cứ pháp lý ngày 2026-01-01: 8 kế hoạch, ")
    assert "  Văn bản có vấn đề:" in out and "  Các văn bản khác:" not in out
    rows = [l for l in out if l.startswith("  ") and not l.startswith("   ") and "(" in l and "/" in l.split()[0]]
    assert rows and all(any(w in l for w in ("Hết hiệu lực", "Bị thay thế", "Bị bãi bỏ", "Hết thời kỳ")) for l in rows)
    assert main(["--home", str(imported), "legal", "check", "--as-of", DAY.isoformat(), "--format", "json",
                 "--problems-only"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["summary"]["problems"] == sum(len(p["refs"]) for p in js["plans"]) > 0
    assert all(r["problem"] and r["status_vi"] for p in js["plans"] for r in p["refs"])
    assert main(["--home", str(imported), "legal", "check", "--as-of", DAY.isoformat()]) == 0
    full = capsys.readouterr().out
    assert "  Các văn bản khác:" in full and "Chưa rõ (unknown)" in full


def test_local_symbol_not_matched_to_another_provinces_registry_row(imported):
    # The Trà Vinh seed cites "Chỉ thị số 01/CT-UBND ngày 05/4/2021 của Chủ tịch UBND thành phố Trà Vinh";
    # the Bình Dương table holds two other 01/CT-UBND (06/01/2022, 21/01/2021): same symbol, other
    # province and day, so neither is this document and no registry row is evidence for it.
    assert BD.read_text(encoding="utf-8").count(",01/CT-UBND,") >= 2
    rep = _report(imported, "002_926d4f9637933ef9.txt")
    ref = next(r for r in rep["refs"] if r["symbol"] == "01/CT-UBND")
    assert ref["date"] == "2021-04-05"
    assert ref["status"] == "unknown"
    assert not [e for e in ref["evidence"] if e.get("kind") == "registry"]
