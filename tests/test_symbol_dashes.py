"""A document's symbol written with another hyphen or dash than U+002D (Word's non-breaking hyphen in
DOCX-made PDFs and pages, a typed en dash, a PDF text layer's soft hyphen): the real plans' numbers
and legal references come out as from the originals."""
from __future__ import annotations

import re

import pytest

from kehoach.extract import extract
from kehoach.ingest import read
from tests.shared import files

_SYMBOL_HYPHEN = re.compile(r"(\d/(?:\d{4}/)?[A-ZĐ][A-ZĐa-z]*)-(?=[A-ZĐ])")


def _record(path):
    rec = extract(read(path)).to_dict()
    return rec["document"]["number"], [(r.get("symbol"), r.get("date")) for r in rec["legal_refs"]]


@pytest.mark.parametrize("dash", ["\u2011", "\u2010", "\u2013", "\u2014", "\u2212", "\u00ad"],
                         ids=["non-breaking hyphen", "hyphen", "en dash", "em dash", "minus", "soft hyphen"])
def test_symbols_with_other_dashes_read_as_the_originals(tmp_path, dash):
    changed = 0
    for p in files("real/web", "*.txt")[:6]:
        text = p.read_text("utf-8")
        variant, n = _SYMBOL_HYPHEN.subn(lambda m: m.group(1) + dash, text)
        changed += n
        q = tmp_path / p.name
        q.write_text(variant, "utf-8")
        assert _record(q) == _record(p), p.name
    assert changed > 30
