"""The Python API (``import kehoach``): the README example runs as written; each method on real plans."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import kehoach
from tests.shared import need

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    text = README.read_text("utf-8")
    part = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", part, re.S).group(1)


def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 6
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out == ["116/KH-UBND", "Sở Nội vụ"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    c = kehoach.Corpus(tmp_path_factory.mktemp("api_home"))
    rep = c.add([need("seeds"), need("real/web/0129-KH-UBND__62f25a03.txt")])
    assert len(rep.added) == 6, rep.summary()
    yield c
    c.close()


def test_extract_gives_the_record_of_a_file():
    ex = kehoach.extract(need("seeds/001_4224283dfe2b5ee5.txt"))
    assert ex.document.number == "116/KH-UBND" and ex.tasks
    assert ex.to_dict()["document"]["issuer"] == "Ủy ban nhân dân tỉnh Tuyên Quang"


def test_tasks_search_who(corpus):
    rows = corpus.tasks(owner="Sở Y tế", province="Đắk Lắk")
    assert rows and all(r["plan_number"] == "0129/KH-UBND" and r["province"] == "Đắk Lắk" for r in rows)
    res = corpus.search("nhiệm vụ của Sở Y tế", mode="lexical")
    assert res["notes"] == ["lọc: cơ quan Sở Y tế"] and res["hits"]
    owners = corpus.who("ai chủ trì thành lập Ban Chỉ đạo", mode="lexical")["owners"]
    assert owners[0]["body"] == "Sở Nội vụ"


def test_search_answers_which_plans_cite_a_document(corpus):
    res = corpus.search("kế hoạch nào căn cứ Thông tư 01/2013/TT-BXD", mode="lexical")
    assert res["mode"] == "cites" and res["hits"] == [] and len(res["plans"]) == 1
    assert res["plans"][0]["title"].startswith("Khắc phục tồn tại, hạn chế Chỉ số cải cách")
    assert [r["text"] for r in res["plans"][0]["refs"]] == ["Thông tư số 01/2013/TT-BXD"]
    none = corpus.search("kế hoạch nào căn cứ Luật Việc làm", mode="lexical")
    assert none["plans"] == [] and none["understood"]["empty"] == "không có kế hoạch nào căn cứ Luật Việc làm"


def test_registry_and_legal_check(corpus, tmp_path):
    from tests.test_registry import HashEmbedder
    out = tmp_path / "reg.csv"
    reg = corpus.registry(as_of="31/12/2025", format="csv", out=str(out), embedder=HashEmbedder())
    assert reg["as_of"] == "2025-12-31" and reg["clusters"]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rep = corpus.legal_check("116/KH-UBND")
    assert rep["refs"] is not None and "summary" in rep


def test_dataframe_when_pandas_is_installed(corpus):
    pd = pytest.importorskip("pandas")
    df = corpus.dataframe(province="Đắk Lắk")
    assert len(df) and str(df["deadline_date"].dtype).startswith("datetime")
