"""'Which plans cite law L' answered from the corpus store's legal references, on the real web plans."""
from __future__ import annotations

import pytest

from kehoach.search.question import cited_law, plans_citing

from tests.shared import need


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("cites_home")
    c = Corpus(h)
    c.add([str(need("real/web"))], progress=False)
    yield c
    c.close()


def test_cited_law_reads_the_question():
    assert cited_law("kế hoạch nào căn cứ Luật Việc làm?") == "luat viec lam"
    assert cited_law("plans citing 30/2020/NĐ-CP") == "30/2020/nd-cp"
    assert cited_law("ai chủ trì khắc phục môi trường sau lũ") is None
    assert cited_law("kế hoạch căn cứ tình hình thực tế") is None


def test_plans_citing_a_law_by_name_and_by_symbol(corpus):
    by_name = plans_citing(corpus, "kế hoạch nào căn cứ Luật Đất đai")
    assert [p["number"] for p in by_name] == ["2820/QĐ-UBND"]
    assert all("Luật Đất đai" in r["text"] for r in by_name[0]["refs"])
    by_sym = plans_citing(corpus, "plans citing 200/2023/NĐ-CP")
    assert "0129/KH-UBND" in [p["number"] for p in by_sym]
    assert plans_citing(corpus, "kế hoạch nào căn cứ Luật Việc làm") == []
    assert plans_citing(corpus, "ai chủ trì khắc phục môi trường") is None


def test_cli_search_answers_which_plans_cite(corpus, capsys):
    from kehoach.cli import main
    assert main(["--home", str(corpus.home), "search", "kế hoạch nào căn cứ Luật Đất đai", "--mode", "lexical"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == " 1. 2820/QĐ-UBND" and out[1].startswith("    căn cứ: Luật Đất đai")
    assert main(["--home", str(corpus.home), "search", "kế hoạch nào căn cứ Luật Việc làm", "--mode", "lexical"]) == 0
    assert capsys.readouterr().out.startswith("không có kế hoạch nào căn cứ")


def test_ask_answers_which_plans_cite_with_the_corpus(corpus):
    from kehoach.search.question import CitesResult, ask
    from kehoach.search.service import open_index
    idx = open_index(corpus.home, dense=False, corpus=corpus)
    res = ask(idx, "kế hoạch nào căn cứ Luật Đất đai?", mode="lexical", corpus=corpus)
    assert isinstance(res, CitesResult) and res.written == "Luật Đất đai"
    d = res.to_dict()
    assert d["mode"] == "cites" and d["hits"] == [] and [p["number"] for p in d["plans"]] == ["2820/QĐ-UBND"]
    assert d["plans"][0]["title"] and all("Luật Đất đai" in r["text"] for r in d["plans"][0]["refs"])
    none = ask(idx, "kế hoạch nào căn cứ Luật Việc làm", mode="lexical", corpus=corpus)
    assert none.plans == [] and none.empty == "không có kế hoạch nào căn cứ Luật Việc làm"
    # without the corpus, or literal, the question is searched as words: task hits
    plain = ask(idx, "kế hoạch nào căn cứ Luật Đất đai", mode="lexical")
    assert not isinstance(plain, CitesResult)
    assert not isinstance(ask(idx, "kế hoạch nào căn cứ Luật Đất đai", mode="lexical", literal=True, corpus=corpus),
                          CitesResult)
    # any other question goes on to the task search
    assert ask(idx, "ai chủ trì khắc phục môi trường sau lũ", mode="lexical", corpus=corpus).hits


def _server(corpus):
    from fastapi.testclient import TestClient
    from kehoach.search.server import CorpusBackend, create_app
    backend = CorpusBackend(corpus.home, embedder=None)
    return backend, TestClient(create_app(backend, allowed_hosts=["testserver"]), raise_server_exceptions=False)


def test_server_search_answers_which_plans_cite(corpus):
    backend, client = _server(corpus)
    try:
        r = client.get("/api/search", params={"q": "kế hoạch nào căn cứ Luật Đất đai", "mode": "lexical"})
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["mode"] == "cites" and [p["number"] for p in d["plans"]] == ["2820/QĐ-UBND"]
        assert d["notes"] == ["lọc: kế hoạch căn cứ Luật Đất đai"]
        sym = client.get("/api/search", params={"q": "plans citing 200/2023/NĐ-CP", "mode": "lexical"}).json()
        assert "0129/KH-UBND" in [p["number"] for p in sym["plans"]]
        empty = client.get("/api/search", params={"q": "kế hoạch nào căn cứ Luật Việc làm", "mode": "lexical"}).json()
        assert empty["plans"] == [] and empty["understood"]["empty"] == "không có kế hoạch nào căn cứ Luật Việc làm"
        lit = client.get("/api/search", params={"q": "kế hoạch nào căn cứ Luật Đất đai", "mode": "lexical",
                                                 "literal": "true"}).json()
        assert lit["mode"] == "lexical" and "plans" not in lit
    finally:
        backend.close()


@pytest.mark.slow
def test_page_lists_the_plans_citing_a_law(corpus):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from tests.test_web import page_on
    with page_on(corpus.home) as (drv, url):
        wait = WebDriverWait(drv, 30)
        drv.get(url + "/#/search?q=" + "kế hoạch nào căn cứ Luật Đất đai&mode=lexical")
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#cite-plans li")))
        items = drv.find_elements(By.CSS_SELECTOR, "#cite-plans li.cite")
        assert len(items) == 1 and "2820/QĐ-UBND" in items[0].text and "căn cứ: Luật Đất đai" in items[0].text
        assert not drv.find_element(By.ID, "results").is_displayed()
        assert "1 kế hoạch căn cứ Luật Đất đai" in drv.find_element(By.ID, "status").text
        items[0].find_element(By.CSS_SELECTOR, "a.open-plan").click()
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#plan-text span.task")))
        drv.get(url + "/#/search?q=" + "kế hoạch nào căn cứ Luật Việc làm&mode=lexical")
        wait.until(EC.text_to_be_present_in_element((By.ID, "status"), "không có kế hoạch nào căn cứ Luật Việc làm"))
        assert not drv.find_element(By.ID, "cites").is_displayed()
