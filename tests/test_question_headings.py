"""The heading path of each task (the section headings above it, with their numbers) carried into search
and who answers: the Python helpers, the CLI evidence line, the real server's JSON and the web page."""
from __future__ import annotations

import pytest

from kehoach.search.question import heading_path

from tests.shared import need

SO_CONG_THUONG = "IV. PHÂN CÔNG NHIỆM VỤ › 1. Sở Công Thương"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    c = Corpus(tmp_path_factory.mktemp("headings_home"))
    c.add([str(need("real/web"))], progress=False)
    yield c
    c.close()


def test_heading_path_numbers_each_heading():
    assert heading_path("IV.1", "PHÂN CÔNG NHIỆM VỤ > Sở Công Thương") == SO_CONG_THUONG
    assert heading_path("II.2.a", "NHIỆM VỤ > 2. Cải cách thể chế > a) Sở Tư pháp") == \
        "II. NHIỆM VỤ › 2. Cải cách thể chế › a) Sở Tư pháp"           # a number already written stays once
    assert heading_path("II.3.1", "NHIỆM VỤ > Chuyển đổi số") == "NHIỆM VỤ › Chuyển đổi số"  # counts differ
    assert heading_path("I", "") == ""
    assert heading_path("II.a", "NHIỆM VỤ > an toàn thông tin") == "II. NHIỆM VỤ › a. an toàn thông tin"


def test_stored_extractions_give_every_task_its_path(corpus):
    from kehoach.search.question import heading_paths
    plan = next(p for p in corpus.plans() if p.number == "0129/KH-UBND")
    paths = heading_paths(corpus, [plan.id])[plan.id]
    ex = corpus.extraction(plan.id)
    lead_cong_thuong = [t.id for t in ex.tasks if t.lead == ["Sở Công Thương"]]
    assert lead_cong_thuong and all(paths[t] == SO_CONG_THUONG for t in lead_cong_thuong)
    assert sum(1 for v in paths.values() if v) >= 0.9 * len(paths)


def test_cli_evidence_names_the_heading_path(corpus, capsys):
    from kehoach.cli import main
    assert main(["--home", str(corpus.home), "search", "dọn dẹp vệ sinh môi trường sau lũ",
                 "--mode", "lexical", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "căn cứ: kế hoạch 0129/KH-UBND · mục IV. PHÂN CÔNG NHIỆM VỤ › 2. Sở Nông nghiệp và Môi trường" in out
    assert main(["--home", str(corpus.home), "who", "ai chủ trì điều phối nguồn hàng hỗ trợ từ ngân sách nhà nước",
                 "--mode", "lexical", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. Sở Công Thương") and f"mục {SO_CONG_THUONG} ·" in out


def test_server_answers_carry_heading_paths(corpus):
    from tests.test_question_cites import _server
    backend, client = _server(corpus)
    try:
        r = client.get("/api/search", params={"q": "điều phối toàn bộ nguồn hàng hỗ trợ", "mode": "lexical"})
        assert r.status_code == 200, r.text
        hits = r.json()["hits"]
        assert hits and all("heading_path" in h for h in hits)
        assert hits[0]["lead"] == ["Sở Công Thương"] and hits[0]["heading_path"] == SO_CONG_THUONG
        w = client.get("/api/who", params={"q": "ai chủ trì điều phối nguồn hàng hỗ trợ từ ngân sách nhà nước"}).json()
        top = w["owners"][0]
        assert top["body"] == "Sở Công Thương" and top["tasks"][0]["heading_path"] == SO_CONG_THUONG
    finally:
        backend.close()


@pytest.mark.slow
def test_page_shows_the_heading_path_of_a_hit(corpus):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from tests.test_web import page_on
    with page_on(corpus.home) as (drv, url):
        drv.get(url + "/#/search?q=" + "điều phối toàn bộ nguồn hàng hỗ trợ&mode=lexical")
        WebDriverWait(drv, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#hits .hit")))
        first = drv.find_elements(By.CSS_SELECTOR, "#hits .hit")[0]
        assert "Mục:" in first.text and SO_CONG_THUONG in first.text
