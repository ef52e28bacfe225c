"""Ingest: a file (TXT, DOCX, PDF, HTML/MHTML, .doc/.rtf/.odt, JPEG/PNG/TIFF) -> IngestedDocument
(normalized text, blocks with page/char provenance, tables).

``read(path)`` is the one entry point. ``READERS`` maps each format to its reader:
the file suffixes it serves, a test on the first bytes, and the function that reads
it. ``read`` picks the reader by content first (a PDF named .txt is still a PDF),
then by suffix, and raises ``IngestError`` (one line: file and reason) for bad input.
``corpus.store.FOLDER_SUFFIXES`` (what ``kehoach add FOLDER`` picks up) is derived
from the same table.

Bounds, so one bad file never takes the machine: ``MAX_BYTES`` on the file,
``MAX_PAGES`` on a PDF (``KEHOACH_MAX_PAGES``), the DOCX reader's limits on the
unzipped size (``docx.MAX_UNZIPPED_BYTES``), LibreOffice's timeout
(``office.SOFFICE_TIMEOUT``).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from kehoach.errors import IngestError
from kehoach.models import IngestedDocument

MAX_BYTES = 200 * 1024 * 1024   # larger files are refused, not read into memory
# A plan with its appendices runs to a few hundred pages; the Gazette's largest issues to
# ~1,000. Longer PDFs are refused before any page is read (memory and time grow with pages).
MAX_PAGES = int(os.environ.get("KEHOACH_MAX_PAGES") or 1500)

_OLE = b"\xd0\xcf\x11\xe0"   # OLE2 (Word 97-2003, encrypted Office files); office.ole_kind tells them apart


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------- readers

def _read_text(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    from kehoach.ingest.text import read_text
    return read_text(data, source, digest)


def _read_docx(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    from kehoach.ingest.docx import read_docx
    return read_docx(data, source, digest)


def pdf_page_count(data: bytes) -> Optional[int]:
    """Pages of a PDF, or None when pdfium cannot open it (the PDF reader says why)."""
    import pypdfium2 as pdfium
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        return len(pdf)
    finally:
        pdf.close()


def _read_pdf(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    n = pdf_page_count(data)
    if n is not None and n > MAX_PAGES:
        raise IngestError(source, f"PDF has {n} pages, more than the limit of {MAX_PAGES} "
                                  "(set KEHOACH_MAX_PAGES to read it, or split the file)")
    from kehoach.ingest.pdf import read_pdf
    return read_pdf(data, source, digest)


def _read_html(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    from kehoach.ingest.html import read_html
    return read_html(data, source, digest)


def _read_mhtml(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    from kehoach.ingest.html import read_mhtml
    return read_mhtml(data, source, digest)


def _looks_mhtml(head: bytes) -> bool:
    h = head[:1024].lower()
    return h.startswith((b"mime-version:", b"from:", b"content-type:", b"subject:", b"date:")) and b"multipart/related" in h


def _read_office(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    from kehoach.ingest.office import read_office
    return read_office(data, source, digest, suffix)


def _read_image(data: bytes, source: str, digest: str, suffix: str) -> IngestedDocument:
    from kehoach.ingest.image import read_image
    return read_image(data, source, digest)


def _looks_image(head: bytes) -> bool:
    return head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*"))


def _looks_html(head: bytes) -> bool:
    h = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if h.startswith(b"<?xml"):
        return b"<html" in h
    return h.startswith((b"<!doctype html", b"<html")) or (h.startswith(b"<") and b"<html" in h[:512])


@dataclass(frozen=True)
class Reader:
    """One input format: the suffixes it serves, a test on the file's first bytes
    (None: known by suffix only), and the function that reads it."""
    fmt: str
    suffixes: tuple[str, ...]
    read: Callable[[bytes, str, str, str], IngestedDocument]   # (data, source, sha256, suffix)
    magic: Optional[Callable[[bytes], bool]] = None
    needs: str = ""                                            # system package, for the README


READERS: dict[str, Reader] = {
    "pdf": Reader("pdf", (".pdf",), _read_pdf, lambda h: h.startswith(b"%PDF")),
    "docx": Reader("docx", (".docx", ".docm", ".dotx", ".dotm"), _read_docx, lambda h: h.startswith(b"PK\x03\x04")),
    "office": Reader("office", (".doc", ".dot", ".rtf", ".odt", ".ott", ".fodt", ".wpd", ".wps"), _read_office,
                     lambda h: h.startswith(_OLE) or h.startswith(b"{\\rtf"), needs="libreoffice-writer-nogui"),
    "html": Reader("html", (".html", ".htm", ".xhtml"), _read_html, _looks_html),
    "mhtml": Reader("mhtml", (".mht", ".mhtml"), _read_mhtml, _looks_mhtml),
    "image": Reader("image", (".jpg", ".jpeg", ".png", ".tif", ".tiff"), _read_image, _looks_image,
                    needs="tesseract-ocr tesseract-ocr-vie"),
    "text": Reader("text", (".txt", ".text", ".md"), _read_text),
}
SUFFIXES: tuple[str, ...] = tuple(s for r in READERS.values() for s in r.suffixes)


def reader_for(path: Path, head: bytes) -> Reader:
    """The reader of a file: by content when its first bytes say, else by suffix."""
    suffix = path.suffix.lower()
    by_suffix = next((r for r in READERS.values() if suffix in r.suffixes), None)
    for r in READERS.values():
        if r.magic is not None and r.magic(head):
            if r.fmt == "docx" and by_suffix is not None and by_suffix.fmt == "office":
                return by_suffix            # .odt/.ott are zip files too
            if r.fmt == "docx" and by_suffix is not None and by_suffix.fmt != "docx" and suffix != ".zip":
                break                       # a zip named .txt/.pdf/...: its suffix decides (and fails)
            return r
    if by_suffix is None:
        known = ", ".join(SUFFIXES)
        raise IngestError(str(path), f"unsupported file type '{path.suffix or '(none)'}': expected one of {known}")
    return by_suffix


_NOT_TEXT = str.maketrans("", "", "\ufeff\x00")


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
    try:
        reader = reader_for(p, data[:1024])
    except IngestError as e:
        raise IngestError(src, e.reason) from None
    doc = reader.read(data, src, sha256_of(data), p.suffix.lower())
    if not doc.text.translate(_NOT_TEXT).strip():
        raise IngestError(src, "no text found")     # white space, a byte-order mark or NULs alone
    return doc
