"""Bad input stays clean: password-protected PDF and DOCX, zip bombs, a 2,000-page PDF,
a page with no document. Each is one line naming the file and the reason, the batch
goes on, and the peak memory of the process that meets it stays bounded. The bad files
are made here, with the libraries that make such files in the wild."""
from __future__ import annotations

import io
import re
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kehoach.errors import IngestError
from kehoach.ingest import read
from tests import bad_inputs as B
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


def test_a_pdf_with_no_page_read_after_an_encrypted_one_is_not_called_encrypted(tmp_path):
    """PDFium sets no error for a PDF with no page: its error is the previous document's."""
    with pytest.raises(IngestError, match="encrypted PDF"):
        read(B.pdf_encrypted(tmp_path))
    with pytest.raises(IngestError, match=r"zero-pages\.pdf: corrupt PDF \(no page, or a structure PDFium cannot load\)$"):
        read(B.pdf_zero_pages(tmp_path))


def test_utf16_without_a_bom_is_told_from_binary_by_its_nul_bytes(tmp_path):
    from kehoach.ingest.text import utf16_order
    text = need(SEED_TXT).read_text("utf-8")
    assert utf16_order(text.encode("utf-16-le")) == "utf-16-le"
    assert utf16_order(text.encode("utf-16-be")) == "utf-16-be"
    assert read(B._w(tmp_path, "be.txt", text.encode("utf-16-be"))).text == read(need(SEED_TXT)).text
    for data in (B.txt_binary(tmp_path).read_bytes(), B.txt_gzip(tmp_path).read_bytes(),
                 B.txt_nul_bytes(tmp_path).read_bytes(), text.encode("utf-8")):
        assert utf16_order(data) is None


def test_text_limits_are_configurable_and_name_the_file_and_the_limit(tmp_path):
    p = B._w(tmp_path, "two-mb.txt", "Nhiệm vụ triển khai kế hoạch.\n" * 70_000)
    line, _ = _read_in_subprocess(p, KEHOACH_MAX_TEXT_MB="1")
    assert line == (f"{p}: text of 2.7 MiB is over the limit of 1 MiB for a text file (a plan is some tens of kB; "
                    "set KEHOACH_MAX_TEXT_MB to read it)")
    p = B._w(tmp_path, "long.txt", "Kế hoạch\n" + "x" * 5000 + "\n")
    line, _ = _read_in_subprocess(p, KEHOACH_MAX_LINE_CHARS="4000")
    assert line == (f"{p}: line 2 has 5,000 characters, over the limit of 4,000 a line (not a plan's text; "
                    "set KEHOACH_MAX_LINE_CHARS to read it)")


def test_a_26_mb_one_line_text_is_refused_at_once_with_bounded_memory(tmp_path):
    import time
    p = B._w(tmp_path, "one-line-26mb.txt", "nhiệm vụ " * 2_000_000)
    t = time.perf_counter()
    line, peak = _read_in_subprocess(p)
    assert line.startswith(f"{p}: text of ") and "KEHOACH_MAX_TEXT_MB" in line
    assert time.perf_counter() - t < 20 and peak < RSS_LIMIT_MIB, (time.perf_counter() - t, peak)


def test_image_pixel_limit_is_checked_from_the_header_before_decoding(tmp_path):
    p = B.png_bomb(tmp_path)
    line, peak = _read_in_subprocess(p)
    assert line.startswith(f"{p}: image (400 megapixels) is over the limit of 89 megapixels"), line
    assert peak < RSS_LIMIT_MIB, f"peak RSS {peak} MiB"
    from PIL import Image
    q = tmp_path / "big.png"
    Image.new("L", (5000, 4000), 255).save(q)            # 20 megapixels: under Pillow's own limits
    line, _ = _read_in_subprocess(q, KEHOACH_MAX_IMAGE_PIXELS="10000000")
    assert line == (f"{q}: PNG image of 5000x4000 pixels (20 megapixels) is over the limit of 10 megapixels "
                    "(a decompression bomb, not a page; set KEHOACH_MAX_IMAGE_PIXELS to read it)")


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


# --------------------------------------------------------------------------- the table
# Each row: a bad input made by ``tests/bad_inputs.py``, the batch it runs in (its exit status) and
# the reason its one stderr line gives. Three ``kehoach add`` runs hold the rows (a process start
# costs seconds): "failed" rows exit 1, "not a plan" rows exit 3, "stored" rows are read (exit 0).
# Each batch also holds good plans, which must be stored; each batch's peak RSS stays under
# TABLE_RSS_MIB (measured in a fresh parent process with RUSAGE_CHILDREN).

from kehoach.errors import printable  # noqa: E402

