"""Accent restoration of unaccented queries: a standard body name beats common words."""
from __future__ import annotations

import json

import pytest

from kehoach.models import Extraction
from kehoach.search.hybrid import SearchIndex, docs_from_extractions
from kehoach.search.text import folded_tokens, restore_diacritics

from tests.shared import files


@pytest.fixture(scope="module")
def real_index():
    exts = [(i, Extraction.from_dict(json.loads(p.read_text("utf-8"))))
            for i, p in enumerate(files("eval/gold-real", "*.json"), 1)]
    return SearchIndex.build(docs_from_extractions(exts))   # lexical, the real plans' gold records


def test_body_name_wins_over_common_words():
    words = {"so": "số", "noi_vu": "nội_vụ", "chu_tri": "chủ_trì", "gi": "gì", "lieu": "liệu"}
    assert restore_diacritics(folded_tokens("So Noi vu chu tri gi"), words) == "sở nội vụ chủ trì gì"
    assert restore_diacritics(folded_tokens("so lieu"), words) == "số liệu"   # no body name: corpus words


def test_unaccented_body_question_on_real_plans(real_index):
    res = real_index.search("So Noi vu chu tri", limit=5, mode="lexical")
    assert res.query.restored and "sở nội vụ" in res.query.text.lower()
    assert "số" not in res.query.text.lower().split()
    assert any("Sở Nội vụ" in " ".join(h.doc.lead + h.doc.support) + h.doc.text for h in res.hits[:3])


def test_restoration_keeps_working_around_an_unknown_word(real_index):
    from kehoach.search.question import ask, restore_around
    from kehoach.search.who import who
    assert real_index.lexical.restore("So Noi vu chu tri gi") is None          # "gi" is no word of the plans
    assert restore_around(real_index, "So Noi vu chu tri gi") == "sở nội vụ chủ trì gi"
    assert restore_around(real_index, "Sở Nội vụ chủ trì gì") is None           # typed with diacritics
    assert restore_around(real_index, "thanh toan truc tuyen") is None           # the index restores it whole
    assert restore_around(real_index, "who coordinates the relief goods") is None   # English stays as typed
    # the unaccented question with a typo finds what the accented one finds
    for typed, accented in [("khac phuc moi truong sau lu xyzq", "khắc phục môi trường sau lũ xyzq"),
                            ("So Noi vu chu tri gi", "Sở Nội vụ chủ trì gi")]:
        a = ask(real_index, typed, mode="lexical", literal=True)
        b = ask(real_index, accented, mode="lexical", literal=True)
        assert a.query.restored and a.query.raw == typed
        assert [h.doc.key for h in a.hits] == [h.doc.key for h in b.hits] and a.hits
    w = who(real_index, "ai chu tri khac phuc moi truong sau lu xyzq", mode="lexical")
    v = who(real_index, "ai chủ trì khắc phục môi trường sau lũ xyzq", mode="lexical")
    assert [o.body for o in w.owners[:3]] == [o.body for o in v.owners[:3]] and w.owners
