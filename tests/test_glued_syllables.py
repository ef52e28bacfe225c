"""Syllables run together (a portal that drops the space at its HTML's tag boundaries, a PDF text layer
that drops word spaces): ``normalize.split_glued`` splits them again, and leaves every real line alone."""
from __future__ import annotations

import json
import re

import pytest

from kehoach.eval import extract_report
from kehoach.extract import extract
from kehoach.ingest import read
from kehoach.ingest.normalize import clean_inline, split_glued
from tests.shared import files, need


@pytest.mark.parametrize("glued, want", [
    ("Sở Kế hoạchvà Đầu tư", "Sở Kế hoạch và Đầu tư"),        # two vowel runs
    ("căn cứ theoQuyết định", "căn cứ theo Quyết định"),       # and a case change
    ("BANHÀNH KẾ HOẠCH", "BAN HÀNH KẾ HOẠCH"),                # "ban hành" is a word, "banh ành" is not
    ("dịch vụcông trực tuyến", "dịch vụ công trực tuyến"),     # "dịch vụ" beside it decides, not "vục ông"
    ("thực hiện các dựán", "thực hiện các dự án"),             # one vowel run, two tone marks
    ("báo cáoỦy ban nhân dân tỉnh", "báo cáo Ủy ban nhân dân tỉnh"),
    ("giải quyết TTHCtrên địa bàn", "giải quyết TTHC trên địa bàn"),   # an abbreviation run into a word
    ("thực hiệnTTHC", "thực hiện TTHC"),
    ("bảo đảm anninh trật tự", "bảo đảm an ninh trật tự"),      # no Vietnamese letter: a word of the list
    ("tỉnh ÔLoan", "tỉnh Ô Loan"),
    ("trên địa bàn tỉnhĐắkLắk", "trên địa bàn tỉnh Đắk Lắk"),  # the provinces' names join the word list
])
def test_syllables_run_together_are_split(glued, want):
    assert split_glued(glued) == want


@pytest.mark.parametrize("word", ["VNeID", "iPhone", "MobiFone", "eKYC", "COVID-19", "Internet", "Zalo",
                                  "YouTube", "PGS.TS", "ThS. Nguyễn", "Đắk Lắk", "Krông Pắc", "UBND", "email"])
def test_names_abbreviations_and_foreign_words_are_left_alone(word):
    assert split_glued(word) == word


def test_no_line_of_the_real_documents_changes():
    lines = 0
    for p in files("real/web", "*.txt") + files("seeds", "*.txt") + files("real/html", "*.html"):
        for line in p.read_text("utf-8", errors="replace").splitlines():
            line = clean_inline(line)
            assert split_glued(line) == line, (p.name, line)
            lines += 1
    assert lines > 3000


def _glue(text: str, every: int) -> tuple[str, int]:
    """``text`` with every ``every``-th space between two letters dropped, as such a portal drops them."""
    n = joins = 0
    out = []
    for piece in re.split(r"( )", text):
        if piece == " ":
            n += 1
            if n % every == 0 and out and re.search(r"[^\W\d_]$", out[-1]):
                joins += 1
                continue
        out.append(piece)
    return "".join(out), joins


def _scores(paths, out):
    with out.open("w", encoding="utf-8") as f:
        for p in paths:
            f.write(json.dumps(extract(read(p)).to_dict(), ensure_ascii=False) + "\n")
    summary, _ = extract_report(need("eval/gold-real"), out)
    return summary


def test_real_plans_with_dropped_spaces_extract_as_the_originals(tmp_path):
    """Every 7th space of the real web plans dropped (a space before a letter after a letter): the
    records score within 0.02 of the originals' against their gold."""
    web = files("real/web", "*.txt")
    glued_dir = tmp_path / "glued"
    glued_dir.mkdir()
    joins = 0
    for p in web:
        text, n = _glue(p.read_text("utf-8"), 7)
        joins += n
        (glued_dir / p.name).write_text(text, "utf-8")
    assert joins > 2000
    base = _scores(web, tmp_path / "base.jsonl")
    glued = _scores(sorted(glued_dir.glob("*.txt")), tmp_path / "glued.jsonl")
    for key in ("task_f1", "lead_f1", "support_f1", "deadline_accuracy", "title_accuracy", "issuer_accuracy"):
        if key in base:
            assert glued[key] >= base[key] - 0.02, (key, base[key], glued[key])