FAILED, NOT_PLAN, STORED = 1, 3, 0
NOT_A_PLAN = r"not a plan: no document type, number or date line, no task and no cited document \(add it with --accept-any"
TABLE = [
    # PDF
    (B.pdf_truncated, FAILED, r"corrupt PDF \("),
    (B.pdf_garbage_after_header, FAILED, r"corrupt PDF \("),
    (B.pdf_encrypted, FAILED, r"encrypted PDF: needs a password"),
    (B.pdf_zero_pages, FAILED, r"^corrupt PDF \(no page, or a structure PDFium cannot load\)$"),
    (B.pdf_2000_pages, FAILED, r"PDF has 2000 pages, more than the limit of 1500 \(set KEHOACH_MAX_PAGES"),
    (B.pdf_image_only_huge, FAILED, r"^scanned PDF: OCR found no text$"),
    (B.png_renamed_pdf, FAILED, r"^PNG image: OCR found no text$"),                    # read by its content
    (B.docx_renamed_pdf, FAILED, r"corrupt PDF \(no %PDF header\)"),
    # DOCX and other zips
    (B.docx_truncated, FAILED, r"not a valid DOCX file \(not a zip archive\)"),
    (B.docx_garbage, FAILED, r"not a valid DOCX file \(not a zip archive\)"),
    (B.docx_encrypted, FAILED, r"password-protected Office file: remove the password"),
    (B.docx_zip_bomb, FAILED, r"DOCX part word/media/image1\.png inflates \d+x \(limit \d+x\): a zip bomb"),
    (B.docx_million_paragraphs, FAILED, r"DOCX part word/document\.xml inflates \d+x .*zip bomb|MiB of XML"),
    (B.docx_many_entries, FAILED, r"DOCX has 10\d{3} zip entries \(limit 10000\)"),
    (B.docx_no_document_xml, FAILED, r"not a valid DOCX file .*word/document\.xml"),
    (B.docx_malformed_xml, FAILED, r"not a valid DOCX file \("),
    (B.docx_billion_laughs, FAILED, r"not a valid DOCX file \(Entity .* not defined"),   # never expanded
    (B.docx_external_entity, FAILED, r"no text found"),                               # never resolved
    (B.odt_renamed_docx, FAILED, r"not a valid DOCX file \(no \[Content_Types\]\.xml"),
    (B.xlsx_file, FAILED, r"^an Excel workbook \(\.xlsx\), not a Word document \(save it as \.docx or \.pdf"),
    (B.pptx_file, FAILED, r"^a PowerPoint presentation \(\.pptx\), not a Word document"),
    (B.doc_unopenable, FAILED, r"^damaged Word 97-2003 file: its OLE container cannot be read \(open it in Word"),
    # images, web archives
    (B.png_image, FAILED, r"^PNG image: OCR found no text$"),
    (B.jpeg_truncated, FAILED, r"^damaged JPEG image \(image file is truncated"),
    (B.png_bomb, FAILED, r"^image \(400 megapixels\) is over the limit of 89 megapixels \(a decompression bomb"),
    (B.mhtml_without_html, FAILED, r"^web archive without an HTML page in it$"),
    # HTML, text
    (B.html_no_document, FAILED, r"no document in the HTML page \(only \d+ characters"),
    (B.html_deep_nesting, FAILED, r"no document in the HTML page"),
    (B.txt_binary, FAILED, r"binary file, not text"),
    (B.txt_gzip, FAILED, r"binary file, not text"),
    (B.txt_nul_bytes, FAILED, r"binary file, not text \(NUL bytes\)"),
    (B.txt_huge, FAILED, r"^text of 30\.5 MiB is over the limit of 16 MiB for a text file .*KEHOACH_MAX_TEXT_MB"),
    (B.txt_long_line, FAILED, r"^line 1 has 1,800,000 characters, over the limit of 1,000,000 a line .*"
                              r"KEHOACH_MAX_LINE_CHARS"),
    (B.txt_empty, FAILED, r"^empty file$"),
    (B.txt_whitespace, FAILED, r"^no text found$"),
    (B.too_large, FAILED, r"file too large \(300 MiB > 200 MiB\)"),
    # names that are no file
    (B.fifo, FAILED, r"not a regular file \(a FIFO \(named pipe\)\)"),
    (B.char_device, FAILED, r"not a regular file \(a character device\)"),
    (B.dir_named_pdf, FAILED, r"folder holds no file to add"),
    (B.broken_symlink, FAILED, r"broken symbolic link \(to .*nowhere\.txt\)"),
    (B.symlink_loop, FAILED, r"^symbolic link loop$"),
    (B.missing_file, FAILED, r"^no such file$"),
    (B.glob_no_match, FAILED, r"^no file matches$"),
    # read, but no plan in them
    (B.txt_lorem, NOT_PLAN, NOT_A_PLAN),
    (B.pdf_renamed_docx, NOT_PLAN, NOT_A_PLAN),           # read by its content, not its name
    (B.doc_plain_garbage, NOT_PLAN, NOT_A_PLAN),          # LibreOffice reads random bytes as text
    (B.name_with_newline, NOT_PLAN, NOT_A_PLAN),          # the name printed with \n: still one line
    # odd but good: stored
    (B.txt_utf16_bom, STORED, None),
    (B.txt_cp1258, STORED, None),
    (B.txt_tcvn3, STORED, None),
    (B.name_with_bidi_override, STORED, None),
    (B.txt_utf16_no_bom, STORED, None),                   # told by its NUL bytes in alternate positions
    (B.png_of_a_scan_page, STORED, None),                 # OCR'd like a scanned PDF page
    (B.mhtml_cp1258, STORED, None),                       # quoted-printable, Windows-1258
    (B.htm_cp1258_meta, STORED, None),                    # the charset only in <meta>
    (B.txt_holding_html, STORED, None),                   # read as the HTML it is
    (B.rtf_file, STORED, None),
    (B.odt_file, STORED, None),
    (B.docx_only_table, STORED, None),                    # no header: its rows are tasks
    (B.pdf_with_javascript, STORED, None),                # the OpenAction is never run
]
GOOD = {FAILED: ["seeds/001_4224283dfe2b5ee5.txt", "seeds/002_926d4f9637933ef9.txt"],
        NOT_PLAN: ["seeds/003_12050e55d6d4d6a9.txt"], STORED: ["seeds/004_5709e56b5db05d79.txt"]}
