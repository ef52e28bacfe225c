"""Questions understood: a place, an owner, a deadline or a document kind in the query becomes a filter
shown to the user; ``who``/``search`` print the plan's number and province; generic phrases are never
owners. Over a corpus of the seeds + the vendored real web plans + a real Gazette PDF, built once,
lexical mode."""
from __future__ import annotations

import json

import pytest

import datetime as dt

from kehoach.search.question import ask, is_body_name, province_label, related_provinces, understand
from kehoach.search.tasks import status_of
from kehoach.search.who import is_owner, who
from tests.shared import need


slow = pytest.mark.slow        # the tests over the corpus, built once (seeds, real web plans, a PDF)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("questions_home")
    with Corpus(h) as c:
        rep = c.add([str(need("seeds")), str(need("real/web")),
                     str(need("real/pdf/quyet-dinh-so-28-2021-qd-ttg-34546.pdf"))], progress=False)
    assert len(rep.added) == 17, rep.summary()
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
    assert u.province == province and u.text == text and province_label(province) in u.notes


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


@slow
def test_owner_question_lists_the_health_department_tasks(index):
    res = ask(index, "nhiệm vụ của Sở Y tế", limit=50, mode="lexical")
    assert res.hits and res.notes() == ["cơ quan Sở Y tế"]
    assert all(any("Y tế" in n for n in h.doc.lead + h.doc.support) for h in res.hits)
    assert {h.doc.plan["number"] for h in res.hits} >= {"0129/KH-UBND"}
    assert res.to_dict()["notes"] == ["lọc: cơ quan Sở Y tế"]


@slow
def test_flood_relief_question_answers_from_dak_lak(index):
    res = who(index, "ai chủ trì cấp phát nhu yếu phẩm cho người dân vùng lũ ở Đắk Lắk", mode="lexical",
              understand=True)
    assert res.search.understood["province"] == "Đắk Lắk"
    assert res.owners and all(t["province"] == "Đắk Lắk" for o in res.owners for t in o.tasks)
    assert any(t["plan_number"] == "0129/KH-UBND" for t in res.owners[0].tasks)
    names = [o.body for o in res.owners]
    assert "Sở Y tế" in names or "Sở Công Thương" in names


@slow
def test_tasks_due_in_december_2025(index):
    res = ask(index, "tasks due in December 2025", limit=200, mode="lexical")
    assert res.hits and all((h.doc.deadline or {}).get("date", "").startswith("2025-12") for h in res.hits)


@slow
def test_budget_plan_in_ca_mau(index):
    res = ask(index, "kế hoạch về ngân sách ở Cà Mau", limit=10, mode="lexical")
    assert res.hits and all(h.doc.plan["number"] == "0204/KH-UBND" for h in res.hits)
    assert res.query.text == "ngân sách"


@slow
def test_a_place_with_no_plans_gives_nothing_rather_than_another_province(index):
    res = ask(index, "5G plan in Hanoi", limit=10, mode="lexical")
    assert all(h.doc.plan.get("province") == "Hà Nội" for h in res.hits)
    lit = ask(index, "chuyển đổi số ở Hà Nội", limit=5, mode="lexical", literal=True)
    assert lit.understood is None


@slow
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


# ---------------------------------------------------------------- places: every province, old and new

def _province_rows():
    from kehoach.search.text import DATA
    rows = []
    for line in (DATA / "provinces.tsv").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            cells = line.split("\t")
            rows.append((cells[0], cells[2] if len(cells) > 2 else ""))
    return rows


def test_every_province_before_and_after_2025_is_understood_with_and_without_diacritics():
    from kehoach.search.text import fold
    rows = _province_rows()
    old = {n for n, _ in rows if n != "Huế"}                 # the 63 provinces before 2025
    new = {(m or n) for n, m in rows}                         # the 34 after Nghị quyết 202/2025/QH15
    assert len(old) == 63 and len(new) == 34
    for name, merged in rows:
        for typed in (name, fold(name).title()):
            u = understand(f"chuyển đổi số ở {typed}")
            assert u.province == name and u.text == "chuyển đổi số", typed
        if merged and merged != name:                         # a pre-2025 name matches the merged province
            assert related_provinces(name) == [name, merged] and f"nay thuộc {province_label(merged)}" in \
                understand(f"kế hoạch ở {name}").notes
            assert name in related_provinces(merged)          # and the merged province the old one


