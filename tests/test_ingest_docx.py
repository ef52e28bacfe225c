"""DOCX reader: files built here with python-docx, the real corpus DOCX, bad input."""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import conftest_formats as F  # noqa: E402
from kehoach.errors import IngestError  # noqa: E402
from kehoach.ingest.docx import read_docx  # noqa: E402

CORPUS = F.SHARED / "corpus" / "docx"
STEMS = [p.stem for p in F.SEEDS]


def _spans_ok(doc) -> None:
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text


def _built():
    text = F.seed_text("003_12050e55d6d4d6a9")
    paras = F.seed_paragraphs(text)[3:9]
    rows = F.seed_table_rows(text)
    header = rows[0]
    body = [r for r in rows[1:] if r[0].isdigit()][:5]
    body[1][3] = "Sở Tư pháp\nSở Nội vụ"          # a cell with two lines
    table = [header] + body
    letterhead = (["UBND TỈNH TÂY NINH", "SỞ XÂY DỰNG", "Số: 12/KH-SXD"],
                  ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                   "Tây Ninh, ngày 5 tháng 8 năm 2021"])
    data = F.make_docx(paras, table, letterhead=letterhead, bullets=["Rà soát thủ tục", "Báo cáo kết quả"],
                       merge_lead_from=3, group_title="Chỉ số PCI (Chỉ số Năng lực cạnh tranh cấp tỉnh)")
    return data, paras, table


def test_built_docx_order_letterhead_table_and_lists():
    data, paras, table = _built()
    doc = read_docx(data, "built.docx", "0" * 64)
    _spans_ok(doc)
    texts = [b.text for b in doc.blocks]
    # letterhead: paragraphs, left column then right column, not a table
    assert texts[:6] == ["UBND TỈNH TÂY NINH", "SỞ XÂY DỰNG", "Số: 12/KH-SXD", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                         "Độc lập - Tự do - Hạnh phúc", "Tây Ninh, ngày 5 tháng 8 năm 2021"]
    assert all(b.kind == "para" for b in doc.blocks[:6])
    # body paragraphs in order, diacritics intact
    for p in paras:
        assert p in texts
    # Word numbering rendered as markers, with the list level
    numbered = [b for b in doc.blocks if b.level is not None]
    assert [b.text for b in numbered] == ["1. Rà soát thủ tục", "2. Báo cáo kết quả"]
    assert all(b.level == 0 for b in numbered)
    # the table comes after the list (body order) with its header, group title and merged cells
    assert len(doc.tables) == 1
    t = doc.tables[0]
    assert t.header == table[0]
    first_row = min(i for i, b in enumerate(doc.blocks) if b.kind == "row")
    assert first_row > texts.index("2. Báo cáo kết quả")
    rows = [doc.blocks[i] for i in t.rows]
    assert rows[0].cells[0].startswith("Chỉ số PCI") and not any(rows[0].cells[1:])
    body = rows[1:]
    assert [r.cells[0] for r in body] == [r[0] for r in table[1:]]
    assert [r.cells[1] for r in body] == [r[1] for r in table[1:]]
    # the lead column is merged from the 2nd body row down: every merged cell inherits its value
    assert body[0].cells[2] == table[1][2]
    assert all(r.cells[2] == table[2][2] for r in body[1:])
    # a cell with two paragraphs keeps them as lines; the row text has them on one line
    assert body[1].cells[3] == "Sở Tư pháp\nSở Nội vụ"
    assert "Sở Tư pháp Sở Nội vụ" in body[1].text


@pytest.mark.parametrize("stem", STEMS)
def test_corpus_docx_has_every_seed_paragraph(stem):
    path = CORPUS / f"{stem}.docx"
    doc = read_docx(path.read_bytes(), str(path), "x")
    _spans_ok(doc)
    # a seed paragraph is a block, or a piece of one (the seed cut paragraphs at page breaks)
    blocks = [b.text for b in doc.blocks if b.kind == "para"]
    missing = [p for p in F.seed_paragraphs(F.seed_text(stem)) if not any(p in b for b in blocks)]
    assert not missing, missing[:3]
    assert doc.pages is None or doc.pages >= 1


@pytest.mark.parametrize("stem,ntables,width", [("003_12050e55d6d4d6a9", 1, 5), ("004_5709e56b5db05d79", 2, 6)])
def test_corpus_docx_tables_match_seed(stem, ntables, width):
    path = CORPUS / f"{stem}.docx"
    doc = read_docx(path.read_bytes(), str(path), "x")
    assert len(doc.tables) == ntables
    got = [doc.blocks[i].cells for t in doc.tables for i in t.rows]
    assert all(len(c) == width for c in got)
    seed = [r for r in F.seed_table_rows(F.seed_text(stem))[1:] if r != F.seed_table_rows(F.seed_text(stem))[0]]
    numbered = [r for r in seed if r[0]]
    # every numbered seed row is a row here with the same number and a text that starts alike
    keys = [(c[0], c[1][:40]) for c in got]
    for r in numbered:
        assert (r[0], r[1][:40]) in keys or any(k[0] == r[0] and k[1].startswith(r[1][:20]) for k in keys), r[:2]


def test_corpus_003_lead_cells_never_empty():
    path = CORPUS / "003_12050e55d6d4d6a9.docx"
    doc = read_docx(path.read_bytes(), str(path), "x")
    for i in doc.tables[0].rows:
        cells = doc.blocks[i].cells
        if cells[0].isdigit():
            assert cells[2], cells   # "Đơn vị chủ trì" inherited from the merged cell


def test_corpus_signature_read_as_paragraphs():
    path = CORPUS / "002_926d4f9637933ef9.docx"
    doc = read_docx(path.read_bytes(), str(path), "x")
    texts = [b.text for b in doc.blocks]
    i = texts.index("Nơi nhận:")
    assert doc.blocks[i].kind == "para"
    assert texts.index("KT. CHỦ TỊCH") > i and texts.index("PHÓ CHỦ TỊCH") == texts.index("KT. CHỦ TỊCH") + 1


@pytest.mark.parametrize("data,reason", [
    (b"", "empty file"),
    (b"PK\x03\x04garbage that is not a zip", "not a valid DOCX"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "OLE container"),
    (b"just some text", "not a valid DOCX"),
])
def test_bad_docx(data, reason):
    with pytest.raises(IngestError) as e:
        read_docx(data, "bad.docx", "x")
    assert reason in str(e.value) and "bad.docx" in str(e.value)
    assert "\n" not in str(e.value)


def test_zip_that_is_not_a_docx():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "xin chào")
    with pytest.raises(IngestError, match="not a valid DOCX"):
        read_docx(buf.getvalue(), "notdocx.docx", "x")


def test_truncated_docx():
    data, _, _ = _built()
    with pytest.raises(IngestError, match="truncated.docx: not a valid DOCX"):
        read_docx(data[: len(data) // 2], "truncated.docx", "x")
