"""Letterhead / signature detection shared by the DOCX and PDF readers.

Vietnamese administrative documents put the issuer + "Số: ..." next to the
national motto + place/date (letterhead), and the "Nơi nhận" list next to the
signature. Word files lay these out with a borderless two-column table, PDFs
with two text columns. Both are read as paragraphs, left column first.

The markers live in ``kehoach/data/layout_markers.tsv``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent.parent / "data" / "layout_markers.tsv"


@lru_cache(maxsize=1)
def layout_markers() -> tuple[tuple[str, re.Pattern], ...]:
    out = []
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, pattern = line.partition("\t")
        out.append((kind.strip(), re.compile(pattern.strip(), re.I)))
    return tuple(out)


def layout_hits(text: str) -> set[str]:
    """The marker kinds ("letterhead", "signature") found in ``text``, by pattern."""
    hits = set()
    for kind, rx in layout_markers():
        if rx.search(text):
            hits.add(kind + ":" + rx.pattern)
    return hits


def is_layout_text(text: str, min_hits: int = 1) -> bool:
    return len(layout_hits(text)) >= min_hits
