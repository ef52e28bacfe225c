"""Ingest: a file (TXT, DOCX, PDF) -> IngestedDocument (normalized text, blocks
with page/char provenance, tables).

``read(path)`` is the one entry point; it picks the reader by content and
extension and raises ``IngestError`` (one line: file and reason) for bad input.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from kehoach.errors import IngestError
from kehoach.models import IngestedDocument

MAX_BYTES = 200 * 1024 * 1024   # larger files are refused, not read into memory
READERS = {".txt": "text", ".text": "text", ".md": "text", ".docx": "docx", ".pdf": "pdf"}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _kind(path: Path, head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and path.suffix.lower() in (".docx", ".docm", ".zip", ""):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(str(path), "legacy Word .doc (or encrypted Office) file: save it as .docx or PDF first")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise IngestError(str(path), f"unsupported file type '{path.suffix or '(none)'}': expected .txt, .docx or .pdf")
    return kind


def read(path: str | Path, source: str | None = None) -> IngestedDocument:
    """Read one file. ``source`` is the name recorded in the records (default: the path as given)."""
    p = Path(path)
    src = source if source is not None else str(path)
    if not p.exists():
        raise IngestError(src, "no such file")
    if p.is_dir():
        raise IngestError(src, "is a directory")
    size = p.stat().st_size
    if size == 0:
        raise IngestError(src, "empty file")
    if size > MAX_BYTES:
        raise IngestError(src, f"file too large ({size // (1024 * 1024)} MiB > {MAX_BYTES // (1024 * 1024)} MiB)")
    data = p.read_bytes()
    kind = _kind(p, data[:8])
    digest = sha256_of(data)
    if kind == "text":
        from kehoach.ingest.text import read_text
        doc = read_text(data, src, digest)
    elif kind == "docx":
        from kehoach.ingest.docx import read_docx
        doc = read_docx(data, src, digest)
    else:
        from kehoach.ingest.pdf import read_pdf
        doc = read_pdf(data, src, digest)
    if not doc.text.strip():
        raise IngestError(src, "no text found")
    return doc