# Peak RSS of the processes of one `kehoach add` batch (RUSAGE_CHILDREN: the largest of kehoach and
# the converters it waits for). Measured: kehoach itself peaks at ~190 MiB over the whole "failed"
# batch (~70 MiB for a seed alone; the 36-megapixel page adds ~100 MiB in OCR), LibreOffice run on
# the broken .doc at ~410 MiB on its own. A bad input read whole (the bomb's 64 MiB part, the
# 2,000 pages, a 26 MB one-line text: 513 MiB) would pass the ceiling.
TABLE_RSS_MIB = 600

_RSS = ("import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(r.stderr)\n"
        "print('EXIT', r.returncode, 'RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n")


@pytest.fixture(scope="module")
def table_runs(tmp_path_factory):
    """exit status -> (exit status, stderr lines, peak RSS MiB, {maker name: given path}, stored sources)."""
    out = {}
    for code in (FAILED, NOT_PLAN, STORED):
        d = tmp_path_factory.mktemp(f"bad{code}")
        given = {fn.__name__: str(fn(d)) for fn, c, _ in TABLE if c == code}
        good = [str(need(g)) for g in GOOD[code]]
        home = d / "H"
        r = subprocess.run([sys.executable, "-c", _RSS, sys.executable, "-m", "kehoach", "--home", str(home),
                            "add", "--no-index", "-q", *given.values(), *good],
                           capture_output=True, text=True, timeout=900)
        *lines, last = r.stdout.splitlines()
        _, status, _, rss = last.split()
        listed = subprocess.run([sys.executable, "-m", "kehoach", "--home", str(home), "list", "--format", "json"],
                                capture_output=True, text=True, timeout=300)
        stored = {p["source"] for p in json.loads(listed.stdout)}
        out[code] = (int(status), lines, int(rss), given, stored, good)
    return out


def test_the_table_has_forty_rows_or_more():
    assert len(TABLE) >= 40 and len({fn.__name__ for fn, _, _ in TABLE}) == len(TABLE)


# rows whose message is wrong today, with the fix described in docs/reliability.md (strict: a fix
# makes the row pass and the mark must go)
KNOWN: dict[str, str] = {}


def _rows():
    for fn, code, reason in TABLE:
        marks = [pytest.mark.xfail(reason=KNOWN[fn.__name__], strict=True)] if fn.__name__ in KNOWN else []
        yield pytest.param(fn, code, reason, id=fn.__name__, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("maker,code,reason", list(_rows()))
def test_bad_input_row(table_runs, maker, code, reason):
    status, lines, rss, given, stored, good = table_runs[code]
    path = given[maker.__name__]
    assert status == code, lines
    mine = [ln for ln in lines if ln.startswith(f"kehoach: {printable(path)}: ")]
    if reason is None:
        assert mine == [] and path in stored
    else:
        assert len(mine) == 1, (path, lines)
        why = mine[0][len(f"kehoach: {printable(path)}: "):]
        assert re.search(reason, why), why
        assert path not in stored
    assert set(good) <= stored                                # the good files of the batch are stored
    assert rss < TABLE_RSS_MIB, f"peak RSS {rss} MiB"
    assert not any("Traceback" in ln for ln in lines)