@pytest.mark.parametrize("query,province", [
    ("digital transformation in Ho Chi Minh City", "Hồ Chí Minh"), ("tasks in Hanoi", "Hà Nội"),
    ("budget plan of Ca Mau province", "Cà Mau"), ("kế hoạch ở TP.HCM", "Hồ Chí Minh"),
    ("chuyen doi so o Thua Thien Hue", "Thừa Thiên Huế"), ("nhiệm vụ ở Bà Rịa - Vũng Tàu", "Bà Rịa - Vũng Tàu"),
    ("Saigon flood plan", "Hồ Chí Minh"),
])
def test_english_and_short_forms_of_a_province(query, province):
    assert understand(query).province == province


@slow
def test_a_merged_province_finds_the_plans_of_the_provinces_merged_into_it(index):
    # the seed of Trà Vinh (merged into Vĩnh Long in 2025) answers a question about Vĩnh Long, and back
    res = ask(index, "nâng cao chỉ số hài lòng ở Vĩnh Long", limit=10, mode="lexical")
    assert res.hits and {h.doc.plan["province"] for h in res.hits} == {"Trà Vinh"}
    assert "gồm cả tỉnh Bến Tre, tỉnh Trà Vinh cũ" in res.notes()
    # Quảng Bình merged into Quảng Trị: the Quảng Trị plans answer, listed without a query too
    only = ask(index, "kế hoạch ở Quảng Bình", limit=200, mode="lexical")
    assert only.mode == "filters" and only.hits
    assert {h.doc.plan["province"] for h in only.hits} == {"Quảng Trị"}
    assert "nay thuộc tỉnh Quảng Trị" in only.notes()


# ---------------------------------------------------------------- owners

@pytest.mark.parametrize("query,owner,role", [
    ("Sở Y tế chủ trì những việc gì", "Sở Y tế", "lead"),
    ("việc do Sở Tài chính chủ trì", "Sở Tài chính", "lead"),
    ("do Sở Nội vụ thực hiện", "Sở Nội vụ", None),
    ("Sở Khoa học và Công nghệ owns", "Sở Khoa học và Công nghệ", "lead"),
    ("which tasks does Sở Nội vụ own", "Sở Nội vụ", "lead"),
    ("tasks owned by Sở Tài chính", "Sở Tài chính", "lead"),
    ("nhiệm vụ Sở Y tế phối hợp", "Sở Y tế", "support"),
    ("nhiem vu cua so tai chinh", "so tai chinh", None),
])
def test_owner_phrases(query, owner, role):
    u = understand(query)
    assert (u.owner, u.role, u.text) == (owner, role, "")


@slow
def test_owner_questions_answer_with_that_owner_on_every_hit(index):
    lead = ask(index, "Sở Nội vụ chủ trì những việc gì", limit=200, mode="lexical")
    assert lead.hits and all(any("Sở Nội vụ" in n for n in h.doc.lead) for h in lead.hits)
    assert lead.notes() == ["cơ quan Sở Nội vụ (chủ trì)"]
    assert {h.doc.plan["number"] for h in lead.hits} >= {"012/CT-UBND"}
    own = ask(index, "which tasks does Sở Khoa học và Công nghệ own about digital signatures", limit=20,
              mode="lexical")
    assert all(any("Khoa học và Công nghệ" in n for n in h.doc.lead) for h in own.hits)
    either = ask(index, "do Sở Nội vụ thực hiện", limit=200, mode="lexical")
    assert len(either.hits) >= len(lead.hits)
    assert all(any("Sở Nội vụ" in n for n in h.doc.lead + h.doc.support) for h in either.hits)


