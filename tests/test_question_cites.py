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
