"""Loading of the data tables in ``kehoach/data`` (TSV, '#' comments), cached."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def rows(name: str) -> tuple[tuple[str, ...], ...]:
    text = resources.files("kehoach.data").joinpath(name).read_text("utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append(tuple(x.strip() for x in line.split("\t")))
    return tuple(out)


@lru_cache(maxsize=None)
def word_alternation(name: str, *kinds: str) -> str:
    """The words of table ``name`` whose first column is one of ``kinds``, as a regex alternation
    (escaped, each once, longest first so a longer phrase wins over its prefix)."""
    words = sorted({r[1] for r in rows(name) if r[0] in kinds}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)
