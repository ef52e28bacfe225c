"""Bad input stays clean: password-protected PDF and DOCX, zip bombs, a 2,000-page PDF,
a page with no document. Each is one line naming the file and the reason, the batch
goes on, and the peak memory of the process that meets it stays bounded. The bad files
are made here, with the libraries that make such files in the wild."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kehoach.errors import IngestError
from kehoach.ingest import read
from tests.shared import need

DOCX = "corpus/docx/000_32de8ed23e57a435.docx"
SEED_TXT = "seeds/000_32de8ed23e57a435.txt"
# Peak RSS of a process that imports the readers and meets the bad file. Measured: a
# clean `read` of a seed DOCX peaks at ~45 MiB, the refused 64 MiB bomb at ~30 MiB, the
# refused 2,000-page PDF at ~45 MiB; unzipping the bomb would add its 64 MiB and more.
RSS_LIMIT_MIB = 100

_PEAK = """
import resource, sys
from kehoach.errors import IngestError
from kehoach.ingest import read
try:
    read(sys.argv[1])
    print("read")
except IngestError as e:
    print(e)
# VmHWM is this process's own peak; ru_maxrss would carry over the parent's (pytest's)
# peak across fork + exec on Linux
try:
    hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
except (OSError, StopIteration):
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(hwm // 1024)
"""


def _read_in_subprocess(path: Path, **env) -> tuple[str, int]:
    """(the error line, or "read"; peak RSS in MiB) of ``read(path)`` in a fresh process."""
    r = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **env))
    assert r.returncode == 0, r.stderr
    line, peak = r.stdout.strip().splitlines()[-2:]
    return line, int(peak)


def _zip_bomb_docx(path: Path, inflated: int = 64 * 2 ** 20) -> Path:
    """The seed DOCX with one more part: ``inflated`` bytes of zeros (deflates ~1000x)."""
    src = zipfile.ZipFile(need(DOCX))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        with z.open("word/media/image1.png", "w", force_zip64=True) as f:
            chunk = b"\0" * 2 ** 20
            for _ in range(inflated // len(chunk)):
                f.write(chunk)
    return path


def _pdf(path: Path, pages: int, encrypt: str | None = None) -> Path:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), encrypt=encrypt)
    for k in range(pages):
        c.drawString(72, 720, f"Trang {k + 1}: Kế hoạch triển khai nhiệm vụ")
        c.showPage()
    c.save()
    return path


def test_password_protected_pdf_is_one_line(tmp_path):
    p = _pdf(tmp_path / "secret.pdf", 2, encrypt="mat-khau")
    with pytest.raises(IngestError, match=r"secret\.pdf: encrypted PDF: needs a password"):
        read(p)


def test_password_protected_docx_is_told_apart_from_a_legacy_doc(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile
    p = tmp_path / "secret.docx"
    with open(need(DOCX), "rb") as f, open(p, "wb") as out:
        OOXMLFile(f).encrypt("mat-khau", out)
    assert p.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"      # an OLE container, like a .doc
    with pytest.raises(IngestError, match=r"secret\.docx: password-protected Office file"):
        read(p)


def test_zip_bomb_docx_is_refused_from_the_zip_directory_with_bounded_memory(tmp_path):
    p = _zip_bomb_docx(tmp_path / "bomb.docx")
    assert p.stat().st_size < 2 * 2 ** 20
    line, peak = _read_in_subprocess(p)
    assert line.startswith(f"{p}: DOCX part word/media/image1.png inflates") and "zip bomb" in line
    assert peak < RSS_LIMIT_MIB, f"peak RSS {peak} MiB"


def test_docx_with_too_many_zip_entries_is_refused(tmp_path):
    p = tmp_path / "many.docx"
    src = zipfile.ZipFile(need(DOCX))
    with zipfile.ZipFile(p, "w") as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        for k in range(10_001):
            z.writestr(f"word/extra/part{k}.xml", b"")
    with pytest.raises(IngestError, match=r"many\.docx: DOCX has 10\d{3} zip entries"):
        read(p)


def test_pdf_of_2000_pages_is_refused_before_reading_pages(tmp_path):
    p = _pdf(tmp_path / "huge.pdf", 2000)
    line, peak = _read_in_subprocess(p)
    assert line == f"{p}: PDF has 2000 pages, more than the limit of 1500 (set KEHOACH_MAX_PAGES to read it, or split the file)"
    assert peak < RSS_LIMIT_MIB, f"peak RSS {peak} MiB"


def test_page_limit_is_configurable(tmp_path):
    p = _pdf(tmp_path / "five.pdf", 5)
    line, _ = _read_in_subprocess(p, KEHOACH_MAX_PAGES="3")
    assert line == f"{p}: PDF has 5 pages, more than the limit of 3 (set KEHOACH_MAX_PAGES to read it, or split the file)"


def test_batch_goes_on_past_bad_files_with_one_line_each(tmp_path):
    good = need(SEED_TXT)
    bomb = _zip_bomb_docx(tmp_path / "bad.docx", inflated=8 * 2 ** 20)
    page = tmp_path / "menu.html"
    page.write_text("<html><body><nav><a href='/'>Trang chủ</a></nav><p>Không có văn bản.</p></body></html>", "utf-8")
    exe = Path(sys.executable).with_name("kehoach")
    r = subprocess.run([str(exe), "extract", str(good), str(bomb), str(page), "--format", "jsonl"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    records = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert len(records) == 1 and records[0]["tasks"]
    errors = [x for x in r.stderr.splitlines() if x.startswith("kehoach: error:")]
    assert len(errors) == 2
    assert errors[0].startswith(f"kehoach: error: {bomb}: DOCX part")
    assert errors[1].startswith(f"kehoach: error: {page}: no document in the HTML page")
    assert "Traceback" not in r.stderr
    assert "2 of 3 file(s) failed" in r.stderr


def test_docx_reader_refuses_a_bomb_given_as_bytes(tmp_path):
    from kehoach.ingest.docx import read_docx
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b" " * (130 * 2 ** 20))
    with pytest.raises(IngestError, match="bomb|MiB of XML"):
        read_docx(buf.getvalue(), "x.docx", "0")


def test_password_protected_doc_is_one_line(tmp_path):
    """A Word 97-2003 file with the FIB's fEncrypted bit set (what Word writes for a .doc
    with a password) is refused before LibreOffice would stop at a password prompt."""
    import olefile
    from kehoach.ingest.office import soffice
    if soffice() is None:
        pytest.skip("LibreOffice not installed")
    from tests.test_ingest_office import _convert
    doc = _convert(need(DOCX), "doc", tmp_path)
    with olefile.OleFileIO(str(doc), write_mode=True) as ole:
        fib = bytearray(ole.openstream("WordDocument").read())
        fib[11] |= 0x01                                   # flags word at offset 10, bit 8: fEncrypted
        ole.write_stream("WordDocument", bytes(fib))
    with pytest.raises(IngestError, match=rf"{doc.name}: password-protected Office file"):
        read(doc)