# ---------------------------------------------------------------- deadlines

@pytest.mark.parametrize("query,lo,hi", [
    ("nhiệm vụ quý IV/2025", "2025-10-01", "2025-12-31"),
    ("tasks due in Q4 2025", "2025-10-01", "2025-12-31"),
    ("nhiệm vụ trong năm 2026", "2026-01-01", "2026-12-31"),
    ("before 31/12/2025", None, "2025-12-31"),
    ("hạn trước tháng 7/2025", None, "2025-06-30"),
    ("due by December 2025", None, "2025-12-31"),
    ("hạn chót 30/6/2025", "2025-06-30", "2025-06-30"),
])
def test_more_deadline_phrases(query, lo, hi):
    u = understand(query)
    assert (u.deadline_from, u.deadline_to) == (lo, hi) and u.notes and u.text == ""


def test_a_plan_scope_or_a_symbol_is_no_deadline():
    for q in ("kế hoạch năm 2025", "xây dựng kế hoạch năm 2025", "Nghị quyết 12/2025/NQ-CP", "kế hoạch 2026 - 2030"):
        u = understand(q)
        assert (u.deadline_from, u.deadline_to, u.status, u.kind) == (None, None, None, None), q


@slow
def test_deadline_questions_over_the_corpus(index):
    from kehoach.search.tasks import deadline_end
    q4 = ask(index, "nhiệm vụ quý IV/2025", limit=200, mode="lexical")
    assert q4.hits and all("2025-10-01" <= deadline_end(h.doc.deadline).isoformat() <= "2025-12-31" for h in q4.hits)
    year = ask(index, "nhiệm vụ trong năm 2026", limit=200, mode="lexical")
    assert year.hits and all(deadline_end(h.doc.deadline).year == 2026 for h in year.hits)
    before = ask(index, "tasks due before 31/12/2021", limit=200, mode="lexical")
    assert before.hits and all(deadline_end(h.doc.deadline).isoformat() <= "2021-12-31" for h in before.hits)
    day = dt.date(2026, 1, 1)
    late = ask(index, "nhiệm vụ quá hạn", limit=200, mode="lexical", as_of=day)
    assert late.hits and late.notes() == ["quá hạn"]
    assert all(status_of(h.doc.deadline, day) == "overdue" for h in late.hits)
    late_en = ask(index, "overdue tasks about administrative reform", limit=50, mode="lexical", as_of=day)
    assert all(status_of(h.doc.deadline, day) == "overdue" for h in late_en.hits)


# ---------------------------------------------------------------- kinds

@pytest.mark.parametrize("query,kind,text", [
    ("các chỉ thị về cải cách hành chính", "Chỉ thị", "cải cách hành chính"),
    ("quyết định về chuyển đổi số ở Ho Chi Minh City", "Quyết định", "chuyển đổi số"),
    ("directives on forest protection", "Chỉ thị", "forest protection"),
    ("công văn nào về bầu cử", "Công văn", "bầu cử"),
    ("kế hoạch về ngân sách ở Cà Mau", "Kế hoạch", "ngân sách"),
])
def test_a_document_kind_asked_for(query, kind, text):
    u = understand(query)
    assert (u.kind, u.text) == (kind, text) and f"loại {kind}" in u.notes


@slow
def test_kind_questions_over_the_corpus(index):
    ct = ask(index, "các chỉ thị về cải cách hành chính", limit=20, mode="lexical")
    assert ct.hits and {h.doc.plan["type"] for h in ct.hits} == {"Chỉ thị"}
    assert {h.doc.plan["number"] for h in ct.hits} >= {"012/CT-UBND"}
    qd = ask(index, "quyết định về chuyển đổi số ở Ho Chi Minh City", limit=10, mode="lexical")
    assert qd.hits and {h.doc.plan["number"] for h in qd.hits} == {"2820/QĐ-UBND"}
    # a Quyết định that issues a Kế hoạch is asked for as a Kế hoạch too
    kh = ask(index, "kế hoạch về cơ sở dữ liệu quy hoạch ở Thành phố Hồ Chí Minh", limit=10, mode="lexical")
    assert kh.hits and {h.doc.plan["number"] for h in kh.hits} == {"2820/QĐ-UBND"}


