"""Questions understood: a place, an owner or a deadline in the query becomes a filter shown to the
user; ``who``/``search`` print the plan's number and province; generic phrases are never owners.
Over a corpus of the seeds + the vendored real web plans, built once, lexical mode."""
from __future__ import annotations

import json

import pytest

from kehoach.search.question import ask, is_body_name, understand
from kehoach.search.who import is_owner, who
from tests.shared import need


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("questions_home")
    with Corpus(h) as c:
        rep = c.add([str(need("seeds")), str(need("real/web"))], progress=False)
    assert len(rep.added) == 16, rep.summary()
    return h


@pytest.fixture(scope="module")
def index(home):
    from kehoach.search.service import open_index
    return open_index(home, embedder=None, dense=False)


@pytest.mark.parametrize("query,province,text", [
    ("kế hoạch về ngân sách ở Cà Mau", "Cà Mau", "ngân sách"),
    ("5G plan in Hanoi", "Hà Nội", "5G"),
    ("Bắc Ninh chuyển đổi số", "Bắc Ninh", "chuyển đổi số"),
    ("ke hoach ve ngan sach o Ca Mau", "Cà Mau", "ngan sach"),
    ("chuyển đổi số tại thành phố Cần Thơ", "Cần Thơ", "chuyển đổi số"),
])
def test_a_place_in_the_query_becomes_a_province_filter(query, province, text):
    u = understand(query)
    assert u.province == province and u.text == text and f"tỉnh {province}" in u.notes


@pytest.mark.parametrize("query", ["nhiệm vụ của Sở Y tế", "tasks Sở Y tế owns", "tasks of Sở Y tế",
                                   "nhiem vu cua So Y te"])
def test_an_owner_in_the_query_becomes_an_owner_filter(query):
    u = understand(query)
    assert u.owner and u.owner.lower().replace("so y te", "sở y tế") == "sở y tế" and u.text == ""


@pytest.mark.parametrize("query,lo,hi", [
    ("nhiệm vụ có hạn tháng 12/2025", "2025-12-01", "2025-12-31"),
    ("tasks due in December 2025", "2025-12-01", "2025-12-31"),
    ("hạn trước ngày 15/8/2021", None, "2021-08-15"),
    ("hạn năm 2026", "2026-01-01", "2026-12-31"),
])
def test_a_deadline_in_the_query_becomes_a_deadline_filter(query, lo, hi):
    u = understand(query)
    assert (u.deadline_from, u.deadline_to) == (lo, hi) and u.notes


def test_plain_queries_and_generic_phrases_are_left_alone():
    for q in ("thanh toán trực tuyến", "thành lập Ban Chỉ đạo", "kế hoạch 2026 - 2030", "Thời gian thực hiện",
              "nhiệm vụ của 2026 - 2030"):
        u = understand(q)
        assert u.owner is None and u.province is None and not u.notes, q
    for name in ("2026 - 2030", "Thời gian thực hiện", "Thời gian thực hiện: Tháng 12/2025"):
        assert not is_owner(name) and not is_body_name(name)
    assert is_owner("Sở Y tế") and is_body_name("Sở Y tế")


def test_owner_question_lists_the_health_department_tasks(index):
    res = ask(index, "nhiệm vụ của Sở Y tế", limit=50, mode="lexical")
    assert res.hits and res.notes() == ["cơ quan Sở Y tế"]
    assert all(any("Y tế" in n for n in h.doc.lead + h.doc.support) for h in res.hits)
    assert {h.doc.plan["number"] for h in res.hits} >= {"0129/KH-UBND"}
    assert res.to_dict()["notes"] == ["lọc: cơ quan Sở Y tế"]


def test_flood_relief_question_answers_from_dak_lak(index):
    res = who(index, "ai chủ trì cấp phát nhu yếu phẩm cho người dân vùng lũ ở Đắk Lắk", mode="lexical",
              understand=True)
    assert res.search.understood["province"] == "Đắk Lắk"
    assert res.owners and all(t["province"] == "Đắk Lắk" for o in res.owners for t in o.tasks)
    assert any(t["plan_number"] == "0129/KH-UBND" for t in res.owners[0].tasks)
    names = [o.body for o in res.owners]
    assert "Sở Y tế" in names or "Sở Công Thương" in names


def test_tasks_due_in_december_2025(index):
    res = ask(index, "tasks due in December 2025", limit=200, mode="lexical")
    assert res.hits and all((h.doc.deadline or {}).get("date", "").startswith("2025-12") for h in res.hits)


def test_budget_plan_in_ca_mau(index):
    res = ask(index, "kế hoạch về ngân sách ở Cà Mau", limit=10, mode="lexical")
    assert res.hits and all(h.doc.plan["number"] == "0204/KH-UBND" for h in res.hits)
    assert res.query.text == "ngân sách"


def test_a_place_with_no_plans_gives_nothing_rather_than_another_province(index):
    res = ask(index, "5G plan in Hanoi", limit=10, mode="lexical")
    assert all(h.doc.plan.get("province") == "Hà Nội" for h in res.hits)
    lit = ask(index, "chuyển đổi số ở Hà Nội", limit=5, mode="lexical", literal=True)
    assert lit.understood is None


def test_cli_search_and_who_show_the_filter_and_the_plan_on_every_hit(home, capsys):
    from kehoach.cli import main
    assert main(["--home", str(home), "search", "kế hoạch về ngân sách ở Cà Mau", "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("lọc: tỉnh Cà Mau")
    hits = [l for l in out if l[:3].strip().rstrip(".").isdigit()]
    assert hits and all("0204/KH-UBND · Cà Mau" in l for l in hits)
    assert main(["--home", str(home), "who", "ai chủ trì cấp phát nhu yếu phẩm ở Đắk Lắk", "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("lọc: tỉnh Đắk Lắk")
    ev = [l for l in out if l.strip().startswith("- [")]
    assert ev and all("Đắk Lắk]" in l for l in ev)
    assert main(["--home", str(home), "search", "nhiệm vụ của Sở Y tế", "--mode", "lexical", "--format", "json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["understood"]["owner"] == "Sở Y tế" and js["notes"] == ["lọc: cơ quan Sở Y tế"]
