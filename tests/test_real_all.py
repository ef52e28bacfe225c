"""Every real document a user may hand in (real/: portal text, Gazette PDFs, saved portal
pages, signed scans) goes through ``kehoach extract``: none is refused, each gives tasks.

The command runs once a folder group, as a user runs it, on every file there (the vendored
copy holds a subset; ``KEHOACH_SHARED`` points the tests at the full folder)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kehoach.ingest import ocr
from tests.shared import files

ROOT = Path(__file__).resolve().parents[1]      # this checkout's kehoach, not an installed one


def _extract(paths) -> tuple[dict, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "kehoach", "extract", *map(str, paths), "--format", "jsonl"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        out[os.path.basename(d["source"])] = d
    return out, r.stderr


def _check_all(paths) -> dict:
    got, err = _extract(paths)
    refused = sorted(p.name for p in paths if p.name not in got)
    assert not refused, f"refused: {refused}\n{err[-2000:]}"
    no_tasks = sorted(n for n, d in got.items() if not d["tasks"])
    assert not no_tasks, f"no tasks from: {no_tasks}"
    return got


@pytest.mark.slow
def test_every_real_text_pdf_and_html_document_is_extracted_with_tasks():
    paths = files("real/web", "*.txt") + files("real/pdf", "*.pdf") + files("real/html", "*.html")
    got = _check_all(paths)
    assert all(d["document"]["type"] for d in got.values())


@pytest.mark.slow
@pytest.mark.skipif(ocr.available() is not None, reason=f"OCR unavailable: {ocr.available()}")
def test_every_real_scan_is_extracted_with_its_header_and_tasks():
    """The signed scans are Chỉ thị of a provincial People's Committee: OCR'd, each gives its
    kind, its issuer, its signer's post and tasks (numbers and days filled in by hand are
    not asserted: see docs/formats.md)."""
    paths = files("real/scanned", "*.pdf")
    got = _check_all(paths)
    for name, d in got.items():
        doc = d["document"]
        assert doc["type"] == "Chỉ thị", name
        assert (doc["issuer"] or "").startswith("Ủy ban nhân dân tỉnh"), name
        assert doc["signer"] and doc["signer"]["title"] in ("Chủ tịch", "Phó Chủ tịch"), name
        assert doc["date"] and doc["date"][:4].isdigit(), name
        assert len(d["tasks"]) >= 3, name
        assert any(t.get("lead") for t in d["tasks"]), name


@pytest.mark.slow
@pytest.mark.skipif(ocr.available() is not None, reason=f"OCR unavailable: {ocr.available()}")
def test_a_directive_s_numbered_body_headings_own_the_items_below_them():
    """16/CT (a signed scan): "5. Sở Y tế chủ trì, phối hợp thực hiện" heads Sở Y tế's duties a), b), c)."""
    from kehoach.extract import extract
    from kehoach.ingest import read
    path = next(p for p in files("real/scanned", "*.pdf") if p.name.startswith("16CT"))
    tasks = extract(read(path)).tasks
    by_section = {}
    for t in tasks:
        by_section.setdefault(t.section.split(".")[0], []).append(t)
    for sec, body in (("2", "Sở Công Thương"), ("3", "Sở Tài chính"), ("5", "Sở Y tế"), ("12", "Công an tỉnh")):
        assert by_section.get(sec) and all(t.lead == [body] for t in by_section[sec]), (sec, [t.lead for t in by_section.get(sec, [])])
    assert sum(1 for t in tasks if t.lead) >= 0.8 * len(tasks)
