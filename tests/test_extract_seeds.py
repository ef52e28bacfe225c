"""Golden tests: the whole pipeline on the five seed plans, scored by the project's scorer,
and the same plans re-typed as web-portal text (hard-wrapped, '|' letterhead and tables)."""
import json
import re

import pytest

from kehoach.extract import extract
from kehoach.ingest import read
from webstyle import to_web_style


def _run(paths, tmp_path, scorer, gold_dir):
    out = tmp_path / "out.jsonl"
    out.write_text("\n".join(json.dumps(extract(read(p)).to_dict(), ensure_ascii=False) for p in paths), "utf-8")
    summary, detail = scorer.extract_report(str(gold_dir), str(out))
    return summary, detail


def test_seeds_meet_the_issue_targets(seeds, scorer, tmp_path):
    from conftest import GOLD
    s, _ = _run(seeds, tmp_path, scorer, GOLD)
    assert s["overall"] >= 0.93
    assert s["task_f1"] >= 0.90
    assert s["lead_f1"] >= 0.90
    assert s["ref_f1"] >= 0.97
    assert s["ref_issuer_acc"] >= 0.90
    assert s["deadline_acc"] >= 0.9


LETTERHEADS = {"000": ("VĂN PHÒNG UBND TỈNH QUẢNG TRỊ",), "001": ("ỦY BAN NHÂN DÂN", "TỈNH TUYÊN QUANG"),
               "002": ("ỦY BAN NHÂN DÂN", "THÀNH PHỐ TRÀ VINH"), "003": ("UBND TỈNH TÂY NINH", "SỞ XÂY DỰNG"),
               "004": ("ỦY BAN NHÂN DÂN", "TỈNH QUẢNG TRỊ")}


@pytest.mark.parametrize("layout", ["cell", "row"])
def test_web_portal_text_scores_close_to_the_seed_text(seeds, scorer, tmp_path, layout):
    from conftest import GOLD
    base, _ = _run(seeds, tmp_path, scorer, GOLD)
    web = []
    for p in seeds:
        q = tmp_path / p.name
        q.write_text(to_web_style(p.read_text("utf-8"), issuer_lines=LETTERHEADS[p.name[:3]], cells_layout=layout), "utf-8")
        web.append(q)
    s, _ = _run(web, tmp_path, scorer, GOLD)
    assert s["overall"] >= base["overall"] - 0.05
    assert s["task_f1"] >= 0.9
    assert s["ref_f1"] >= 0.97


def test_every_record_traces_back_to_its_words(seeds):
    for p in seeds:
        doc = read(p)
        ex = extract(doc)
        assert ex.tasks, p
        for t in ex.tasks:
            words = doc.text[t.span.start:t.span.end]
            # the span holds the task's words (table rows: the task cell)
            assert re.sub(r"\s+", " ", t.text.split(" - ")[-1])[:25] in re.sub(r"\s+", " ", words) or t.kind == "indicator", (p.name, t.id)
        for r in ex.legal_refs:
            assert r.symbol.replace(" ", "")[:3] in doc.text[r.span.start:r.span.end].replace(" ", ""), (p.name, r.id)
        assert [t.id for t in ex.tasks] == [f"t{i}" for i in range(1, len(ex.tasks) + 1)]


def test_records_follow_the_spec_shape(seeds):
    rec = extract(read(seeds[1])).to_dict()
    assert set(rec) >= {"source", "sha256", "document", "tasks", "legal_refs"}
    assert set(rec["document"]) == {"number", "type", "issuer", "place", "date", "title", "signer"}
    t = rec["tasks"][0]
    assert set(t) >= {"id", "kind", "section", "text", "lead", "support", "deadline", "targets", "legal_refs", "span"}
    assert len(rec["sha256"]) == 64


def _yardstick_webstyle():
    """The shared yardstick's re-layout (eval/webstyle.py, vendored unchanged)."""
    import importlib.util
    from tests.shared import need
    spec = importlib.util.spec_from_file_location("yardstick_webstyle", need("eval/webstyle.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_yardstick_web_layout_without_blank_lines_keeps_the_tables(seeds, scorer, tmp_path, seed):
    """The seeds re-laid by the yardstick's eval/webstyle.py (its cuts for --seed 1 and 2), then with the blank
    lines between paragraphs removed, as some exports give them. No blank line says where a "|" table starts: its
    first header cell ("STT") may stand before its first "|" on a line of its own after the paragraph above
    (004's indicator annex), or the table opens with its own "|" and empty cells are "|" lines in a row (003's
    annex, whose group rows "Chỉ số PCI ..." have four). The reading that puts the row numbers in the first
    column, and the most of them (a reading of two rows as one halves them), is the table: 004 20 -> 32 of 32
    tasks, 003 3 -> 19 of 21. Measured task F1 0.986 / 0.991 (was 0.857 / 0.863). Its cuts for --seed 3 put a
    heading's marker alone on a line ("II." / "NHIỆM VỤ, GIẢI PHÁP") after a wrapped line: a bare marker opens an
    item (``normalize.join_wrapped``), task F1 for seeds 1-5 0.994 / 0.991 / 0.989 / 0.992 / 0.991 (seed 3 was
    0.788: 001's part II read as part of I)."""
    import random
    from conftest import GOLD
    ws = _yardstick_webstyle()
    flat = []
    for p in seeds:
        text = ws.relayout(p.read_text("utf-8"), random.Random(f"{seed}:{p.name}"))
        q = tmp_path / p.name
        q.write_text(re.sub(r"\n\s*\n", "\n", text), "utf-8")
        flat.append(q)
    s, detail = _run(flat, tmp_path, scorer, GOLD)
    assert s["task_f1"] >= 0.97 and s["lead_f1"] >= 0.9
    for annex, share in (("003", 0.9), ("004", 1.0)):
        found, gold = map(int, next(v for k, v in detail.items() if k.startswith(annex))["tasks_found"].split("/"))
        assert found >= share * gold, (annex, found, gold)
