"""Legacy .doc, .rtf and .odt through real LibreOffice: the files are made here from the
seeds' DOCX by LibreOffice itself, and must extract like the DOCX they came from."""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kehoach.errors import IngestError
from kehoach.extract import extract
from kehoach.ingest import read
from kehoach.ingest.office import ole_kind, soffice, to_docx
from tests.shared import need

pytestmark = pytest.mark.skipif(soffice() is None, reason="LibreOffice (libreoffice-writer-nogui) not installed: "
                                                           "install.sh installs it")

SEEDS = ("000_32de8ed23e57a435", "002_926d4f9637933ef9")
HEADER_FIELDS = ("number", "type", "issuer", "place", "date", "title", "signer")


def _convert(src: Path, fmt: str, out: Path) -> Path:
    """LibreOffice itself writes the legacy file (its own profile, like the reader's)."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([soffice(), "--headless", "--norestore", f"-env:UserInstallation={(out / 'profile').as_uri()}",
                    "--convert-to", fmt, "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=180, env=dict(os.environ, HOME=str(out)))
    made = out / f"{src.stem}.{fmt}"
    assert made.exists(), f"LibreOffice did not write {made}"
    return made


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """seed -> {"docx": path, "doc": path, ...}, made once for the module."""
    root = tmp_path_factory.mktemp("legacy")
    out = {}
    for stem in SEEDS:
        docx = need(f"corpus/docx/{stem}.docx")
        fmts = ("doc", "odt", "rtf") if stem == SEEDS[0] else ("doc",)
        out[stem] = {"docx": docx, **{f: _convert(docx, f, root / f) for f in fmts}}
    return out


@pytest.mark.parametrize("stem,fmt", [(SEEDS[0], "doc"), (SEEDS[0], "odt"), (SEEDS[0], "rtf"), (SEEDS[1], "doc")])
def test_legacy_file_extracts_like_the_docx_it_was_made_from(legacy, stem, fmt):
    want = extract(read(legacy[stem]["docx"])).to_dict()
    doc = read(legacy[stem][fmt])
    assert doc.format == fmt and doc.meta["converted_by"] == "LibreOffice"
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text
    got = extract(doc).to_dict()
    assert len(got["tasks"]) == len(want["tasks"])
    for f in HEADER_FIELDS:
        assert got["document"][f] == want["document"][f], f
    assert [t["lead"] for t in got["tasks"]] == [t["lead"] for t in want["tasks"]]


def test_doc_is_told_apart_from_an_encrypted_office_file(legacy):
    assert ole_kind(legacy[SEEDS[0]]["doc"].read_bytes()) == "doc"


def test_parallel_conversions_do_not_share_a_profile(legacy):
    files = [legacy[s]["doc"] for s in SEEDS]
    with ThreadPoolExecutor(2) as pool:
        docs = list(pool.map(read, files))
    assert all(d.blocks for d in docs)
    assert docs[0].text != docs[1].text


def test_missing_libreoffice_is_one_clear_line(legacy, monkeypatch):
    monkeypatch.setenv("KEHOACH_SOFFICE", "/nonexistent/soffice")
    path = legacy[SEEDS[0]]["doc"]
    with pytest.raises(IngestError, match=rf"{path.name}: reading \.doc files needs LibreOffice"):
        read(path)


def test_conversion_timeout_kills_libreoffice_and_says_so(legacy, tmp_path):
    data = legacy[SEEDS[0]]["doc"].read_bytes()
    before = set(Path(tempfile_dir()).glob("kehoach-soffice-*"))
    with pytest.raises(IngestError, match=r"old\.doc: LibreOffice did not convert the file within 0\.05 s"):
        to_docx(data, ".doc", "old.doc", timeout=0.05)
    # the temporary folder (input, profile) is gone
    assert set(Path(tempfile_dir()).glob("kehoach-soffice-*")) <= before


def test_garbage_named_rtf_is_one_clear_line_from_libreoffice(tmp_path):
    p = tmp_path / "bad.rtf"
    p.write_bytes(b"{\\rtf1 " + b"\x00\xff" * 50)
    with pytest.raises(IngestError, match="bad.rtf: LibreOffice could not read the file as a document"):
        read(p)


def tempfile_dir() -> str:
    import tempfile
    return tempfile.gettempdir()


def test_soffice_is_found_on_this_machine():
    assert shutil.which(soffice() or "") is not None


@pytest.mark.parametrize("stem", ["000_32de8ed23e57a435", "003_12050e55d6d4d6a9"])
def test_html_written_by_a_word_processor_extracts_like_its_docx(tmp_path, stem):
    """LibreOffice's HTML export of a seed (tables, letterhead table, lists): the HTML
    reader must give the DOCX reader's tasks, owners and header."""
    docx = need(f"corpus/docx/{stem}.docx")
    want = extract(read(docx)).to_dict()
    got = extract(read(_convert(docx, "html", tmp_path))).to_dict()
    assert len(got["tasks"]) == len(want["tasks"])
    for f in HEADER_FIELDS:
        assert got["document"][f] == want["document"][f], f
    assert [t["lead"] for t in got["tasks"]] == [t["lead"] for t in want["tasks"]]
    assert [t["deadline"] for t in got["tasks"]] == [t["deadline"] for t in want["tasks"]]


def test_a_real_plan_as_docx_and_as_its_pdf_keeps_its_table_s_owners_and_deadlines(tmp_path):
    """2820/QĐ-UBND (HCMC; portal text) written as a DOCX, its annex a 9-column table (python-docx), and that
    DOCX printed to PDF by LibreOffice. The narrow columns break words and numbers where the cell's edge falls
    ("phườn" / "g", "Chuyể" / "n", "Quý IV/202" / "5"); the PDF's cells join them again (a line opening with a
    vowel-less fragment or with the digits of a cut date ends the word before it), so the PDF gives the same
    tasks, leads and deadlines as the DOCX and the text (before: 14 of 43 deadlines lost and 30 leads misspelt), a
    row the page break cut whose rest opens with "(" joined again."""
    from docx import Document
    from tests.shared import files, paragraphs_and_tables
    src = next(p for p in files("real/web", "*.txt") if p.name.startswith("2820"))
    d = read(src)
    doc = Document()
    for kind, x in paragraphs_and_tables(d):
        if kind == "p":
            doc.add_paragraph(x)
            continue
        grid = doc.add_table(rows=len(x), cols=max(map(len, x)))
        grid.style = "Table Grid"
        for i, r in enumerate(x):
            for j, c in enumerate(r):
                grid.cell(i, j).text = c
    docx = tmp_path / "2820.docx"
    doc.save(docx)
    pdf = _convert(docx, "pdf", tmp_path / "pdf")
    want = [(t.text, t.lead, t.deadline and t.deadline.text) for t in extract(read(src)).tasks]
    assert [(t.text, t.lead, t.deadline and t.deadline.text) for t in extract(read(docx)).tasks] == want
    got = [(t.text, t.lead, t.deadline and t.deadline.text) for t in extract(read(pdf)).tasks]
    assert got == want
