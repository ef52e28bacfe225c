"""Loading of the data tables in ``kehoach/data`` (TSV, '#' comments), cached."""
from __future__ import annotations

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
