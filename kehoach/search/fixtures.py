"""Corpora made from SPEC JSON records (e.g. the shared gold files) for tests,
demos and screenshots, without running ingest/extract.

Spans missing from the records are located in the text by an exact search of
the task's opening words, so the plan view can still highlight them.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Optional

from kehoach.models import Extraction, IngestedDocument, Block, Span


def locate_spans(ext: Extraction, text: str) -> Extraction:
    """Give tasks and references without a span the first place their text occurs (in order)."""
    pos = 0
    for t in ext.tasks:
        if t.span is None and t.text:
            head = t.text[:60]
            i = text.find(head, pos)
            if i < 0:
                i = text.find(head)
            if i >= 0:
                end = text.find("\n", i)
                t.span = Span(i, min(i + len(t.text), end if end > 0 else len(text)))
                pos = i + 1
    for r in ext.legal_refs:
        if r.span is None and r.text:
            i = text.find(r.text)
            if i >= 0:
                r.span = Span(i, i + len(r.text))
    return ext


def load_records(record_paths: list[Path], text_dir: Optional[Path] = None) -> list[tuple[Extraction, str]]:
    """SPEC JSON files -> (Extraction, text) with text read from ``text_dir/<stem>.txt`` when present."""
    out = []
    for p in record_paths:
        ext = Extraction.from_dict(json.loads(Path(p).read_text("utf-8")))
        text = ""
        if text_dir is not None:
            tp = Path(text_dir) / (Path(ext.source).stem + ".txt")
            if tp.exists():
                text = tp.read_text("utf-8")
        out.append((locate_spans(ext, text), text))
    return out


def store_records(corpus, records: list[tuple[Extraction, str]]) -> list[int]:
    """Write records into a ``Corpus`` through its public ``store`` (one paragraph block per line)."""
    ids = []
    for ext, text in records:
        blocks, start = [], 0
        for line in text.split("\n"):
            blocks.append(Block("para", line, start, start + len(line)))
            start += len(line) + 1
        sha = ext.sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
        doc = IngestedDocument(source=ext.source, sha256=sha, format="txt", text=text, blocks=blocks)
        # no file behind a record: its path is a name under the corpus home, unique per source
        _, pid, _ = corpus.store(ext.source, Path(corpus.home) / "records" / Path(ext.source).name, doc, ext)
        ids.append(pid)
    return ids