@slow
def test_cli_prints_the_plan_number_and_province_on_every_hit_for_each_shape(home, capsys):
    from kehoach.cli import main
    for q in ("Sở Nội vụ chủ trì những việc gì", "nhiệm vụ quý I/2026 ở Đắk Lắk",
              "các chỉ thị về cải cách hành chính ở Đắk Lắk"):
        assert main(["--home", str(home), "search", q, "--mode", "lexical", "--limit", "20"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("lọc: ")
        hits = [l for l in out if l[:3].strip().rstrip(".").isdigit()]
        assert hits, q
        if "Đắk Lắk" in q:
            assert all(" · Đắk Lắk" in l and "/" in l.split("]", 1)[1] for l in hits), q
        else:
            assert all("/" in l.split("]", 1)[1] for l in hits), q
    assert main(["--home", str(home), "who", "which tasks does Sở Nội vụ own", "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    ev = [l for l in out if l.strip().startswith("- [")]
    assert out[0].startswith("lọc: cơ quan Sở Nội vụ") and ev and all("/" in l and " · " in l for l in ev)


@pytest.mark.parametrize("query,lo,hi", [
    ("nhiệm vụ đến hạn trong tháng này", "2025-11-01", "2025-11-30"),
    ("tasks due next month", "2025-12-01", "2025-12-31"),
    ("hạn quý sau", "2026-01-01", "2026-03-31"),
    ("nhiệm vụ trong năm nay", "2025-01-01", "2025-12-31"),
    ("hạn đến hết năm nay", None, "2025-12-31"),
])
def test_a_period_named_from_today(query, lo, hi):
    u = understand(query, dt.date(2025, 11, 20))
    assert (u.deadline_from, u.deadline_to, u.text) == (lo, hi, "")
    assert understand("kế hoạch năm nay", dt.date(2025, 11, 20)).notes == []     # a plan's scope


@slow
def test_due_soon_over_the_corpus(index):
    day = dt.date(2025, 12, 15)
    soon = ask(index, "nhiệm vụ sắp đến hạn", limit=200, mode="lexical", as_of=day)
    assert soon.hits and soon.notes() == ["sắp đến hạn"]
    assert all(status_of(h.doc.deadline, day) == "due_soon" for h in soon.hits)
    month = ask(index, "tasks due this month", limit=200, mode="lexical", as_of=day)
    assert month.notes() == ["hạn tháng 12/2025"] and month.hits


@slow
def test_cli_says_plainly_when_the_filters_match_nothing_and_shows_the_evidence(home, capsys):
    from kehoach.cli import main
    assert main(["--home", str(home), "search", "nhiệm vụ của Sở Ngoại vụ ở Cà Mau hạn tháng 12 năm 2019",
                 "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("lọc: ")
    assert out[1].startswith("không có nhiệm vụ nào khớp bộ lọc: ") and out[2] == "no results"
    assert main(["--home", str(home), "search", "kế hoạch về ngân sách ở Cà Mau", "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    hits = [l for l in out if l[:3].strip().rstrip(".").isdigit()]
    ev = [l for l in out if l.startswith("    căn cứ: ")]
    assert hits and len(ev) == len(hits)
    assert all("kế hoạch 0204/KH-UBND" in l and "mục " in l and "độ phủ " in l for l in ev)
    assert main(["--home", str(home), "who", "ai chủ trì cấp phát nhu yếu phẩm ở Đắk Lắk", "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    tasks = [l for l in out if l.strip().startswith("- [")]
    ev = [l for l in out if l.startswith("      căn cứ: kế hoạch ")]
    assert tasks and len(ev) == len(tasks) and all("độ phủ " in l for l in ev)
