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
